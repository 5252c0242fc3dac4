package kiosk

import (
	"slices"
	"testing"

	"github.com/perch-hq/perch/booking"
)

// Where events go: a visitor's arrival reaches the host and reception but
// never a site's lobby display or floor maps; a booking reaches its floor,
// its room's door, its site and its owner.
func TestTopicsOfEvents(t *testing.T) {
	site, floor, room, user := "S", "F", "R", "U"
	cases := []struct {
		e    booking.Event
		want []string
	}{
		{booking.Event{Kind: "visitor.arrived", SiteID: &site, UserID: &user}, []string{"user:U", "reception"}},
		{booking.Event{Kind: "visitor.flagged", SiteID: &site}, []string{"reception"}},
		{booking.Event{Kind: booking.EventCreated, SiteID: &site, FloorID: &floor, ResourceID: &room, UserID: &user, Payload: "{}"},
			[]string{"user:U", "floor:F", "room:R", "site:S"}},
		{booking.Event{Kind: EventKioskRevoked, SiteID: &site, Payload: `{"kiosk_id":"K"}`}, []string{"kiosk:K"}},
	}
	for _, c := range cases {
		if got := topicsOf(&c.e); !slices.Equal(got, c.want) {
			t.Errorf("%s: topics %v, want %v", c.e.Kind, got, c.want)
		}
	}
}
