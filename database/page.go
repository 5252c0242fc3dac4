package database

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/perch-hq/perch"
)

// Page limits.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// Page asks for one page of a list: at most Limit items after the cursor.
type Page struct {
	Limit int
	after *cursor
}

// cursor is the position after which the next page starts: the sort key and
// the id of the last item served (ids break ties, so paging is stable).
type cursor struct {
	Key any    `json:"k"`
	ID  string `json:"i"`
}

// NewPage validates a limit (0: the default) and an opaque cursor ("" for
// the first page).
func NewPage(limit int, cur string) (Page, error) {
	if limit == 0 {
		limit = DefaultLimit
	}
	if limit < 1 || limit > MaxLimit {
		return Page{}, perch.Invalid("limit", "limit must be between 1 and %d", MaxLimit)
	}
	p := Page{Limit: limit}
	if cur == "" {
		return p, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(cur)
	var c cursor
	if err != nil || json.Unmarshal(raw, &c) != nil || !ValidID(c.ID) {
		return Page{}, perch.Invalid("cursor", "cursor is not one this server issued")
	}
	p.after = &c
	return p, nil
}

// TimeKey is the sort key of a time column in a cursor: UTC text in the
// format both dialects compare correctly (SQLite compares it as text with
// the stored values; PostgreSQL casts it to timestamptz).
func TimeKey(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.999999999-07:00") }

// Paginate runs q ordered by (col, id) from the page's cursor and returns the
// items and the cursor of the next page ("" on the last page). col must be a
// trusted column name, never client input. key returns an item's sort key
// and id.
func Paginate[T any](q *gorm.DB, p Page, col string, key func(*T) (any, string)) ([]T, string, error) {
	if p.Limit == 0 {
		p.Limit = DefaultLimit
	}
	idCol := "id"
	if i := strings.LastIndexByte(col, '.'); i >= 0 {
		idCol = col[:i] + ".id" // qualify the tie-breaker when tables are joined
	}
	if p.after != nil {
		if col == idCol {
			q = q.Where(idCol+" > ?", p.after.ID)
		} else {
			q = q.Where(fmt.Sprintf("(%s > ? OR (%s = ? AND %s > ?))", col, col, idCol), p.after.Key, p.after.Key, p.after.ID)
		}
	}
	if col != idCol {
		q = q.Order(col)
	}
	var items []T
	if err := q.Order(idCol).Limit(p.Limit + 1).Find(&items).Error; err != nil {
		return nil, "", Translate(err)
	}
	if len(items) <= p.Limit {
		if items == nil {
			items = []T{}
		}
		return items, "", nil
	}
	items = items[:p.Limit]
	k, id := key(&items[len(items)-1])
	raw, _ := json.Marshal(cursor{Key: k, ID: id})
	return items, base64.RawURLEncoding.EncodeToString(raw), nil
}
