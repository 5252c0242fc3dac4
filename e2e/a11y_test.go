//go:build e2e

package e2e

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// axe-core, the accessibility rules engine (testdata/axe/README.md).
//
//go:embed testdata/axe/axe.min.js
var axeSource string

// axeViolation is one failed rule of axe's report.
type axeViolation struct {
	ID    string `json:"id"`
	Help  string `json:"help"`
	Nodes []struct {
		Target  []any  `json:"target"`
		Summary string `json:"failureSummary"`
	} `json:"nodes"`
}

// violations runs axe's WCAG 2.0/2.1 A and AA rules (names and labels,
// roles, AA colour contrast, landmarks, language, duplicate ids, …) on the
// page as it is now.
func violations(t *testing.T, ctx context.Context) []axeViolation {
	t.Helper()
	var loaded bool
	run(t, ctx, chromedp.Evaluate(`typeof window.axe === "object"`, &loaded))
	if !loaded {
		var ignored bool
		run(t, ctx, chromedp.Evaluate(axeSource+";true", &ignored))
	}
	var raw string
	run(t, ctx, chromedp.Evaluate(`axe.run(document, {
		runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
		resultTypes: ["violations"],
	}).then(r => JSON.stringify(r.violations))`, &raw, func(p *runtime.EvaluateParams) *runtime.EvaluateParams {
		return p.WithAwaitPromise(true)
	}))
	var vs []axeViolation
	if err := json.Unmarshal([]byte(raw), &vs); err != nil {
		t.Fatalf("axe's report: %v", err)
	}
	return vs
}

// audit fails the test with every violation axe finds on the page.
func audit(t *testing.T, b *browser, ctx context.Context, name string) {
	t.Helper()
	vs := violations(t, ctx)
	if len(vs) == 0 {
		t.Logf("%s: no WCAG 2.1 A/AA violations", name)
		return
	}
	b.screenshot(t, ctx, "a11y-"+name)
	var sb strings.Builder
	for _, v := range vs {
		fmt.Fprintf(&sb, "\n  %s: %s", v.ID, v.Help)
		for i, n := range v.Nodes {
			if i == 5 {
				fmt.Fprintf(&sb, "\n    … and %d more", len(v.Nodes)-5)
				break
			}
			fmt.Fprintf(&sb, "\n    %v: %s", n.Target, strings.ReplaceAll(n.Summary, "\n", " "))
		}
	}
	t.Errorf("%s: %d accessibility rule(s) fail:%s", name, len(vs), sb.String())
}

// press sends one key press (down with its text, up) to the focused element
// as a keyboard does: the browser's default action (a keypress activating a
// button) follows unless a key-down handler prevents it. (chromedp.KeyEvent
// sends a separate "char" event, which would activate whatever has focus
// even then.)
func press(t *testing.T, ctx context.Context, key string) {
	t.Helper()
	codes := map[string]int64{"Tab": 9, "Enter": 13, "Escape": 27, " ": 32}
	code, ok := codes[key]
	if !ok {
		t.Fatalf("press: no key code for %q", key)
	}
	name := key
	if key == " " {
		name = "Space"
	}
	down := input.DispatchKeyEvent(input.KeyDown).WithKey(key).WithCode(name).WithWindowsVirtualKeyCode(code).WithNativeVirtualKeyCode(code)
	if key == "Enter" || key == " " {
		down = down.WithText(map[string]string{"Enter": "\r", " ": " "}[key])
	}
	up := input.DispatchKeyEvent(input.KeyUp).WithKey(key).WithCode(name).WithWindowsVirtualKeyCode(code).WithNativeVirtualKeyCode(code)
	run(t, ctx, down, up)
}

// focusedDesc describes document.activeElement.
const focusedDesc = `(() => { const e = document.activeElement; return e ? (e.dataset.id || e.id || e.tagName) : ""; })()`

