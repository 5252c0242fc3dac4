package kiosk_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/booking"
	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/database/dbtest"
	"github.com/perch-hq/perch/demo"
	"github.com/perch-hq/perch/floorplans"
	"github.com/perch-hq/perch/kiosk"
	"github.com/perch-hq/perch/users"
)

var devBerlin = func() *time.Location {
	l, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		panic(err)
	}
	return l
}()

// at is a wall-clock time in Berlin on a day of March 2026 (the 23rd is a
// Monday).
func devAt(day, h, m int) time.Time { return time.Date(2026, 3, day, h, m, 0, 0, devBerlin) }

var devAdmin = &users.Principal{Role: users.RoleAdmin, Name: "Test admin"}

// devCounter is an outbox Notifier that counts.
type devCounter struct{ n atomic.Int64 }

func (c *devCounter) Notify() { c.n.Add(1) }

// devFixture is the demo office with the kiosk and booking services on one
// settable clock.
type devFixture struct {
	t        *testing.T
	db       *database.DB
	devices  *kiosk.Devices
	bookings *booking.Service
	fp       *floorplans.Service
	notified *devCounter
	mu       sync.Mutex
	now      time.Time
}

func newDevFixture(t *testing.T, db *database.DB) *devFixture {
	t.Helper()
	if _, err := demo.Load(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	f := &devFixture{t: t, db: db, now: devAt(23, 9, 0), notified: &devCounter{}}
	clock := func() time.Time {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.now.UTC()
	}
	f.fp = floorplans.NewService(db)
	f.bookings = booking.NewService(db, f.fp, booking.WithClock(clock), booking.WithNotifier(f.notified))
	f.devices = kiosk.NewDevices(db, f.bookings, kiosk.WithDevicesClock(clock))
	return f
}

func (f *devFixture) setNow(t time.Time) { f.mu.Lock(); f.now = t; f.mu.Unlock() }

func devRoom(name string) string { return demo.ID("room", name) }

// pair pairs a new kiosk (kind room: place is a room id; lobby: a site id)
// and returns its principal, token and id.
func (f *devFixture) pair(kind kiosk.Kind, place string) (*users.Principal, string, string) {
	f.t.Helper()
	ctx := context.Background()
	p, err := f.devices.StartPairing(ctx)
	if err != nil {
		f.t.Fatalf("start pairing: %v", err)
	}
	req := kiosk.PairRequest{PairingCode: p.PairingCode, Kind: kind}
	if kind == kiosk.KindRoom {
		req.RoomID = place
	} else {
		req.SiteID = place
	}
	if _, err := f.devices.Pair(ctx, devAdmin, req); err != nil {
		f.t.Fatalf("pair: %v", err)
	}
	g, err := f.devices.ExchangeToken(ctx, p.DeviceSecret)
	if err != nil {
		f.t.Fatalf("exchange: %v", err)
	}
	pr, err := f.devices.Authenticate(ctx, g.Token)
	if err != nil {
		f.t.Fatalf("authenticate: %v", err)
	}
	return pr, g.Token, g.Kiosk.ID
}

func errCode(err error) string { return perch.ErrorCode(err) }

// Codes are drawn from the unambiguous alphabet, unique among the waiting
// devices even when many start at once; only hashes are stored.
func TestDevicesStartPairing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newDevFixture(t, db)
		ctx := context.Background()
		const n = 40
		got := make([]*kiosk.Pairing, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got[i], errs[i] = f.devices.StartPairing(ctx)
			}()
		}
		wg.Wait()
		codes, secrets := map[string]bool{}, map[string]bool{}
		for i, p := range got {
			if errs[i] != nil {
				t.Fatalf("start %d: %v", i, errs[i])
			}
			if len(p.PairingCode) != kiosk.PairingCodeLen || strings.Trim(p.PairingCode, kiosk.PairingAlphabet) != "" {
				t.Fatalf("code %q", p.PairingCode)
			}
			if !strings.HasPrefix(p.DeviceSecret, kiosk.DeviceSecretPrefix) || len(p.DeviceSecret) < len(kiosk.DeviceSecretPrefix)+43 {
				t.Fatalf("secret %q", p.DeviceSecret)
			}
			if !p.ExpiresAt.Equal(devAt(23, 9, 15)) {
				t.Fatalf("expires %v", p.ExpiresAt)
			}
			codes[p.PairingCode], secrets[p.DeviceSecret] = true, true
		}
		if len(codes) != n || len(secrets) != n {
			t.Fatalf("%d codes and %d secrets for %d devices", len(codes), len(secrets), n)
		}
		var plain int64
		if err := db.Conn(ctx).Table("kiosks").Where("secret_hash = ? OR secret_hash NOT LIKE '________________________________________________________________'", got[0].DeviceSecret).
			Count(&plain).Error; err != nil || plain != 0 {
			t.Fatalf("%d secrets not stored as SHA-256 hex (%v)", plain, err)
		}
		// Expired waiting devices are cleared by the next start.
		f.setNow(devAt(23, 9, 16))
		if _, err := f.devices.StartPairing(ctx); err != nil {
			t.Fatal(err)
		}
		ks, _, err := f.devices.List(ctx, database.Page{})
		if err != nil || len(ks) != 1 || ks[0].Status != kiosk.DevicePending || ks[0].Online {
			t.Fatalf("after expiry: %+v %v", ks, err)
		}
	})
}

