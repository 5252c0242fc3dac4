package kiosk

// Kiosk devices and their pairing.
//
//  1. The device calls StartPairing (no credentials): it gets a short
//     pairing code to show on its screen and a device secret to keep.
//  2. An admin types the code into Pair, saying what the device is: a room's
//     door panel or a site's lobby display. Pairing creates the device's
//     own account (a user with role kiosk).
//  3. The device exchanges its secret for a kiosk token (ExchangeToken),
//     again whenever it wants a fresh one; only the latest token works.
//
// Only SHA-256 hashes of the secret and the token are stored. Revoking a
// kiosk stops both at once and, in the same transaction, writes a
// kiosk.revoked outbox row so every replica's hub closes its socket.

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/booking"
	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/users"
)

// Credential prefixes, so secret scanners (and the API) can tell them apart
// from user tokens ("perch_").
const (
	DeviceTokenPrefix  = "perchk_" // a kiosk token: the bearer token of a paired device
	DeviceSecretPrefix = "perchd_" // a device secret: exchanged for kiosk tokens
)

// ENotPaired: the device secret is valid but no admin has paired the
// device yet; ask again later (HTTP 409).
const ENotPaired = "not_paired"

// Pairing parameters.
const (
	// PairingAlphabet has no look-alikes (no 0/O, 1/I, 2/Z, 5/S, 6/G, 8/B).
	PairingAlphabet = "ACDEFGHJKLMNPQRTUVWXY3479"
	PairingCodeLen  = 6
	PairingTTL      = 15 * time.Minute
	// OnlineWithin: a kiosk seen this recently is online.
	OnlineWithin = 60 * time.Second
)

// Kind is what a kiosk shows.
type Kind string

const (
	KindRoom  Kind = "room"  // a door panel: one room's day, and the door actions
	KindLobby Kind = "lobby" // a lobby display: one site
)

// DeviceStatus is where a kiosk is in its life.
type DeviceStatus string

const (
	DevicePending DeviceStatus = "pending" // waiting for an admin to pair it
	DevicePaired  DeviceStatus = "paired"
	DeviceRevoked DeviceStatus = "revoked" // its secret and token no longer work
)

// Kiosk is a kiosk device.
type Kiosk struct {
	ID     string       `json:"id" gorm:"primaryKey"`
	Name   string       `json:"name"`
	Kind   *Kind        `json:"kind"`
	RoomID *string      `json:"room_id"`
	SiteID *string      `json:"site_id"`
	UserID *string      `json:"user_id"` // the device account
	Status DeviceStatus `json:"status"`
	// Online: seen (a heartbeat, a token exchange) within OnlineWithin.
	Online     bool       `json:"online" gorm:"-"`
	LastSeenAt *time.Time `json:"last_seen_at"`
	CreatedAt  time.Time  `json:"created_at"`
	PairedAt   *time.Time `json:"paired_at"`
	RevokedAt  *time.Time `json:"revoked_at"`

	PairingCode      *string    `json:"-"`
	PairingExpiresAt *time.Time `json:"-"`
	SecretHash       string     `json:"-"`
	TokenHash        *string    `json:"-"`
}

// TableName maps Kiosk to kiosks.
func (Kiosk) TableName() string { return "kiosks" }

// Devices pairs, authenticates, lists and revokes kiosk devices, and
// carries out the room-door actions (doors.go).
type Devices struct {
	db       *database.DB
	bookings *booking.Service
	now      func() time.Time
}

// DevicesOption configures Devices.
type DevicesOption func(*Devices)

// WithDevicesClock makes the service read the time from now (tests).
func WithDevicesClock(now func() time.Time) DevicesOption {
	return func(d *Devices) { d.now = now }
}

// NewDevices returns the kiosk device service.
func NewDevices(db *database.DB, bookings *booking.Service, opts ...DevicesOption) *Devices {
	d := &Devices{db: db, bookings: bookings, now: func() time.Time { return time.Now().UTC() }}
	for _, o := range opts {
		o(d)
	}
	return d
}

func (d *Devices) clock() time.Time { return d.now().UTC().Truncate(time.Microsecond) }

// Pairing is what StartPairing answers, once: the code to show and the
// secret to keep.
type Pairing struct {
	KioskID      string    `json:"kiosk_id"`
	PairingCode  string    `json:"pairing_code"`
	DeviceSecret string    `json:"device_secret"`
	ExpiresAt    time.Time `json:"expires_at"`
}

