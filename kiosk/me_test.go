package kiosk_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/perch-hq/perch/booking"
	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/database/dbtest"
	"github.com/perch-hq/perch/demo"
	"github.com/perch-hq/perch/kiosk/client"
	"github.com/perch-hq/perch/users"
)

// /ws/me carries a person's own news: changes to their bookings and
// visitors arriving for them. Nobody else's. Reception and admins also get
// every visitor event; kiosks have no such channel.
func TestMeChannel(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		l := newLive(t, db)
		ctx := context.Background()
		// A second employee with a token of their own.
		const adaEmail = "ada.arndt@example.com"
		plain, _, err := users.NewService(db).MintToken(ctx, demo.ID("user", adaEmail), "test", 0)
		if err != nil {
			t.Fatal(err)
		}
		l.tokens["ada"] = plain

		emil := l.dial("/ws/me", "employee", -1)
		ada := l.dial("/ws/me", "ada", -1)
		rec := l.dial("/ws/me", "reception", -1)
		for _, c := range []*client.Conn{emil, ada, rec} {
			if m := next(t, c); m.Type != "snapshot" {
				t.Fatalf("first message %+v, want a snapshot", m)
			}
		}

		// Emil's booking reaches Emil only.
		mine := l.book(booking.Desk, demo.ID("desk", "1A-01"), 9, demo.EmployeeEmail)
		m := next(t, emil)
		if m.Type != "delta" || m.Kind != booking.EventCreated || bookingOf(t, m) != mine.ID {
			t.Fatalf("emil got %+v, want his booking", m)
		}
		seqAfterBooking := m.Seq

		// A visitor arrives for Emil (as package visitors writes it).
		site := demo.SiteID
		host := demo.ID("user", demo.EmployeeEmail)
		arrival := &booking.Event{Kind: "visitor.arrived", SiteID: &site, UserID: &host,
			Payload: `{"visit_id":"v1","visitor":"Vera V.","company":"Acme"}`, CreatedAt: time.Now().UTC()}
		if err := db.Conn(ctx).Create(arrival).Error; err != nil {
			t.Fatal(err)
		}
		if m := next(t, emil); m.Type != "delta" || m.Kind != "visitor.arrived" || m.Seq != arrival.Seq {
			t.Fatalf("emil got %+v, want the visitor's arrival", m)
		}
		if m := next(t, rec); m.Type != "delta" || m.Kind != "visitor.arrived" {
			t.Fatalf("reception got %+v, want the visitor's arrival", m)
		}

		// Ada's next message is her own booking: she saw neither of Emil's.
		hers := l.book(booking.Desk, demo.ID("desk", "1A-02"), 9, adaEmail)
		if m := next(t, ada); m.Kind != booking.EventCreated || bookingOf(t, m) != hers.ID {
			t.Fatalf("ada got %+v, want only her own booking", m)
		}

		// Emil drops and resumes: he gets exactly what he missed of his own.
		emil.Close()
		later := l.book(booking.Room, demo.ID("room", "Spree"), 11, demo.EmployeeEmail)
		l.book(booking.Room, demo.ID("room", "Spree"), 12, adaEmail)
		again := l.dial("/ws/me", "employee", arrival.Seq)
		if m := next(t, again); m.Kind != booking.EventCreated || bookingOf(t, m) != later.ID || m.Seq <= seqAfterBooking {
			t.Fatalf("resumed: %+v, want his later booking", m)
		}
		last := l.book(booking.Room, demo.ID("room", "Spree"), 14, demo.EmployeeEmail)
		if m := next(t, again); bookingOf(t, m) != last.ID {
			t.Fatalf("then %+v, want his next booking (nothing of Ada's in between)", m)
		}
	})
}

// A kiosk (a device account) has no /ws/me.
func TestMeChannelRefusesKiosks(t *testing.T) {
	l := newLive(t, dbtest.OpenSQLite(t))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := client.Dial(ctx, nil, l.wsURL+"/ws/me", l.tokens[users.RoleKiosk], -1)
	var he *client.HandshakeError
	if !errors.As(err, &he) || he.Status != 403 {
		t.Fatalf("kiosk on /ws/me: %v, want 403", err)
	}
}