// Pairing creates the device account and scopes the principal; only admins
// pair; one code pairs one device, even when two admins race for it.
func TestDevicesPairAndAuthenticate(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newDevFixture(t, db)
		ctx := context.Background()
		p, err := f.devices.StartPairing(ctx)
		if err != nil {
			t.Fatal(err)
		}
		req := kiosk.PairRequest{PairingCode: strings.ToLower(p.PairingCode), Kind: kiosk.KindRoom, RoomID: devRoom("Spree")}
		if _, err := f.devices.Pair(ctx, &users.Principal{Role: users.RoleReception}, req); errCode(err) != perch.EFORBIDDEN {
			t.Fatalf("reception pairs: %v", err)
		}
		// Two admins at once: one pairs, the other finds the code used.
		var wg sync.WaitGroup
		res := make([]*kiosk.Kiosk, 2)
		errs := make([]error, 2)
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res[i], errs[i] = f.devices.Pair(ctx, devAdmin, req)
			}()
		}
		wg.Wait()
		ok := 0
		var k *kiosk.Kiosk
		for i := range 2 {
			switch {
			case errs[i] == nil:
				ok++
				k = res[i]
			case errCode(errs[i]) != perch.ENOTFOUND:
				t.Fatalf("the losing admin: %v", errs[i])
			}
		}
		if ok != 1 {
			t.Fatalf("%d admins paired one code", ok)
		}
		var accounts int64
		db.Conn(ctx).Table("users").Where("role = 'kiosk' AND email LIKE 'kiosk-%@devices.perch.invalid'").Count(&accounts)
		if accounts != 1 {
			t.Fatalf("%d device accounts, want 1", accounts)
		}
		u, err := users.NewService(db).GetUser(ctx, *k.UserID)
		if err != nil || u.Role != users.RoleKiosk || u.Name != "Door panel · Spree" || u.Email != "kiosk-"+k.ID+"@devices.perch.invalid" {
			t.Fatalf("device account %+v %v", u, err)
		}
		g, err := f.devices.ExchangeToken(ctx, p.DeviceSecret)
		if err != nil {
			t.Fatal(err)
		}
		pr, err := f.devices.Authenticate(ctx, g.Token)
		if err != nil || pr.UserID != u.ID || pr.Role != users.RoleKiosk || pr.KioskID != k.ID || pr.RoomID != devRoom("Spree") ||
			pr.SiteID != "" || pr.Name != "Door panel · Spree" || pr.Bootstrap {
			t.Fatalf("principal %+v %v", pr, err)
		}
		for _, bad := range []string{"", "perchk_", "perchk_nope", g.Token + "x", p.DeviceSecret, "perch_" + g.Token[7:]} {
			if _, err := f.devices.Authenticate(ctx, bad); errCode(err) != perch.EUNAUTHORIZED {
				t.Fatalf("token %q: %v", bad, err)
			}
		}
		lobby, _, _ := f.pair(kiosk.KindLobby, demo.SiteID)
		if lobby.SiteID != demo.SiteID || lobby.RoomID != "" || lobby.Name != "Lobby · Berlin HQ" {
			t.Fatalf("lobby principal %+v", lobby)
		}
	})
}

