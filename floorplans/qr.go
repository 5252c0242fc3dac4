package floorplans

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"strings"

	qrcode "github.com/skip2/go-qrcode"
	"gorm.io/gorm"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/database"
)

// NewQRCode returns a fresh check-in code: 128 random bits in lower-case
// base32 (26 characters), safe in a URL path.
func NewQRCode() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// ValidQRCode reports whether s looks like a check-in code (new ones are
// base32, those from the migration hex).
func ValidQRCode(s string) bool {
	if len(s) < 16 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// QR sizes in pixels.
const (
	MinQRSize     = 128
	MaxQRSize     = 2048
	DefaultQRSize = 256
)

// QRPNG renders text as a square PNG QR code at most size pixels wide,
// with medium error correction (a scuffed sticker still scans). Every
// module is a whole number of pixels, so the code prints and scans crisply;
// the image is the largest such square that fits in size.
func QRPNG(text string, size int) ([]byte, error) {
	if size < MinQRSize || size > MaxQRSize {
		return nil, perch.Invalid("size", "size must be between %d and %d pixels", MinQRSize, MaxQRSize)
	}
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		return nil, err
	}
	modules := len(q.Bitmap()) // with the quiet zone
	perModule := max(size/modules, 1)
	return q.PNG(-perModule) // a negative size means pixels per module
}

// CheckInURL is what a resource's QR code encodes.
func CheckInURL(publicURL, code string) string {
	return strings.TrimRight(publicURL, "/") + "/q/" + code
}

// Coded is a desk or room found by its check-in code.
type Coded struct {
	Type string // "desk" or "room"
	ID   string
}

// ByQRCode finds the desk or room a check-in code belongs to; an unknown
// or replaced code is not_found with a sentence for the person scanning.
func (s *Service) ByQRCode(ctx context.Context, code string) (*Coded, error) {
	notValid := perch.Errorf(perch.ENOTFOUND, "This QR code is not valid any more (it may have been replaced); ask facilities for a new one.")
	if !ValidQRCode(code) {
		return nil, notValid
	}
	var rows []Coded
	err := s.db.Conn(ctx).Raw(`SELECT 'desk' AS type, id FROM desks WHERE qr_code = ?
		UNION ALL SELECT 'room' AS type, id FROM rooms WHERE qr_code = ?`, code, code).Scan(&rows).Error
	if err != nil {
		return nil, database.Translate(err)
	}
	if len(rows) == 0 {
		return nil, notValid
	}
	return &rows[0], nil
}

// RotateDeskQR gives a desk a new code; the old one stops working at once.
func (s *Service) RotateDeskQR(ctx context.Context, id string) (*Desk, error) {
	return update(ctx, s.db, "desk", id, func(_ *gorm.DB, d *Desk) error { d.QRCode = NewQRCode(); return nil })
}

// RotateRoomQR gives a room a new code; the old one stops working at once.
func (s *Service) RotateRoomQR(ctx context.Context, id string) (*Room, error) {
	return update(ctx, s.db, "room", id, func(_ *gorm.DB, r *Room) error { r.QRCode = NewQRCode(); return nil })
}
