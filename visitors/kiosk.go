package visitors

// The lobby kiosk: a paired kiosk of kind lobby acts for its own site only
// (the principal's SiteID, set by kiosk.Devices.Authenticate). Visitors
// check in by their invite QR code or by name, walk-ins pick their host
// from a directory that shows names only, every current policy document
// must be accepted first, and a watchlist match is never checked in: the
// kiosk says "please see reception" and reception is told (visitor.flagged).

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/booking"
	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/floorplans"
	"github.com/perch-hq/perch/users"
)

// Acceptance is a visitor's acceptance of one version of a document.
type Acceptance struct {
	DocumentID string `json:"document_id"`
	Version    int    `json:"version"`
}

// KioskResult is what the kiosk shows after a check-in, walk-in or
// check-out. A watchlist match is the neutral result "see_reception" with
// no visit.
type KioskResult struct {
	Result  string      `json:"result"` // checked_in, already_checked_in, checked_out, see_reception
	Message string      `json:"message"`
	Visit   *KioskVisit `json:"visit,omitempty"`
}

// KioskVisit is what a kiosk may show of a visit.
type KioskVisit struct {
	ID       string `json:"id"`
	Name     string `json:"name"` // first name and last initial
	Company  string `json:"company"`
	HostName string `json:"host_name"`
	BadgeURL string `json:"badge_url,omitempty"`
}

const seeReception = "Please see reception; they will help you in a moment."

// NormalizeCode accepts a scanned invite or badge code: the bare code, or
// a URL ending in it (…/v/<code>).
func NormalizeCode(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		s = s[i+1:]
	}
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	return strings.ToLower(s)
}

func kioskVisit(r *visitRow) *KioskVisit {
	return &KioskVisit{ID: r.ID, Name: ShortName(r.VisitorName), Company: r.VisitorCompany, HostName: r.HostName,
		BadgeURL: "/api/v1/visits/" + r.ID + "/badge"}
}

// CheckInByCode checks in the visitor whose invite code the kiosk scanned.
func (s *Service) CheckInByCode(ctx context.Context, p *users.Principal, code string, accepted []Acceptance) (*KioskResult, error) {
	siteID, err := lobbySite(p)
	if err != nil {
		return nil, err
	}
	code = NormalizeCode(code)
	if code == "" {
		return nil, perch.Invalid("code", "code is required: the code of the invitation's QR")
	}
	notValid := perch.Errorf(perch.ENOTFOUND, "This invitation code is not valid here; please see reception.")
	if !floorplans.ValidQRCode(code) {
		return nil, notValid
	}
	return s.kioskCheckIn(ctx, siteID, accepted, func(tx *gorm.DB) (string, error) {
		var ids []string
		if err := tx.Raw("SELECT id FROM visits WHERE invite_code = ? AND site_id = ?", code, siteID).Scan(&ids).Error; err != nil {
			return "", err
		}
		if len(ids) == 0 {
			return "", notValid
		}
		return ids[0], nil
	})
}

// CheckInByID checks in an expected visitor the kiosk found by name.
func (s *Service) CheckInByID(ctx context.Context, p *users.Principal, id string, accepted []Acceptance) (*KioskResult, error) {
	siteID, err := lobbySite(p)
	if err != nil {
		return nil, err
	}
	return s.kioskCheckIn(ctx, siteID, accepted, func(tx *gorm.DB) (string, error) { return id, nil })
}

