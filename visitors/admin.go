package visitors

// What admins manage: policy documents with versions, the watchlist, and
// each site's visitor settings.

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/users"
)

// Document is a site's policy document (an NDA, the safety rules) with its
// current version.
type Document struct {
	ID             string    `json:"id"`
	SiteID         string    `json:"site_id"`
	Title          string    `json:"title"`
	CurrentVersion int       `json:"current_version"`
	Body           string    `json:"body"` // of the current version
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// DocumentVersion is one version of a document, as the kiosk shows it.
type DocumentVersion struct {
	DocumentID string `json:"document_id"`
	Title      string `json:"title"`
	Version    int    `json:"version"`
	Body       string `json:"body"`
}

func checkDocument(title, body string, needTitle bool) error {
	if needTitle {
		if err := users.CheckName("title", title, 200); err != nil {
			return err
		}
	}
	if strings.TrimSpace(body) == "" {
		return perch.Invalid("body", "body is required: the text the visitor accepts")
	}
	return checkText("body", body, 100_000)
}

func currentDocuments(tx *gorm.DB, siteID string) ([]DocumentVersion, error) {
	var out []DocumentVersion
	err := tx.Raw(`SELECT d.id AS document_id, d.title, d.current_version AS version, dv.body
		FROM visitor_documents d JOIN visitor_document_versions dv ON dv.document_id = d.id AND dv.version = d.current_version
		WHERE d.site_id = ? ORDER BY d.title, d.id`, siteID).Scan(&out).Error
	if err != nil {
		return nil, database.Translate(err)
	}
	if out == nil {
		out = []DocumentVersion{}
	}
	return out, nil
}

// ListDocuments lists a site's documents with their current versions.
func (s *Service) ListDocuments(ctx context.Context, siteID string) ([]Document, error) {
	conn := s.db.Conn(ctx)
	if _, _, err := s.site(conn, siteID); err != nil {
		return nil, err
	}
	var out []Document
	err := conn.Raw(`SELECT d.id, d.site_id, d.title, d.current_version, dv.body, d.created_at, d.updated_at
		FROM visitor_documents d JOIN visitor_document_versions dv ON dv.document_id = d.id AND dv.version = d.current_version
		WHERE d.site_id = ? ORDER BY d.title, d.id`, siteID).Scan(&out).Error
	if err != nil {
		return nil, database.Translate(err)
	}
	if out == nil {
		out = []Document{}
	}
	return out, nil
}

// CreateDocument adds a document (version 1) to a site.
func (s *Service) CreateDocument(ctx context.Context, siteID, title, body string) (*Document, error) {
	title = strings.TrimSpace(title)
	if err := checkDocument(title, body, true); err != nil {
		return nil, err
	}
	now := s.clock()
	d := &Document{ID: database.NewID(), SiteID: siteID, Title: title, CurrentVersion: 1, Body: body, CreatedAt: now, UpdatedAt: now}
	err := s.db.Tx(ctx, func(tx *gorm.DB) error {
		if _, _, err := s.site(tx, siteID); err != nil {
			return err
		}
		if err := tx.Exec(`INSERT INTO visitor_documents (id, site_id, title, current_version, created_at, updated_at) VALUES (?, ?, ?, 1, ?, ?)`,
			d.ID, siteID, title, now, now).Error; err != nil {
			return err
		}
		return tx.Exec(`INSERT INTO visitor_document_versions (document_id, version, body, created_at) VALUES (?, 1, ?, ?)`, d.ID, body, now).Error
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// AddVersion makes body the document's new current version; visitors
// checking in from now on must accept it.
func (s *Service) AddVersion(ctx context.Context, docID, body string) (*Document, error) {
	if err := checkDocument("", body, false); err != nil {
		return nil, err
	}
	now := s.clock()
	var d Document
	err := s.db.Tx(ctx, func(tx *gorm.DB) error {
		var rows []Document
		q := tx.Table("visitor_documents").Select("id, site_id, title, current_version, created_at, updated_at").Where("id = ?", docID)
		if err := s.forUpdate(q).Find(&rows).Error; err != nil {
			return err
		}
		if len(rows) == 0 {
			return perch.NotFound("document")
		}
		d = rows[0]
		d.CurrentVersion++
		d.Body, d.UpdatedAt = body, now
		if err := tx.Exec(`INSERT INTO visitor_document_versions (document_id, version, body, created_at) VALUES (?, ?, ?, ?)`,
			docID, d.CurrentVersion, body, now).Error; err != nil {
			return err
		}
		return tx.Exec(`UPDATE visitor_documents SET current_version = ?, updated_at = ? WHERE id = ?`, d.CurrentVersion, now, docID).Error
	})
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// WatchEntry is a person reception must see before they enter.
type WatchEntry struct {
	ID        string    `json:"id" gorm:"primaryKey"`
	Name      string    `json:"name"`
	NameKey   string    `json:"-"`
	Email     string    `json:"email"`
	Reason    string    `json:"reason"`
	CreatedBy *string   `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// TableName maps WatchEntry to watchlist.
func (WatchEntry) TableName() string { return "watchlist" }

// ListWatchlist lists the watchlist, oldest entry first.
func (s *Service) ListWatchlist(ctx context.Context, p database.Page) ([]WatchEntry, string, error) {
	return database.Paginate(s.db.Conn(ctx).Model(&WatchEntry{}), p, "id", func(w *WatchEntry) (any, string) { return w.ID, w.ID })
}

// AddWatch adds a name, an email or both to the watchlist.
func (s *Service) AddWatch(ctx context.Context, p *users.Principal, w WatchEntry) (*WatchEntry, error) {
	w.Name = strings.TrimSpace(w.Name)
	w.Email = strings.ToLower(strings.TrimSpace(w.Email))
	w.Reason = strings.TrimSpace(w.Reason)
	if w.Name == "" && w.Email == "" {
		return nil, perch.Invalid("name", "name or email is required")
	}
	if w.Name != "" {
		if err := users.CheckName("name", w.Name, 200); err != nil {
			return nil, err
		}
	}
	if w.Email != "" {
		v := Visitor{Name: "x", Email: w.Email}
		if err := v.Validate(false); err != nil {
			return nil, perch.Invalid("email", "email must be a plain address like ada@example.com")
		}
	}
	if err := checkText("reason", w.Reason, 500); err != nil {
		return nil, err
	}
	w.ID = database.NewID()
	w.NameKey = nameKey(w.Name)
	w.CreatedAt = s.clock()
	if p != nil && p.UserID != "" {
		w.CreatedBy = &p.UserID
	}
	if err := s.db.Tx(ctx, func(tx *gorm.DB) error { return tx.Create(&w).Error }); err != nil {
		return nil, err
	}
	return &w, nil
}

// DeleteWatch removes an entry.
func (s *Service) DeleteWatch(ctx context.Context, id string) error {
	res := s.db.Conn(ctx).Where("id = ?", id).Delete(&WatchEntry{})
	if res.Error != nil {
		return database.Translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return perch.NotFound("watchlist entry")
	}
	return nil
}

// watchMatch returns the id of the first entry matching the email or the
// name (case and spacing ignored), or "".
func watchMatch(tx *gorm.DB, name, email string) (string, error) {
	var ids []string
	err := tx.Raw(`SELECT id FROM watchlist WHERE (email <> '' AND email = ?) OR (name_key <> '' AND name_key = ?) ORDER BY id LIMIT 1`,
		strings.ToLower(email), nameKey(name)).Scan(&ids).Error
	if err != nil || len(ids) == 0 {
		return "", err
	}
	return ids[0], nil
}

// Settings are a site's visitor settings.
type Settings struct {
	SiteID              string `json:"site_id"`
	RetentionDays       int    `json:"retention_days"`
	ArrivalInstructions string `json:"arrival_instructions"`
}

// GetSettings returns a site's settings (defaults when never set).
func (s *Service) GetSettings(ctx context.Context, siteID string) (*Settings, error) {
	st, _, err := s.site(s.db.Conn(ctx), siteID)
	if err != nil {
		return nil, err
	}
	out := &Settings{SiteID: siteID, RetentionDays: DefaultRetentionDays, ArrivalInstructions: deref(st.ArrivalInstructions)}
	if st.RetentionDays != nil {
		out.RetentionDays = *st.RetentionDays
	}
	return out, nil
}

// PutSettings replaces a site's settings.
func (s *Service) PutSettings(ctx context.Context, in Settings) (*Settings, error) {
	if in.RetentionDays < 1 || in.RetentionDays > MaxRetentionDays {
		return nil, perch.Invalid("retention_days", "retention_days must be between 1 and %d", MaxRetentionDays)
	}
	in.ArrivalInstructions = strings.TrimSpace(in.ArrivalInstructions)
	if err := checkText("arrival_instructions", in.ArrivalInstructions, 2000); err != nil {
		return nil, err
	}
	now := s.clock()
	err := s.db.Tx(ctx, func(tx *gorm.DB) error {
		if _, _, err := s.site(tx, in.SiteID); err != nil {
			return err
		}
		return tx.Exec(`INSERT INTO visitor_settings (site_id, retention_days, arrival_instructions, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (site_id) DO UPDATE SET retention_days = excluded.retention_days,
			arrival_instructions = excluded.arrival_instructions, updated_at = excluded.updated_at`,
			in.SiteID, in.RetentionDays, in.ArrivalInstructions, now).Error
	})
	if err != nil {
		return nil, err
	}
	return &in, nil
}