// StartPairing registers a waiting device: a fresh pairing code, unique
// among the codes still waiting, valid PairingTTL, and a device secret.
// Neither is stored in plain text. Expired waiting devices are cleared.
func (d *Devices) StartPairing(ctx context.Context) (*Pairing, error) {
	now := d.clock()
	secret := DeviceSecretPrefix + randomString()
	for attempt := 0; ; attempt++ {
		code, err := pairingCode()
		if err != nil {
			return nil, err
		}
		k := &Kiosk{ID: database.NewID(), Status: DevicePending, PairingCode: &code, SecretHash: users.HashToken(secret), CreatedAt: now}
		exp := now.Add(PairingTTL)
		k.PairingExpiresAt = &exp
		err = d.db.Tx(ctx, func(tx *gorm.DB) error {
			if err := tx.Where("status = ? AND pairing_expires_at <= ?", DevicePending, now).Delete(&Kiosk{}).Error; err != nil {
				return err
			}
			return tx.Create(k).Error
		})
		if err == nil {
			return &Pairing{KioskID: k.ID, PairingCode: code, DeviceSecret: secret, ExpiresAt: exp}, nil
		}
		// A code still waiting elsewhere: draw another (each try is its own
		// transaction: on PostgreSQL a failed statement ends it).
		if !database.IsUniqueViolation(err, "pairing_code") || attempt >= 8 {
			return nil, err
		}
	}
}

// PairRequest is an admin's answer to a waiting device.
type PairRequest struct {
	PairingCode string
	Kind        Kind
	RoomID      string // kind room: the room whose door it is on (the site follows)
	SiteID      string // kind lobby: its site
	// Name of the device (and its account); default "Door panel · <room>"
	// or "Lobby · <site>".
	Name string
}

// NormalizePairingCode upper-cases a typed code and drops spaces and dashes.
func NormalizePairingCode(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, strings.ToUpper(strings.TrimSpace(s)))
}

func validPairingCode(s string) bool {
	if len(s) != PairingCodeLen {
		return false
	}
	for _, r := range s {
		if !strings.ContainsRune(PairingAlphabet, r) {
			return false
		}
	}
	return true
}

