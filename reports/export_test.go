package reports

// WithoutCells makes the service compute every report live from
// check-ins (the reference the rollup tests compare with).
func WithoutCells() Option { return func(s *Service) { s.live = true } }
