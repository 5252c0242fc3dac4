package visitors

// Retention and the rights of a visitor: after a site's retention period a
// visit's personal data is blanked (the row stays, so counts by site, host,
// time and status survive); one person's records can be exported or erased
// by email. The worker also checks out visitors still checked in after
// their site's local day ended.

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/booking"
	"github.com/perch-hq/perch/database"
)

// visitorKinds are the outbox kinds whose payloads carry a visitor's name.
const visitorKinds = "('visitor.arrived', 'visitor.checked_out', 'visitor.flagged')"

// anonymise blanks the personal data of the visits and their roll-call
// entries (the events' payloads: blankEvents).
func anonymise(tx *gorm.DB, ids []string, now time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	if err := tx.Model(&Visit{}).Where("id IN ?", ids).Updates(map[string]any{
		"visitor_name": "", "visitor_email": "", "visitor_company": "", "visitor_phone": "", "search_text": "",
		"purpose": "", "watchlist_entry_id": nil, "anonymised_at": now, "updated_at": now,
	}).Error; err != nil {
		return err
	}
	if err := tx.Exec(`UPDATE roll_call_people SET name = '' WHERE person_type = 'visitor' AND person_id IN ?`, ids).Error; err != nil {
		return err
	}
	return nil
}

// blankEvents removes visitor names from the visitor events of a site
// written before cutoff, or of the given visits.
func blankEvents(tx *gorm.DB, siteID string, cutoff time.Time, ids []string) error {
	if len(ids) == 0 {
		return tx.Exec(`UPDATE outbox SET payload = '{"anonymised":true}' WHERE kind IN `+visitorKinds+
			` AND site_id = ? AND created_at < ? AND payload <> '{"anonymised":true}'`, siteID, cutoff).Error
	}
	for _, id := range ids {
		if err := tx.Exec(`UPDATE outbox SET payload = '{"anonymised":true}' WHERE kind IN `+visitorKinds+
			` AND site_id = ? AND payload LIKE ?`, siteID, `%"visit_id":"`+id+`"%`).Error; err != nil {
			return err
		}
	}
	return nil
}