// Pair pairs the device waiting with the code as a room's door panel or a
// site's lobby display, and creates its device account, in one transaction.
// An unknown or expired code is not_found.
func (d *Devices) Pair(ctx context.Context, actor *users.Principal, req PairRequest) (*Kiosk, error) {
	if actor == nil || actor.Role != users.RoleAdmin {
		return nil, perch.Errorf(perch.EFORBIDDEN, "Only admins pair kiosks.")
	}
	code := NormalizePairingCode(req.PairingCode)
	switch {
	case code == "":
		return nil, perch.Invalid("pairing_code", "pairing_code is required: the code the kiosk shows")
	case !validPairingCode(code):
		return nil, perch.Invalid("pairing_code", "pairing_code is the %d-character code the kiosk shows, like ACE479", PairingCodeLen)
	}
	switch req.Kind {
	case KindRoom:
		if req.RoomID == "" {
			return nil, perch.Invalid("room_id", "room_id is required for a room kiosk")
		}
		if !database.ValidID(req.RoomID) {
			return nil, perch.Invalid("room_id", "room_id is not a valid id")
		}
		if req.SiteID != "" && !database.ValidID(req.SiteID) {
			return nil, perch.Invalid("site_id", "site_id is not a valid id")
		}
	case KindLobby:
		if req.RoomID != "" {
			return nil, perch.Invalid("room_id", "a lobby kiosk shows a site, not a room: leave room_id out")
		}
		if req.SiteID == "" {
			return nil, perch.Invalid("site_id", "site_id is required for a lobby kiosk")
		}
		if !database.ValidID(req.SiteID) {
			return nil, perch.Invalid("site_id", "site_id is not a valid id")
		}
	case "":
		return nil, perch.Invalid("kind", "kind is required: room (a door panel) or lobby")
	default:
		return nil, perch.Invalid("kind", "kind must be room or lobby")
	}
	name := strings.TrimSpace(req.Name)
	if name != "" {
		if err := users.CheckName("name", name, 200); err != nil {
			return nil, err
		}
	}
	now := d.clock()
	var k Kiosk
	err := d.db.Tx(ctx, func(tx *gorm.DB) error {
		q := tx.Where("pairing_code = ? AND status = ? AND pairing_expires_at > ?", code, DevicePending, now)
		if d.db.Dialect() == database.Postgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		var found []Kiosk
		if err := q.Limit(1).Find(&found).Error; err != nil {
			return err
		}
		if len(found) == 0 {
			return perch.Errorf(perch.ENOTFOUND, "No kiosk is waiting with pairing code %s. Codes expire after %d minutes: start pairing again on the kiosk.",
				code, int(PairingTTL/time.Minute))
		}
		k = found[0]
		siteID, defaultName, err := placeOf(tx, req)
		if err != nil {
			return err
		}
		if name == "" {
			name = defaultName
		}
		u := &users.User{ID: database.NewID(), Email: "kiosk-" + k.ID + "@devices.perch.invalid", Name: name, Role: users.RoleKiosk,
			CreatedAt: now, UpdatedAt: now}
		u.Normalize()
		if err := u.Validate(); err != nil {
			return err
		}
		// The device account is created in this transaction, with the
		// pairing it belongs to: both happen, or neither.
		if err := tx.Create(u).Error; err != nil {
			return err
		}
		kind := req.Kind
		k.Kind, k.SiteID, k.UserID, k.Name = &kind, &siteID, &u.ID, name
		if kind == KindRoom {
			k.RoomID = &req.RoomID
		}
		k.Status, k.PairingCode, k.PairingExpiresAt, k.PairedAt = DevicePaired, nil, nil, &now
		res := tx.Model(&Kiosk{}).Where("id = ? AND status = ?", k.ID, DevicePending).Updates(map[string]any{
			"kind": kind, "room_id": k.RoomID, "site_id": siteID, "user_id": u.ID, "name": name,
			"status": DevicePaired, "pairing_code": nil, "pairing_expires_at": nil, "paired_at": now,
		})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return perch.Errorf(perch.ENOTFOUND, "No kiosk is waiting with pairing code %s.", code)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	k.Online = d.online(&k, now)
	return &k, nil
}

// placeOf checks the room or site a kiosk is paired to and returns its site
// and the kiosk's default name.
func placeOf(tx *gorm.DB, req PairRequest) (siteID, name string, err error) {
	var rows []struct{ SiteID, Name, SiteName string }
	if req.Kind == KindRoom {
		if err := tx.Raw(`SELECT r.site_id, r.name, s.name AS site_name FROM rooms r JOIN sites s ON s.id = r.site_id WHERE r.id = ?`,
			req.RoomID).Scan(&rows).Error; err != nil {
			return "", "", err
		}
		if len(rows) == 0 {
			return "", "", perch.Invalid("room_id", "room_id names no room")
		}
		if req.SiteID != "" && req.SiteID != rows[0].SiteID {
			return "", "", perch.Invalid("site_id", "site_id must be the room's site (%s), or left out", rows[0].SiteName)
		}
		return rows[0].SiteID, "Door panel · " + rows[0].Name, nil
	}
	if err := tx.Raw(`SELECT id AS site_id, name, name AS site_name FROM sites WHERE id = ?`, req.SiteID).Scan(&rows).Error; err != nil {
		return "", "", err
	}
	if len(rows) == 0 {
		return "", "", perch.Invalid("site_id", "site_id names no site")
	}
	return rows[0].SiteID, "Lobby · " + rows[0].Name, nil
}

// Grant is a fresh kiosk token and the device it works for.
type Grant struct {
	Token string `json:"token"`
	Kiosk Kiosk  `json:"kiosk"`
}

// ExchangeToken trades a device secret for a new kiosk token, which
// replaces the previous one (only the latest works). A device still waiting
// for an admin gets not_paired; a revoked device, an expired pairing or an
// unknown secret, unauthorized.
func (d *Devices) ExchangeToken(ctx context.Context, deviceSecret string) (*Grant, error) {
	if !strings.HasPrefix(deviceSecret, DeviceSecretPrefix) || len(deviceSecret) > 200 {
		return nil, perch.Errorf(perch.EUNAUTHORIZED, "The device secret is not valid.")
	}
	now := d.clock()
	token := DeviceTokenPrefix + randomString()
	var k Kiosk
	err := d.db.Tx(ctx, func(tx *gorm.DB) error {
		var found []Kiosk
		if err := tx.Where("secret_hash = ?", users.HashToken(deviceSecret)).Limit(1).Find(&found).Error; err != nil {
			return err
		}
		if len(found) == 0 {
			return perch.Errorf(perch.EUNAUTHORIZED, "The device secret is not valid.")
		}
		k = found[0]
		switch k.Status {
		case DeviceRevoked:
			return perch.Errorf(perch.EUNAUTHORIZED, "This kiosk was revoked; pair it again.")
		case DevicePending:
			if k.PairingExpiresAt == nil || !now.Before(*k.PairingExpiresAt) {
				return perch.Errorf(perch.EUNAUTHORIZED, "The pairing expired before an admin paired this kiosk; start pairing again.")
			}
			return perch.Errorf(ENotPaired, "An admin has not paired this kiosk yet: enter code %s in Perch, then ask again.", deref(k.PairingCode))
		}
		hash := users.HashToken(token)
		res := tx.Model(&Kiosk{}).Where("id = ? AND status = ?", k.ID, DevicePaired).
			Updates(map[string]any{"token_hash": hash, "last_seen_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return perch.Errorf(perch.EUNAUTHORIZED, "This kiosk was revoked; pair it again.")
		}
		k.TokenHash, k.LastSeenAt = &hash, &now
		return nil
	})
	if err != nil {
		return nil, err
	}
	k.Online = d.online(&k, now)
	return &Grant{Token: token, Kiosk: k}, nil
}

// Authenticate returns the principal of a live kiosk token: the device
// account, with the kiosk's scope (RoomID for a door panel, SiteID for a
// lobby display). Anything else is unauthorized.
func (d *Devices) Authenticate(ctx context.Context, token string) (*users.Principal, error) {
	if !strings.HasPrefix(token, DeviceTokenPrefix) || len(token) > 200 {
		return nil, perch.Errorf(perch.EUNAUTHORIZED, "The token is not valid.")
	}
	var rows []struct {
		ID     string
		Kind   *Kind
		RoomID *string
		SiteID *string
		Status DeviceStatus
		UserID string
		Name   string
		Email  string
	}
	err := d.db.Conn(ctx).Table("kiosks k").
		Select("k.id, k.kind, k.room_id, k.site_id, k.status, u.id AS user_id, u.name, u.email").
		Joins("JOIN users u ON u.id = k.user_id").
		Where("k.token_hash = ?", users.HashToken(token)).Limit(1).Scan(&rows).Error
	if err != nil {
		return nil, database.Translate(err)
	}
	if len(rows) == 0 {
		return nil, perch.Errorf(perch.EUNAUTHORIZED, "The token is not valid.")
	}
	r := rows[0]
	if r.Status != DevicePaired || r.Kind == nil {
		return nil, perch.Errorf(perch.EUNAUTHORIZED, "This kiosk was revoked.")
	}
	p := &users.Principal{UserID: r.UserID, Name: r.Name, Email: r.Email, Role: users.RoleKiosk, KioskID: r.ID}
	switch *r.Kind {
	case KindRoom:
		p.RoomID = deref(r.RoomID)
	case KindLobby:
		p.SiteID = deref(r.SiteID)
	}
	return p, nil
}

// List lists kiosks (paired, revoked and waiting), oldest first.
func (d *Devices) List(ctx context.Context, p database.Page) ([]Kiosk, string, error) {
	ks, next, err := database.Paginate(d.db.Conn(ctx).Model(&Kiosk{}), p, "id", func(k *Kiosk) (any, string) { return k.ID, k.ID })
	if err != nil {
		return nil, "", err
	}
	now := d.clock()
	for i := range ks {
		ks[i].Online = d.online(&ks[i], now)
	}
	return ks, next, nil
}

// Get returns one kiosk.
func (d *Devices) Get(ctx context.Context, id string) (*Kiosk, error) {
	var ks []Kiosk
	if err := d.db.Conn(ctx).Where("id = ?", id).Limit(1).Find(&ks).Error; err != nil {
		return nil, database.Translate(err)
	}
	if len(ks) == 0 {
		return nil, perch.NotFound("kiosk")
	}
	ks[0].Online = d.online(&ks[0], d.clock())
	return &ks[0], nil
}

// RevokedPayload is the payload of a kiosk.revoked outbox event.
type RevokedPayload struct {
	KioskID string `json:"kiosk_id"`
}

// Revoke stops a kiosk: its secret and token no longer work. In the same
// transaction it writes a kiosk.revoked outbox event, so every replica's
// hub closes the kiosk's socket at once. Revoking a revoked kiosk changes
// nothing.
func (d *Devices) Revoke(ctx context.Context, id string) error {
	now := d.clock()
	return d.bookings.EventTx(ctx, func(tx *gorm.DB) error {
		q := tx.Where("id = ?", id)
		if d.db.Dialect() == database.Postgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		var ks []Kiosk
		if err := q.Limit(1).Find(&ks).Error; err != nil {
			return err
		}
		if len(ks) == 0 {
			return perch.NotFound("kiosk")
		}
		k := ks[0]
		if k.Status == DeviceRevoked {
			return nil
		}
		if err := tx.Model(&Kiosk{}).Where("id = ?", id).Updates(map[string]any{
			"status": DeviceRevoked, "revoked_at": now, "pairing_code": nil,
		}).Error; err != nil {
			return err
		}
		payload, err := json.Marshal(RevokedPayload{KioskID: id})
		if err != nil {
			return err
		}
		ev := &booking.Event{Kind: EventKioskRevoked, SiteID: k.SiteID, Payload: string(payload), CreatedAt: now}
		if k.RoomID != nil {
			var rooms []struct{ FloorID string }
			if err := tx.Table("rooms").Select("floor_id").Where("id = ?", *k.RoomID).Scan(&rooms).Error; err != nil {
				return err
			}
			ev.ResourceID = k.RoomID
			if len(rooms) > 0 {
				ev.FloorID = &rooms[0].FloorID
			}
		}
		return tx.Create(ev).Error
	})
}

// Place names what a kiosk is paired to, for DeletePlace.
type Place string

// The places a kiosk can be paired to.
const (
	AtRoom Place = "room_id"
	AtSite Place = "site_id"
)

// DeletePlace deletes a room or site with del (its kiosks go with it, by
// the schema's cascade) and then tells every replica to close those
// kiosks' sockets, as a revocation would. When del refuses, nothing
// changes.
func (d *Devices) DeletePlace(ctx context.Context, at Place, id string, del func(context.Context, string) error) error {
	var ks []Kiosk
	if database.ValidID(id) {
		if err := d.db.Conn(ctx).Where(string(at)+" = ? AND status = ?", id, DevicePaired).Find(&ks).Error; err != nil {
			return database.Translate(err)
		}
	}
	if err := del(ctx, id); err != nil {
		return err
	}
	if len(ks) == 0 {
		return nil
	}
	now := d.clock()
	return d.bookings.EventTx(ctx, func(tx *gorm.DB) error {
		for _, k := range ks {
			payload, err := json.Marshal(RevokedPayload{KioskID: k.ID})
			if err != nil {
				return err
			}
			// The room and site rows are gone: the event names the kiosk only.
			if err := tx.Create(&booking.Event{Kind: EventKioskRevoked, Payload: string(payload), CreatedAt: now}).Error; err != nil {
				return err
			}
		}
		return nil
	})
}

// Touch records that the kiosk was seen at at (the hub calls it on
// heartbeats). A kiosk that is not paired (any more) is not_found.
func (d *Devices) Touch(ctx context.Context, id string, at time.Time) error {
	res := d.db.Conn(ctx).Model(&Kiosk{}).Where("id = ? AND status = ?", id, DevicePaired).Update("last_seen_at", at.UTC())
	if res.Error != nil {
		return database.Translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return perch.NotFound("kiosk")
	}
	return nil
}

// online reports whether a paired kiosk was seen within OnlineWithin of now.
func (d *Devices) online(k *Kiosk, now time.Time) bool {
	return k.Status == DevicePaired && k.LastSeenAt != nil && now.Sub(*k.LastSeenAt) <= OnlineWithin
}

// randomString is 256 random bits, URL-safe.
func randomString() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// pairingCode draws a code uniformly from PairingAlphabet.
func pairingCode() (string, error) {
	n := big.NewInt(int64(len(PairingAlphabet)))
	var sb strings.Builder
	for range PairingCodeLen {
		i, err := rand.Int(rand.Reader, n)
		if err != nil {
			return "", fmt.Errorf("draw a pairing code: %w", err)
		}
		sb.WriteByte(PairingAlphabet[i.Int64()])
	}
	return sb.String(), nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