// The exchange: not_paired while waiting; each exchange replaces the token;
// a revoked kiosk gets nothing.
func TestDevicesExchangeToken(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newDevFixture(t, db)
		ctx := context.Background()
		p, err := f.devices.StartPairing(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.devices.ExchangeToken(ctx, p.DeviceSecret); errCode(err) != kiosk.ENotPaired || !strings.Contains(perch.ErrorMessage(err), p.PairingCode) {
			t.Fatalf("waiting: %v", err)
		}
		if _, err := f.devices.Pair(ctx, devAdmin, kiosk.PairRequest{PairingCode: p.PairingCode, Kind: kiosk.KindRoom, RoomID: devRoom("Havel")}); err != nil {
			t.Fatal(err)
		}
		g1, err := f.devices.ExchangeToken(ctx, p.DeviceSecret)
		if err != nil || !strings.HasPrefix(g1.Token, kiosk.DeviceTokenPrefix) || *g1.Kiosk.Kind != kiosk.KindRoom || *g1.Kiosk.RoomID != devRoom("Havel") || !g1.Kiosk.Online {
			t.Fatalf("first exchange: %+v %v", g1, err)
		}
		g2, err := f.devices.ExchangeToken(ctx, p.DeviceSecret)
		if err != nil || g2.Token == g1.Token {
			t.Fatalf("second exchange: %+v %v", g2, err)
		}
		if _, err := f.devices.Authenticate(ctx, g1.Token); errCode(err) != perch.EUNAUTHORIZED {
			t.Fatalf("the replaced token: %v", err)
		}
		if _, err := f.devices.Authenticate(ctx, g2.Token); err != nil {
			t.Fatalf("the latest token: %v", err)
		}
		if err := f.devices.Revoke(ctx, g2.Kiosk.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.devices.ExchangeToken(ctx, p.DeviceSecret); errCode(err) != perch.EUNAUTHORIZED {
			t.Fatalf("revoked: %v", err)
		}
		if _, err := f.devices.Authenticate(ctx, g2.Token); errCode(err) != perch.EUNAUTHORIZED {
			t.Fatalf("revoked token: %v", err)
		}
		for _, bad := range []string{"", "perchd_nope", "secret", g2.Token} {
			if _, err := f.devices.ExchangeToken(ctx, bad); errCode(err) != perch.EUNAUTHORIZED {
				t.Fatalf("secret %q: %v", bad, err)
			}
		}
	})
}

// Revoking writes one kiosk.revoked outbox row in the same transaction and
// wakes the outbox readers; a waiting device can be revoked too.
func TestDevicesRevokeWritesTheOutbox(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newDevFixture(t, db)
		ctx := context.Background()
		_, _, id := f.pair(kiosk.KindRoom, devRoom("Tegel"))
		before := f.notified.n.Load()
		if err := f.devices.Revoke(ctx, id); err != nil {
			t.Fatal(err)
		}
		if f.notified.n.Load() != before+1 {
			t.Fatalf("outbox readers woken %d times, want once", f.notified.n.Load()-before)
		}
		var evs []booking.Event
		if err := db.Conn(ctx).Where("kind = ?", kiosk.EventKioskRevoked).Find(&evs).Error; err != nil || len(evs) != 1 {
			t.Fatalf("events %+v %v", evs, err)
		}
		var p kiosk.RevokedPayload
		if err := json.Unmarshal([]byte(evs[0].Payload), &p); err != nil || p.KioskID != id || *evs[0].ResourceID != devRoom("Tegel") ||
			*evs[0].SiteID != demo.SiteID || evs[0].BookingID != nil {
			t.Fatalf("event %+v %v", evs[0], err)
		}
		k, err := f.devices.Get(ctx, id)
		if err != nil || k.Status != kiosk.DeviceRevoked || k.RevokedAt == nil {
			t.Fatalf("revoked kiosk %+v %v", k, err)
		}
		// A waiting device: revoked, its code gone.
		w, err := f.devices.StartPairing(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.devices.Revoke(ctx, w.KioskID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.devices.Pair(ctx, devAdmin, kiosk.PairRequest{PairingCode: w.PairingCode, Kind: kiosk.KindLobby, SiteID: demo.SiteID}); errCode(err) != perch.ENOTFOUND {
			t.Fatalf("pairing a revoked device: %v", err)
		}
		if err := f.devices.Revoke(ctx, database.NewID()); errCode(err) != perch.ENOTFOUND {
			t.Fatalf("unknown kiosk: %v", err)
		}
	})
}

