package floorplans

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"image/png"
	"io"
	"regexp"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/database"
)

// PlanImagePath is where plan images are served: PlanImagePath + id.
const PlanImagePath = "/plans/"

// Plan image limits.
const (
	MaxPlanImageBytes = 5 << 20
	maxPlanPixels     = 10000
)

// The plan image types Perch accepts.
const (
	PNG = "image/png"
	SVG = "image/svg+xml"
)

// PlanImage is a stored plan image.
type PlanImage struct {
	ID          string `gorm:"primaryKey"`
	ContentType string
	Data        []byte
	CreatedAt   time.Time
}

// TableName maps PlanImage to its table.
func (PlanImage) TableName() string { return "floor_plan_images" }

// ValidPlanImageID reports whether id can name a plan image (a SHA-256 in hex).
func ValidPlanImageID(id string) bool { return planImageID.MatchString(id) }

var planImageID = regexp.MustCompile(`^[0-9a-f]{64}$`)

// activeSVG finds what could run in an SVG opened on its own: scripts,
// event handlers, javascript: links, embedded HTML.
var activeSVG = regexp.MustCompile(`(?i)<\s*script|\bon[a-z]+\s*=|javascript:|<\s*foreignObject|<!ENTITY`)

// checkPlanImage validates an upload: a PNG that decodes, or an SVG whose
// root is <svg> with nothing active in it.
func checkPlanImage(contentType string, data []byte) error {
	if len(data) == 0 {
		return perch.Invalid("body", "send the image as the request body")
	}
	if len(data) > MaxPlanImageBytes {
		return perch.Errorf(perch.ETOOLARGE, "A plan image may be at most %d MB.", MaxPlanImageBytes>>20)
	}
	switch contentType {
	case PNG:
		cfg, err := png.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			return perch.Invalid("body", "the body is not a PNG image")
		}
		if cfg.Width > maxPlanPixels || cfg.Height > maxPlanPixels {
			return perch.Invalid("body", "a plan image may be at most 10000 × 10000 pixels")
		}
	case SVG:
		if activeSVG.Match(data) {
			return perch.Invalid("body", "the SVG has scripts, event handlers, javascript: links, foreignObject or entities; export a plain drawing")
		}
		d := xml.NewDecoder(bytes.NewReader(data))
		for {
			tok, err := d.Token()
			if err != nil {
				if errors.Is(err, io.EOF) {
					return perch.Invalid("body", "the SVG has no <svg> element")
				}
				return perch.Invalid("body", "the body is not well-formed SVG")
			}
			if se, ok := tok.(xml.StartElement); ok {
				if se.Name.Local != "svg" {
					return perch.Invalid("body", "the SVG's root element must be <svg>")
				}
				break
			}
		}
	default:
		return perch.Invalid("content_type", "send Content-Type image/png or image/svg+xml")
	}
	return nil
}

// SetPlanImage stores an image as the floor's plan (an identical image is
// stored once) and returns the floor.
func (s *Service) SetPlanImage(ctx context.Context, floorID, contentType string, data []byte) (*Floor, error) {
	if err := checkPlanImage(contentType, data); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	id := hex.EncodeToString(sum[:])
	err := s.db.Tx(ctx, func(tx *gorm.DB) error {
		if _, err := take[Floor](tx, "floor", floorID); err != nil {
			return err
		}
		img := PlanImage{ID: id, ContentType: contentType, Data: data, CreatedAt: time.Now().UTC()}
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&img).Error; err != nil {
			return err
		}
		return tx.Model(&Floor{}).Where("id = ?", floorID).Updates(map[string]any{"plan_image_id": id, "updated_at": time.Now().UTC()}).Error
	})
	if err != nil {
		return nil, database.Translate(err)
	}
	return s.GetFloor(ctx, floorID)
}

// RemovePlanImage takes the plan image off the floor.
func (s *Service) RemovePlanImage(ctx context.Context, floorID string) (*Floor, error) {
	err := s.db.Tx(ctx, func(tx *gorm.DB) error {
		if _, err := take[Floor](tx, "floor", floorID); err != nil {
			return err
		}
		return tx.Model(&Floor{}).Where("id = ?", floorID).Updates(map[string]any{"plan_image_id": nil, "updated_at": time.Now().UTC()}).Error
	})
	if err != nil {
		return nil, database.Translate(err)
	}
	return s.GetFloor(ctx, floorID)
}

// PlanImageByID returns a stored image (for serving).
func (s *Service) PlanImageByID(ctx context.Context, id string) (*PlanImage, error) {
	if !ValidPlanImageID(id) {
		return nil, perch.NotFound("plan image")
	}
	var imgs []PlanImage
	if err := s.db.Conn(ctx).Where("id = ?", id).Limit(1).Find(&imgs).Error; err != nil {
		return nil, database.Translate(err)
	}
	if len(imgs) == 0 {
		return nil, perch.NotFound("plan image")
	}
	return &imgs[0], nil
}

// PurgePlanImages deletes images no floor uses; it returns how many.
func (s *Service) PurgePlanImages(ctx context.Context) (int64, error) {
	res := s.db.Conn(ctx).Exec("DELETE FROM floor_plan_images WHERE id NOT IN (SELECT plan_image_id FROM floors WHERE plan_image_id IS NOT NULL)")
	return res.RowsAffected, database.Translate(res.Error)
}