// AnonymiseExpired blanks the personal data of visits older than their
// site's retention period (counted from check-out, else the expected
// time); visitors still on site are left alone. It returns how many visits
// it anonymised.
func (s *Service) AnonymiseExpired(ctx context.Context) (int, error) {
	now := s.clock()
	var sites []struct {
		ID            string
		RetentionDays *int
	}
	err := s.db.Conn(ctx).Raw(`SELECT s.id, vs.retention_days FROM sites s LEFT JOIN visitor_settings vs ON vs.site_id = s.id
		WHERE EXISTS (SELECT 1 FROM visits v WHERE v.site_id = s.id AND v.anonymised_at IS NULL)`).Scan(&sites).Error
	if err != nil {
		return 0, database.Translate(err)
	}
	total := 0
	for _, st := range sites {
		days := DefaultRetentionDays
		if st.RetentionDays != nil {
			days = *st.RetentionDays
		}
		cutoff := now.AddDate(0, 0, -days)
		err := s.db.Tx(ctx, func(tx *gorm.DB) error {
			var ids []string
			// A visit ends after it was expected, so expected_at < cutoff
			// narrows by the index (site_id, expected_at) first.
			if err := tx.Raw(`SELECT id FROM visits WHERE site_id = ? AND anonymised_at IS NULL AND status <> 'checked_in'
				AND expected_at < ? AND COALESCE(checked_out_at, expected_at) < ?`, st.ID, cutoff, cutoff).Scan(&ids).Error; err != nil {
				return err
			}
			if err := anonymise(tx, ids, now); err != nil {
				return err
			}
			total += len(ids)
			return blankEvents(tx, st.ID, cutoff, nil)
		})
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// AutoCheckOut checks out visitors still checked in after their site's
// local day (of the check-in) ended, telling each host. It returns how
// many it checked out.
func (s *Service) AutoCheckOut(ctx context.Context) (int, error) {
	var sites []struct {
		ID       string
		Timezone string
	}
	err := s.db.Conn(ctx).Raw(`SELECT s.id, s.timezone FROM sites s
		WHERE EXISTS (SELECT 1 FROM visits v WHERE v.site_id = s.id AND v.status = 'checked_in')`).Scan(&sites).Error
	if err != nil {
		return 0, database.Translate(err)
	}
	total := 0
	for _, st := range sites {
		loc := loadLocation(st.Timezone)
		now := s.clock()
		dayStart := booking.DateOf(now.In(loc)).In(loc)
		err := s.eventTx(ctx, func(tx *gorm.DB) error {
			var vs []Visit
			q := tx.Where("site_id = ? AND status = ? AND checked_in_at < ?", st.ID, StatusCheckedIn, dayStart)
			if err := s.forUpdate(q).Find(&vs).Error; err != nil {
				return err
			}
			for i := range vs {
				if err := s.checkOut(tx, &vs[i], CheckoutAuto); err != nil {
					return err
				}
			}
			total += len(vs)
			return nil
		})
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// RunWorker checks out visitors after their day and anonymises expired
// visits every interval until ctx ends. Several replicas may each run one:
// the conditional updates write each check-out (and its event) once.
func (s *Service) RunWorker(ctx context.Context, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := s.AutoCheckOut(ctx); err != nil {
			if ctx.Err() == nil {
				log.Error("visitor auto check-out", "error", err)
			}
		} else if n > 0 {
			log.Info("checked out visitors after their day", "count", n)
		}
		if n, err := s.AnonymiseExpired(ctx); err != nil {
			if ctx.Err() == nil {
				log.Error("visitor retention", "error", err)
			}
		} else if n > 0 {
			log.Info("anonymised expired visits", "count", n) // a count only: no personal data in logs
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func checkEmail(email string) (string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		return "", perch.Invalid("email", "email is required")
	}
	v := Visitor{Name: "x", Email: email}
	if err := v.Validate(true); err != nil {
		return "", perch.Invalid("email", "email must be a plain address like ada@example.com")
	}
	return email, nil
}

// Export is everything Perch holds about one visitor.
type Export struct {
	Email  string        `json:"email"`
	Visits []ExportVisit `json:"visits"`
}

// ExportVisit is one visit with its acceptances.
type ExportVisit struct {
	View
	Acceptances []ExportAcceptance `json:"acceptances"`
	Flagged     bool               `json:"flagged"`
}

// ExportAcceptance is a document the visitor accepted.
type ExportAcceptance struct {
	DocumentID string    `json:"document_id"`
	Title      string    `json:"title"`
	Version    int       `json:"version"`
	AcceptedAt time.Time `json:"accepted_at"`
}

// ExportVisitor returns every visit recorded under the email.
func (s *Service) ExportVisitor(ctx context.Context, email string) (*Export, error) {
	email, err := checkEmail(email)
	if err != nil {
		return nil, err
	}
	conn := s.db.Conn(ctx)
	var rows []visitRow
	if err := conn.Table("visits v").Select(visitSelect).Joins(visitJoins).Where("v.visitor_email = ?", email).
		Order("v.expected_at, v.id").Find(&rows).Error; err != nil {
		return nil, database.Translate(err)
	}
	out := &Export{Email: email, Visits: make([]ExportVisit, 0, len(rows))}
	if len(rows) == 0 {
		return out, nil
	}
	ids := make([]string, len(rows))
	for i := range rows {
		ids[i] = rows[i].ID
	}
	var accs []struct {
		VisitID string
		ExportAcceptance
	}
	if err := conn.Raw(`SELECT a.visit_id, a.document_id, d.title, a.version, a.accepted_at FROM visit_acceptances a
		JOIN visitor_documents d ON d.id = a.document_id WHERE a.visit_id IN ? ORDER BY a.accepted_at, a.document_id`, ids).Scan(&accs).Error; err != nil {
		return nil, database.Translate(err)
	}
	byVisit := map[string][]ExportAcceptance{}
	for _, a := range accs {
		a.AcceptedAt = a.AcceptedAt.UTC()
		byVisit[a.VisitID] = append(byVisit[a.VisitID], a.ExportAcceptance)
	}
	for i := range rows {
		ev := ExportVisit{View: rows[i].view(), Acceptances: byVisit[rows[i].ID], Flagged: rows[i].FlaggedAt != nil}
		ev.Invitation = nil
		if ev.Acceptances == nil {
			ev.Acceptances = []ExportAcceptance{}
		}
		out.Visits = append(out.Visits, ev)
	}
	return out, nil
}

// EraseVisitor anonymises every visit recorded under the email (and their
// roll-call entries and events). It returns how many visits it changed.
func (s *Service) EraseVisitor(ctx context.Context, email string) (int, error) {
	email, err := checkEmail(email)
	if err != nil {
		return 0, err
	}
	now := s.clock()
	n := 0
	err = s.db.Tx(ctx, func(tx *gorm.DB) error {
		var vs []struct{ ID, SiteID string }
		if err := tx.Raw(`SELECT id, site_id FROM visits WHERE visitor_email = ?`, email).Scan(&vs).Error; err != nil {
			return err
		}
		ids := make([]string, len(vs))
		for i, v := range vs {
			ids[i] = v.ID
			if err := blankEvents(tx, v.SiteID, now, []string{v.ID}); err != nil {
				return err
			}
		}
		n = len(ids)
		return anonymise(tx, ids, now)
	})
	return n, err
}