// Heartbeats: online means seen within the last 60 seconds.
func TestDevicesTouchAndOnline(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newDevFixture(t, db)
		ctx := context.Background()
		_, _, id := f.pair(kiosk.KindRoom, devRoom("Mitte"))
		for _, c := range []struct {
			seen, now time.Time
			online    bool
		}{
			{devAt(23, 9, 0), devAt(23, 9, 1), true},
			{devAt(23, 9, 0), devAt(23, 9, 1).Add(time.Second), false},
			{devAt(23, 10, 0), devAt(23, 10, 0).Add(59 * time.Second), true},
		} {
			if err := f.devices.Touch(ctx, id, c.seen); err != nil {
				t.Fatal(err)
			}
			f.setNow(c.now)
			k, err := f.devices.Get(ctx, id)
			if err != nil || k.Online != c.online || !k.LastSeenAt.Equal(c.seen) {
				t.Fatalf("seen %v, now %v: %+v %v", c.seen, c.now, k, err)
			}
		}
		if err := f.devices.Touch(ctx, database.NewID(), devAt(23, 10, 0)); errCode(err) != perch.ENOTFOUND {
			t.Fatalf("touch unknown: %v", err)
		}
		if _, err := f.devices.Get(ctx, database.NewID()); errCode(err) != perch.ENOTFOUND {
			t.Fatalf("get unknown: %v", err)
		}
	})
}

// A room's kiosks go with the room: deleting it removes them and their
// tokens stop working.
func TestDevicesGoWithTheirRoom(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newDevFixture(t, db)
		ctx := context.Background()
		_, tok, id := f.pair(kiosk.KindRoom, devRoom("Pankow"))
		if err := f.fp.DeleteRoom(ctx, devRoom("Pankow")); err != nil {
			t.Fatal(err)
		}
		if _, err := f.devices.Get(ctx, id); errCode(err) != perch.ENOTFOUND {
			t.Fatalf("kiosk of a deleted room: %v", err)
		}
		if _, err := f.devices.Authenticate(ctx, tok); errCode(err) != perch.EUNAUTHORIZED {
			t.Fatalf("token of a deleted room's kiosk: %v", err)
		}
	})
}

// Many kiosks list page by page, each once.
func TestDevicesListPages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newDevFixture(t, db)
		ctx := context.Background()
		want := map[string]bool{}
		for i := range 7 {
			_, _, id := f.pair(kiosk.KindRoom, devRoom([]string{"Spree", "Havel", "Tegel", "Wannsee", "Mitte", "Kreuzberg", "Pankow"}[i]))
			want[id] = true
		}
		seen := map[string]bool{}
		cursor := ""
		for range 10 {
			p, err := database.NewPage(3, cursor)
			if err != nil {
				t.Fatal(err)
			}
			ks, next, err := f.devices.List(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range ks {
				if seen[k.ID] {
					t.Fatalf("%s listed twice", k.ID)
				}
				seen[k.ID] = true
			}
			if cursor = next; cursor == "" {
				break
			}
		}
		if len(seen) != len(want) {
			t.Fatalf("listed %d of %d", len(seen), len(want))
		}
	})
}
