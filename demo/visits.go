package demo

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/floorplans"
)

// demoVisits are the visitors the demo expects every day (local times).
var demoVisits = []struct {
	hour, minute         int
	name, email, company string
	hostEmail, purpose   string
}{
	{10, 0, "Grace Hopper", "grace.hopper@example.org", "Acme GmbH", EmployeeEmail, "Interview"},
	{11, 30, "Alan Turing", "alan.turing@example.org", "Bletchley Ltd", "ada.arndt@example.com", "Architecture review"},
	{14, 0, "Katherine Johnson", "katherine.johnson@example.org", "Orbit AG", "hanna.hahn@example.com", "Supplier meeting"},
}

// SeedVisits adds the demo's expected visitors for the day of now in the
// demo site's time zone, so a demo server shows visitors today. It adds
// nothing when that day already has them (ids are derived from the date),
// and is safe on several replicas. It returns how many it added.
func SeedVisits(ctx context.Context, db *database.DB, now time.Time) (int, error) {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		return 0, err
	}
	day := now.In(loc)
	date := day.Format("2006-01-02")
	added := 0
	err = db.Tx(ctx, func(tx *gorm.DB) error {
		for i, v := range demoVisits {
			at := time.Date(day.Year(), day.Month(), day.Day(), v.hour, v.minute, 0, 0, loc)
			id := ID("visit", date+"/"+string(rune('0'+i)))
			search := strings.ToLower(v.name + " " + v.company)
			res := tx.Exec(`INSERT INTO visits (id, site_id, host_id, status, expected_at, visitor_name, visitor_email, visitor_company,
				search_text, purpose, invite_code, version, created_at, updated_at)
				VALUES (?, ?, ?, 'expected', ?, ?, ?, ?, ?, ?, ?, 1, ?, ?) ON CONFLICT (id) DO NOTHING`,
				id, SiteID, ID("user", v.hostEmail), at, v.name, v.email, v.company, search, v.purpose,
				floorplans.NewQRCode(), now, now)
			if res.Error != nil {
				return res.Error
			}
			added += int(res.RowsAffected)
		}
		return nil
	})
	return added, database.Translate(err)
}
