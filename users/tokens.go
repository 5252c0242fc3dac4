package users

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/database"
)

// TokenPrefix starts every token Perch mints, so secret scanners can find
// leaked ones.
const TokenPrefix = "perch_"

// Token is a bearer token. Only its SHA-256 hash is stored.
type Token struct {
	ID        string     `json:"id" gorm:"primaryKey"`
	UserID    string     `json:"user_id"`
	Hash      string     `json:"-"`
	Label     string     `json:"label"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at"`
	RevokedAt *time.Time `json:"revoked_at"`
}

// Principal is who is calling: the user behind a token.
type Principal struct {
	UserID  string
	Name    string
	Email   string
	Role    Role
	TeamID  *string
	TokenID string
	// Bootstrap is true for the PERCH_BOOTSTRAP_TOKEN admin, which has no
	// user row.
	Bootstrap bool
	// KioskID is set for a paired kiosk device (role kiosk); it may act only
	// for its room (RoomID, door kiosks) or its site (SiteID, lobby kiosks).
	KioskID string
	RoomID  string
	SiteID  string
}

// HashToken returns the stored form of a token.
func HashToken(plain string) string {
	sum := sha256.Sum256([]byte(plain))
	return hex.EncodeToString(sum[:])
}

// NewTokenString returns a fresh random token (256 bits).
func NewTokenString() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// MintToken creates a token for the user and returns its plain text, which
// is never stored and cannot be shown again. ttl 0 means no expiry.
func (s *Service) MintToken(ctx context.Context, userID, label string, ttl time.Duration) (string, *Token, error) {
	label = strings.TrimSpace(label)
	if len(label) > 100 {
		return "", nil, perch.Invalid("label", "label must be at most 100 characters")
	}
	if ttl < 0 {
		return "", nil, perch.Invalid("ttl_hours", "ttl_hours must not be negative")
	}
	plain := NewTokenString()
	t := &Token{ID: database.NewID(), UserID: userID, Hash: HashToken(plain), Label: label}
	if ttl > 0 {
		exp := time.Now().UTC().Add(ttl)
		t.ExpiresAt = &exp
	}
	err := s.db.Tx(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&User{}).Where("id = ?", userID).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return perch.NotFound("user")
		}
		return tx.Create(t).Error
	})
	if err != nil {
		return "", nil, err
	}
	return plain, t, nil
}

// RevokeTokens revokes the user's live tokens with the label.
func (s *Service) RevokeTokens(ctx context.Context, userID, label string) error {
	now := time.Now().UTC()
	return database.Translate(s.db.Conn(ctx).Model(&Token{}).
		Where("user_id = ? AND label = ? AND revoked_at IS NULL", userID, label).
		Update("revoked_at", now).Error)
}

// Authenticate returns the principal of a live token, or unauthorized.
func (s *Service) Authenticate(ctx context.Context, plain string) (*Principal, error) {
	if !strings.HasPrefix(plain, TokenPrefix) || len(plain) > 200 {
		return nil, perch.Errorf(perch.EUNAUTHORIZED, "The token is not valid.")
	}
	var row struct {
		TokenID   string
		ExpiresAt *time.Time
		RevokedAt *time.Time
		User
	}
	err := s.db.Conn(ctx).Table("tokens").
		Select("tokens.id AS token_id, tokens.expires_at, tokens.revoked_at, users.*").
		Joins("JOIN users ON users.id = tokens.user_id").
		Where("tokens.hash = ?", HashToken(plain)).
		Take(&row).Error
	if err != nil {
		if perch.ErrorCode(database.Translate(err)) == perch.ENOTFOUND {
			return nil, perch.Errorf(perch.EUNAUTHORIZED, "The token is not valid.")
		}
		return nil, database.Translate(err)
	}
	if row.RevokedAt != nil {
		return nil, perch.Errorf(perch.EUNAUTHORIZED, "The token was revoked.")
	}
	if row.ExpiresAt != nil && !time.Now().Before(*row.ExpiresAt) {
		return nil, perch.Errorf(perch.EUNAUTHORIZED, "The token has expired.")
	}
	return &Principal{
		UserID: row.User.ID, Name: row.User.Name, Email: row.User.Email,
		Role: row.User.Role, TeamID: row.User.TeamID, TokenID: row.TokenID,
	}, nil
}

// BootstrapAuth checks plain against the configured bootstrap token in
// constant time.
type BootstrapAuth struct{ hash [32]byte }

// NewBootstrapAuth returns a checker for token ("" disables it).
func NewBootstrapAuth(token string) *BootstrapAuth {
	if token == "" {
		return nil
	}
	return &BootstrapAuth{hash: sha256.Sum256([]byte(token))}
}

// Match reports whether plain is the bootstrap token.
func (b *BootstrapAuth) Match(plain string) bool {
	if b == nil {
		return false
	}
	h := sha256.Sum256([]byte(plain))
	return subtle.ConstantTimeCompare(h[:], b.hash[:]) == 1
}

// BootstrapPrincipal is the admin the bootstrap token stands for.
func BootstrapPrincipal() *Principal {
	return &Principal{Name: "Bootstrap admin", Role: RoleAdmin, Bootstrap: true}
}