// TestAccessibility audits every page in its main states with axe-core
// (WCAG 2.1 A and AA, contrast included), and books a desk on the map with
// the keyboard alone.
func TestAccessibility(t *testing.T) {
	s := startPerch(t)
	s.prepare(t)
	b := newBrowser(t)
	desk := s.resourceID(t, "desk", "1A-07")
	spree := s.resourceID(t, "room", "Spree")
	var sites struct{ Items []struct{ ID string } }
	s.call(t, "GET", "/api/v1/sites", nil, &sites)

	// The employee's phone page: the map, then the booking sheet.
	phone := b.tab(t, s.url+"/#token="+s.tokens["employee"], 390, 844, true)
	deskSel := fmt.Sprintf(`document.querySelector('#plan [data-id="%s"]')`, desk)
	waitJS(t, phone, "the phone's map", deskSel+` !== null && document.body.dataset.live === "up"`, 15*time.Second)
	audit(t, b, phone, "phone-map")

	// Keyboard only: Tab reaches the desk on the map, Enter opens the sheet,
	// and the sheet's Book button books it.
	run(t, phone, chromedp.Evaluate(`document.activeElement && document.activeElement.blur()`, nil))
	reached := false
	for i := 0; i < 400 && !reached; i++ {
		press(t, phone, "Tab")
		var id string
		run(t, phone, chromedp.Evaluate(focusedDesc, &id))
		reached = id == desk
	}
	if !reached {
		t.Fatal("Tab never reached the desk on the map")
	}
	press(t, phone, "Enter")
	waitJS(t, phone, "the booking sheet opened by Enter", `document.getElementById("sheet").open`, 5*time.Second)
	audit(t, b, phone, "phone-sheet")
	run(t, phone, chromedp.Focus("#sheet-book", chromedp.ByQuery))
	press(t, phone, "Enter")
	waitJS(t, phone, "the booking confirmed", `document.getElementById("msg").textContent.startsWith("Booked 1A-07")`, 10*time.Second)
	waitJS(t, phone, "the desk shown as mine", deskSel+`.dataset.state === "mine"`, 10*time.Second)
	audit(t, b, phone, "phone-booked")

	// Space opens a desk's sheet too (on key up, so the same key press does
	// not also press the sheet's first button), and Escape closes it.
	run(t, phone, chromedp.Focus(fmt.Sprintf(`#plan [data-id="%s"]`, s.resourceID(t, "desk", "1A-08")), chromedp.ByQuery))
	press(t, phone, " ")
	waitJS(t, phone, "the sheet opened by Space", `document.getElementById("sheet").open && document.getElementById("sheet-h").textContent === "Desk 1A-08"`, 5*time.Second)
	time.Sleep(200 * time.Millisecond)
	waitJS(t, phone, "the sheet still open", `document.getElementById("sheet").open`, time.Second)
	press(t, phone, "Escape")
	waitJS(t, phone, "the sheet closed by Escape", `!document.getElementById("sheet").open`, 5*time.Second)

	// The kiosk: pairing screen, then a room door and a lobby.
	door := b.tab(t, s.url+"/kiosk", 1280, 800, false)
	waitJS(t, door, "a pairing code", `/^[A-Z0-9]{6,}$/.test(document.getElementById("pairing-code").textContent)`, 15*time.Second)
	audit(t, b, door, "kiosk-pairing")
	s.call(t, "POST", "/api/v1/kiosks/pair", map[string]string{"pairing_code": text(t, door, "#pairing-code"), "kind": "room",
		"room_id": spree, "name": "Spree door"}, nil)
	waitJS(t, door, "the door display", `!document.getElementById("door").hidden && document.body.dataset.live === "up"`, 15*time.Second)
	audit(t, b, door, "kiosk-door")

	lobby := b.tab(t, s.url+"/kiosk", 1280, 800, false)
	waitJS(t, lobby, "a pairing code", `/^[A-Z0-9]{6,}$/.test(document.getElementById("pairing-code").textContent)`, 15*time.Second)
	s.call(t, "POST", "/api/v1/kiosks/pair", map[string]string{"pairing_code": text(t, lobby, "#pairing-code"), "kind": "lobby",
		"site_id": sites.Items[0].ID, "name": "Lobby"}, nil)
	waitJS(t, lobby, "the lobby screen", `!document.getElementById("lobby").hidden && document.querySelector("#lobby-body button") !== null`, 15*time.Second)
	audit(t, b, lobby, "kiosk-lobby")
	for _, screen := range []struct{ button, ready, name string }{
		{"Type my code", `document.getElementById("code") !== null`, "kiosk-lobby-code"},
		{"Find me by name", `document.getElementById("q") !== null`, "kiosk-lobby-name"},
		{"I have no invitation", `document.querySelector("#lobby-body form") !== null`, "kiosk-lobby-walk-in"},
	} {
		buttonByText(t, lobby, screen.button)
		waitJS(t, lobby, screen.name, screen.ready, 5*time.Second)
		audit(t, b, lobby, screen.name)
		buttonByText(t, lobby, "Back")
		waitJS(t, lobby, "the lobby's home", `[...document.querySelectorAll("#lobby-body button")].some(b => b.textContent === "Type my code")`, 5*time.Second)
	}

	// The sign-in screens, before any token.
	for _, path := range []string{"/", "/admin"} {
		out := b.tab(t, s.url+path, 390, 844, true)
		waitJS(t, out, "the sign-in screen of "+path, `!document.getElementById("signin").hidden`, 10*time.Second)
		audit(t, b, out, "signin"+strings.ReplaceAll(path, "/", "-"))
	}

	// The admin page, section by section.
	admin := b.tab(t, s.url+"/admin#token="+s.tokens["admin"], 1280, 900, false)
	waitJS(t, admin, "the admin page", `!document.getElementById("admin").hidden`, 15*time.Second)
	var secs []string
	run(t, admin, chromedp.Evaluate(`[...document.querySelectorAll("#sections button")].filter(b => !b.hidden).map(b => b.dataset.sec)`, &secs))
	if len(secs) < 5 {
		t.Fatalf("admin sections: %v", secs)
	}
	for _, sec := range secs {
		tap(t, admin, `#sections button[data-sec=`+sec+`]`)
		waitJS(t, admin, "section "+sec, `!document.getElementById(`+fmt.Sprintf("%q", sec)+`).hidden`, 10*time.Second)
		// Let the section's data arrive (no request in flight for a moment).
		waitJS(t, admin, "section "+sec+" loaded", `!document.querySelector("[aria-busy=true]")`, 15*time.Second)
		time.Sleep(300 * time.Millisecond)
		audit(t, b, admin, "admin-"+sec)
	}

	// The audit itself is live: an unlabelled field and grey-on-white text
	// added to the page are caught.
	run(t, admin, chromedp.Evaluate(`document.querySelector("main").insertAdjacentHTML("beforeend",
		'<input id="a11y-probe"><p style="color:#bbb;background:#fff">faint words</p>')`, nil))
	found := map[string]bool{}
	for _, v := range violations(t, admin) {
		found[v.ID] = true
	}
	if !found["label"] || !found["color-contrast"] {
		t.Fatalf("axe missed planted violations: found %v", found)
	}
}
