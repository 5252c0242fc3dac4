//go:build e2e

package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The whole live path in a real browser: a door tablet pairs (its code
// entered on the admin page), a person on a phone books a desk on the map
// and a second page's map turns it booked without a reload; they book the
// room and the door tablet beside it turns busy; the door checks the
// meeting in and the maps show it occupied.
func TestLiveBookingReachesMapAndDoor(t *testing.T) {
	s := startPerch(t)
	loc := s.prepare(t)
	b := newBrowser(t)
	desk := s.resourceID(t, "desk", "1A-05")
	spree := s.resourceID(t, "room", "Spree")

	// 1. The door tablet shows a pairing code; the admin enters it.
	door := b.tab(t, s.url+"/kiosk", 1280, 800, false)
	waitJS(t, door, "a pairing code", `/^[A-Z0-9]{6,}$/.test(document.getElementById("pairing-code").textContent)`, 15*time.Second)
	code := text(t, door, "#pairing-code")
	b.screenshot(t, door, "01-kiosk-pairing")

	admin := b.tab(t, s.url+"/admin#token="+s.tokens["admin"], 1280, 900, false)
	waitJS(t, admin, "the admin page", `document.querySelector("#pair-room option[value='`+spree+`']") !== null`, 15*time.Second)
	run(t, admin,
		chromedp.SetValue("#pair-code", code, chromedp.ByQuery),
		chromedp.SetValue("#pair-kind", "room", chromedp.ByQuery),
		chromedp.SetValue("#pair-room", spree, chromedp.ByQuery),
		chromedp.SetValue("#pair-name", "Spree door", chromedp.ByQuery),
		chromedp.Click(`#pair-form button[type=submit]`, chromedp.ByQuery))
	waitJS(t, admin, "the kiosk listed as paired", `[...document.querySelectorAll("#kiosk-list li")].some(li => li.textContent.includes("Spree door") && li.textContent.includes("paired"))`, 15*time.Second)
	b.screenshot(t, admin, "02-admin-paired")

	// The tablet switches to the door display by itself, live.
	waitJS(t, door, "the door display", `!document.getElementById("door").hidden && document.getElementById("room-name").textContent === "Spree" && document.body.dataset.live === "up"`, 15*time.Second)
	if got := text(t, door, "#state-word"); got != "Free" {
		t.Fatalf("the door says %q, want Free", got)
	}
	b.screenshot(t, door, "03-door-free")

	// 2. A second page watches the floor map (live socket up).
	watcher := b.tab(t, s.url+"/#token="+s.tokens["admin"], 1280, 900, false)
	deskSel := fmt.Sprintf(`document.querySelector('#plan [data-id="%s"]')`, desk)
	waitJS(t, watcher, "the watcher's map", deskSel+` !== null && `+deskSel+`.dataset.state === "free" && document.body.dataset.live === "up"`, 15*time.Second)

	// 3. On a phone: tap the desk, book it for the day.
	phone := b.tab(t, s.url+"/#token="+s.tokens["employee"], 390, 844, true)
	waitJS(t, phone, "the phone's map", deskSel+` !== null && document.body.dataset.live === "up"`, 15*time.Second)
	b.screenshot(t, phone, "04-phone-map")
	tap(t, phone, fmt.Sprintf(`#plan [data-id="%s"]`, desk))
	waitJS(t, phone, "the booking sheet", `document.getElementById("sheet").open`, 5*time.Second)
	b.screenshot(t, phone, "05-phone-sheet")
	run(t, phone, chromedp.Click("#sheet-book", chromedp.ByQuery))
	booked := time.Now()
	waitJS(t, phone, "the booking confirmed", `document.getElementById("msg").textContent.startsWith("Booked 1A-05")`, 10*time.Second)
	// The socket, not polling (every 15 s), brings it to the other page.
	waitJS(t, watcher, "the desk booked on the other page's map", deskSel+`.dataset.state === "booked"`, 10*time.Second)
	t.Logf("desk booked on the phone → shown booked on the other page's map in %v", time.Since(booked).Round(time.Millisecond))
	waitJS(t, phone, "the desk shown as mine", deskSel+`.dataset.state === "mine"`, 10*time.Second)
	b.screenshot(t, phone, "06-phone-booked")
	b.screenshot(t, watcher, "07-watcher-booked")

	// 4. The phone books the room for the next half hour; the door turns busy.
	now := time.Now().In(loc)
	from := now.Format("15:04")
	to := now.Add(30 * time.Minute).Format("15:04")
	roomSel := fmt.Sprintf(`#plan [data-id="%s"]`, spree)
	tap(t, phone, roomSel)
	waitJS(t, phone, "the room sheet", `document.getElementById("sheet").open && !document.getElementById("sheet-room").hidden`, 5*time.Second)
	run(t, phone,
		chromedp.SetValue("#sheet-from", from, chromedp.ByQuery),
		chromedp.SetValue("#sheet-to", to, chromedp.ByQuery),
		chromedp.SetValue("#sheet-title", "Sprint review", chromedp.ByQuery),
		chromedp.Click("#sheet-book", chromedp.ByQuery))
	booked = time.Now()
	waitJS(t, phone, "the room booking confirmed", `document.getElementById("msg").textContent.startsWith("Booked Spree")`, 10*time.Second)
	waitJS(t, door, "the door busy", `document.getElementById("door-state").dataset.state === "booked" && document.getElementById("state-word").textContent === "Busy"`, 10*time.Second)
	t.Logf("room booked on the phone → door busy in %v", time.Since(booked).Round(time.Millisecond))
	if cur := text(t, door, "#current"); cur == "" {
		t.Fatal("the door shows no current meeting")
	}
	b.screenshot(t, door, "08-door-busy")

	// 5. At the door: check the meeting in; every map shows it occupied.
	run(t, door, chromedp.Click(`#actions button.primary`, chromedp.ByQuery))
	waitJS(t, door, "the door checked in", `document.getElementById("door-state").dataset.state === "checked_in"`, 10*time.Second)
	waitJS(t, watcher, "the room occupied on the map", fmt.Sprintf(`document.querySelector('%s').dataset.state === "checked_in"`, roomSel), 10*time.Second)
	b.screenshot(t, door, "09-door-checked-in")
	b.screenshot(t, watcher, "10-watcher-occupied")
}