func (s *Service) kioskCheckIn(ctx context.Context, siteID string, accepted []Acceptance, find func(tx *gorm.DB) (string, error)) (*KioskResult, error) {
	var res *KioskResult
	err := s.eventTx(ctx, func(tx *gorm.DB) error {
		id, err := find(tx)
		if err != nil {
			return err
		}
		row, err := s.load(tx, id, true)
		if err != nil {
			return err
		}
		if row.SiteID != siteID {
			return errVisitNotFound
		}
		res, err = s.checkIn(tx, row, accepted, false)
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// checkIn checks an expected visit in (the row is locked): the watchlist
// first, then the documents, then the check-in and the host's event. With
// byReception, reception has decided: a flagged visit may be checked in and
// the watchlist is not consulted.
func (s *Service) checkIn(tx *gorm.DB, row *visitRow, accepted []Acceptance, byReception bool) (*KioskResult, error) {
	now := s.clock()
	switch {
	case row.Status == StatusCheckedIn:
		return &KioskResult{Result: "already_checked_in", Message: "You are already checked in. Welcome!", Visit: kioskVisit(row)}, nil
	case row.Status == StatusFlagged && !byReception:
		return &KioskResult{Result: "see_reception", Message: seeReception}, nil
	case row.Status == StatusExpected, row.Status == StatusFlagged:
	default:
		return nil, perch.Errorf(perch.ECONFLICT, "This visit is %s; please see reception.", row.Status)
	}
	loc := loadLocation(row.Timezone)
	if booking.DateOf(row.ExpectedAt.In(loc)) != booking.DateOf(now.In(loc)) {
		return nil, perch.Errorf(perch.ECONFLICT, "This invitation is for %s; please see reception.", row.ExpectedAt.In(loc).Format("Monday, 2 January"))
	}
	v := &row.Visit
	// The watchlist: a match is flagged to reception and not checked in.
	entry := ""
	if !byReception {
		var err error
		if entry, err = watchMatch(tx, v.VisitorName, v.VisitorEmail); err != nil {
			return nil, err
		}
	}
	if entry != "" {
		if err := tx.Model(&Visit{}).Where("id = ?", v.ID).Updates(map[string]any{
			"status": StatusFlagged, "flagged_at": now, "watchlist_entry_id": entry,
			"version": gorm.Expr("version + 1"), "updated_at": now,
		}).Error; err != nil {
			return nil, err
		}
		if err := writeEvent(tx, EventFlagged, v, now, flaggedPayload{
			VisitID: v.ID, SiteID: v.SiteID, Visitor: v.VisitorName, Company: v.VisitorCompany,
			HostName: row.HostName, FlaggedAt: now,
		}, false); err != nil {
			return nil, err
		}
		return &KioskResult{Result: "see_reception", Message: seeReception}, nil
	}
	if err := requireDocuments(tx, v.SiteID, accepted); err != nil {
		return nil, err
	}
	for _, a := range accepted {
		if err := tx.Exec(`INSERT INTO visit_acceptances (visit_id, document_id, version, accepted_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (visit_id, document_id) DO UPDATE SET version = excluded.version, accepted_at = excluded.accepted_at`,
			v.ID, a.DocumentID, a.Version, now).Error; err != nil {
			return nil, err
		}
	}
	badge := floorplans.NewQRCode()
	res := tx.Model(&Visit{}).Where("id = ? AND status = ?", v.ID, v.Status).Updates(map[string]any{
		"status": StatusCheckedIn, "checked_in_at": now, "badge_code": badge,
		"version": gorm.Expr("version + 1"), "updated_at": now,
	})
	if res.Error != nil {
		return nil, res.Error
	}
	if err := writeEvent(tx, EventArrived, v, now, arrivedPayload{
		VisitID: v.ID, Visitor: v.VisitorName, Company: v.VisitorCompany, SiteID: v.SiteID, HostID: v.HostID, CheckedInAt: now,
	}, true); err != nil {
		return nil, err
	}
	return &KioskResult{Result: "checked_in", Message: "Welcome! " + row.HostName + " knows you are here.", Visit: kioskVisit(row)}, nil
}

type flaggedPayload struct {
	VisitID   string    `json:"visit_id"`
	SiteID    string    `json:"site_id"`
	Visitor   string    `json:"visitor"`
	Company   string    `json:"company"`
	HostName  string    `json:"host_name"`
	FlaggedAt time.Time `json:"flagged_at"`
}

// requireDocuments: every current document of the site accepted in its
// current version.
func requireDocuments(tx *gorm.DB, siteID string, accepted []Acceptance) error {
	for i, a := range accepted {
		if !database.ValidID(a.DocumentID) {
			return perch.Invalid("accepted["+itoa(i)+"].document_id", "document_id is not a valid id")
		}
	}
	docs, err := currentDocuments(tx, siteID)
	if err != nil {
		return err
	}
	got := map[string]int{}
	for _, a := range accepted {
		got[a.DocumentID] = a.Version
	}
	var missing []map[string]any
	for _, d := range docs {
		if got[d.DocumentID] != d.Version {
			missing = append(missing, map[string]any{"document_id": d.DocumentID, "title": d.Title, "version": d.Version})
		}
		delete(got, d.DocumentID)
	}
	if len(missing) > 0 {
		return &perch.Error{Code: EDocumentsRequired, Field: "accepted",
			Message: "Please read and accept the site's current documents before checking in.",
			Details: map[string]any{"documents": missing}}
	}
	if len(got) > 0 {
		return perch.Invalid("accepted", "accepted names a document that is not a current document of this site")
	}
	return nil
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}

// ExpectedVisitor is a line of the kiosk's name search.
type ExpectedVisitor struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"` // first name and last initial
	Company    string    `json:"company"`
	ExpectedAt time.Time `json:"expected_at"`
}

// Expected lists today's (site time) expected visitors whose name or
// company contains q, case-insensitively; at most 20.
func (s *Service) Expected(ctx context.Context, p *users.Principal, q string) ([]ExpectedVisitor, error) {
	siteID, err := lobbySite(p)
	if err != nil {
		return nil, err
	}
	q = nameKey(q)
	if len([]rune(q)) < 2 {
		return nil, perch.Invalid("q", "q must have at least 2 characters of the visitor's name or company")
	}
	if len(q) > 100 {
		return nil, perch.Invalid("q", "q must be at most 100 characters")
	}
	conn := s.db.Conn(ctx)
	_, loc, err := s.site(conn, siteID)
	if err != nil {
		return nil, err
	}
	today := booking.DateOf(s.clock().In(loc))
	var rows []struct {
		ID             string
		VisitorName    string
		VisitorCompany string
		ExpectedAt     time.Time
	}
	err = conn.Raw(`SELECT id, visitor_name, visitor_company, expected_at FROM visits
		WHERE site_id = ? AND expected_at >= ? AND expected_at < ? AND status = 'expected' AND search_text LIKE ? ESCAPE '\'
		ORDER BY expected_at, id LIMIT 20`,
		siteID, today.In(loc), today.AddDays(1).In(loc), "%"+escapeLike(q)+"%").Scan(&rows).Error
	if err != nil {
		return nil, database.Translate(err)
	}
	out := make([]ExpectedVisitor, len(rows))
	for i, r := range rows {
		out[i] = ExpectedVisitor{ID: r.ID, Name: ShortName(r.VisitorName), Company: r.VisitorCompany, ExpectedAt: r.ExpectedAt.UTC()}
	}
	return out, nil
}

// Host is a line of the kiosk's host directory: a name, nothing else.
type Host struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Hosts searches people (not devices) whose name or a word of it starts
// with q; at most 20.
func (s *Service) Hosts(ctx context.Context, p *users.Principal, q string) ([]Host, error) {
	if _, err := lobbySite(p); err != nil {
		return nil, err
	}
	q = strings.ToLower(strings.TrimSpace(q))
	if len([]rune(q)) < 2 {
		return nil, perch.Invalid("q", "q must have at least 2 characters of the host's name")
	}
	if len(q) > 100 {
		return nil, perch.Invalid("q", "q must be at most 100 characters")
	}
	like := escapeLike(q)
	var out []Host
	err := s.db.Conn(ctx).Raw(`SELECT id, name FROM users
		WHERE role IN ('admin', 'employee', 'reception') AND (LOWER(name) LIKE ? ESCAPE '\' OR LOWER(name) LIKE ? ESCAPE '\')
		ORDER BY name, id LIMIT 20`, like+"%", "% "+like+"%").Scan(&out).Error
	if err != nil {
		return nil, database.Translate(err)
	}
	if out == nil {
		out = []Host{}
	}
	return out, nil
}

// WalkInRequest registers a visitor who arrived unannounced.
type WalkInRequest struct {
	Visitor  Visitor
	HostID   string
	Accepted []Acceptance
}

// WalkIn registers a walk-in at the kiosk's site and checks them in, in
// one transaction (the watchlist and the documents apply as for anyone).
func (s *Service) WalkIn(ctx context.Context, p *users.Principal, r WalkInRequest) (*KioskResult, error) {
	siteID, err := lobbySite(p)
	if err != nil {
		return nil, err
	}
	r.Visitor.Normalize()
	if err := r.Visitor.Validate(false); err != nil {
		return nil, err
	}
	if r.HostID == "" {
		return nil, perch.Invalid("host_id", "host_id is required: whom the visitor is here to see")
	}
	now := s.clock()
	var res *KioskResult
	err = s.eventTx(ctx, func(tx *gorm.DB) error {
		if _, err := host(tx, "host_id", r.HostID); err != nil {
			return err
		}
		// The documents before anything is written — unless the watchlist
		// matches, which reception hears of whatever the documents say.
		entry, err := watchMatch(tx, r.Visitor.Name, r.Visitor.Email)
		if err != nil {
			return err
		}
		if entry == "" {
			if err := requireDocuments(tx, siteID, r.Accepted); err != nil {
				return err
			}
		}
		v := &Visit{
			ID: database.NewID(), SiteID: siteID, HostID: r.HostID, Status: StatusExpected, ExpectedAt: now.Truncate(time.Second),
			WalkIn: true, VisitorName: r.Visitor.Name, VisitorEmail: r.Visitor.Email, VisitorCompany: r.Visitor.Company,
			VisitorPhone: r.Visitor.Phone, SearchText: searchText(r.Visitor), InviteCode: floorplans.NewQRCode(),
			Version: 1, CreatedAt: now, UpdatedAt: now,
		}
		if p.UserID != "" {
			v.CreatedBy = &p.UserID
		}
		if err := tx.Create(v).Error; err != nil {
			return err
		}
		row, err := s.load(tx, v.ID, false)
		if err != nil {
			return err
		}
		res, err = s.checkIn(tx, row, r.Accepted, false)
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// CheckOutByBadge checks out the visitor whose badge the kiosk scanned.
func (s *Service) CheckOutByBadge(ctx context.Context, p *users.Principal, code string) (*KioskResult, error) {
	siteID, err := lobbySite(p)
	if err != nil {
		return nil, err
	}
	code = NormalizeCode(code)
	if code == "" {
		return nil, perch.Invalid("code", "code is required: the code on the visitor's badge")
	}
	notValid := perch.Errorf(perch.ENOTFOUND, "This badge is not valid here; please see reception.")
	if !floorplans.ValidQRCode(code) {
		return nil, notValid
	}
	var res *KioskResult
	err = s.eventTx(ctx, func(tx *gorm.DB) error {
		var ids []string
		if err := tx.Raw("SELECT id FROM visits WHERE badge_code = ? AND site_id = ?", code, siteID).Scan(&ids).Error; err != nil {
			return err
		}
		if len(ids) == 0 {
			return notValid
		}
		row, err := s.load(tx, ids[0], true)
		if err != nil {
			return err
		}
		if err := s.checkOut(tx, &row.Visit, CheckoutKiosk); err != nil {
			return err
		}
		res = &KioskResult{Result: "checked_out", Message: "Goodbye, and thank you for visiting!", Visit: kioskVisit(row)}
		res.Visit.BadgeURL = ""
		return nil
	})
	return res, err
}

// KioskDocuments lists the current version of each policy document of the
// kiosk's site, to show and accept before check-in.
func (s *Service) KioskDocuments(ctx context.Context, p *users.Principal) ([]DocumentVersion, error) {
	siteID, err := lobbySite(p)
	if err != nil {
		return nil, err
	}
	return currentDocuments(s.db.Conn(ctx), siteID)
}
