//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// A host invites a visitor from their phone; the visitor types the code
// from the invitation at the lobby kiosk and is checked in; the host's page
// is told at once, without a reload.
func TestVisitorCheckInTellsTheHost(t *testing.T) {
	s := startPerch(t)
	loc := s.prepare(t)
	b := newBrowser(t)

	// The lobby tablet pairs as the site's lobby display.
	lobby := b.tab(t, s.url+"/kiosk", 1280, 800, false)
	waitJS(t, lobby, "a pairing code", `/^[A-Z0-9]{6,}$/.test(document.getElementById("pairing-code").textContent)`, 15*time.Second)
	var sites struct{ Items []struct{ ID string } }
	s.call(t, "GET", "/api/v1/sites", nil, &sites)
	s.call(t, "POST", "/api/v1/kiosks/pair", map[string]string{"pairing_code": text(t, lobby, "#pairing-code"), "kind": "lobby",
		"site_id": sites.Items[0].ID, "name": "Lobby"}, nil)
	waitJS(t, lobby, "the lobby screen", `!document.getElementById("lobby").hidden && document.querySelector("#lobby-body button") !== null`, 15*time.Second)
	b.screenshot(t, lobby, "20-lobby-home")

	// The host invites a visitor for a few minutes from now.
	host := b.tab(t, s.url+"/#token="+s.tokens["employee"], 390, 844, true)
	waitJS(t, host, "the host's app", `!document.getElementById("tabs").hidden`, 15*time.Second)
	tap(t, host, `#tabs button[data-tab=visitors]`)
	arrive := time.Now().In(loc).Add(10 * time.Minute)
	run(t, host,
		chromedp.SetValue("#v-name", "Grace Hopper", chromedp.ByQuery),
		chromedp.SetValue("#v-email", "grace@example.com", chromedp.ByQuery),
		chromedp.SetValue("#v-company", "Acme", chromedp.ByQuery),
		chromedp.SetValue("#v-date", arrive.Format("2006-01-02"), chromedp.ByQuery),
		chromedp.SetValue("#v-time", arrive.Format("15:04"), chromedp.ByQuery))
	tap(t, host, `#invite-form button[type=submit]`)
	waitJS(t, host, "the invitation", `document.getElementById("invite-text").textContent.includes("Your check-in code")`, 10*time.Second)
	waitJS(t, host, "the invitation's QR code", `document.getElementById("invite-qr").naturalWidth > 0`, 10*time.Second)
	b.screenshot(t, host, "21-host-invited")
	m := regexp.MustCompile(`Your check-in code: (\S+)`).FindStringSubmatch(text(t, host, "#invite-text"))
	if m == nil {
		t.Fatal("no check-in code in the invitation")
	}
	waitJS(t, host, "the visit listed", `[...document.querySelectorAll("#visitors-list [data-visit]")].some(li => li.textContent.includes("Grace Hopper"))`, 10*time.Second)

	// At the lobby: type the code (no camera in a headless browser).
	buttonByText(t, lobby, "Type my code")
	waitJS(t, lobby, "the code field", `document.getElementById("code") !== null`, 5*time.Second)
	run(t, lobby, chromedp.SetValue("#code", m[1], chromedp.ByQuery))
	buttonByText(t, lobby, "Continue")
	waitJS(t, lobby, "the welcome", `document.getElementById("welcome") !== null`, 10*time.Second)
	arrived := time.Now()
	if got := text(t, lobby, "#welcome"); got != "Welcome, Grace H.!" {
		t.Fatalf("the kiosk says %q", got)
	}
	if got := text(t, lobby, "#host-told"); !strings.Contains(got, "Emil Engel has been told") {
		t.Fatalf("the kiosk says %q", got)
	}
	b.screenshot(t, lobby, "22-lobby-welcome")

	// The host's page is told, live.
	waitJS(t, host, "the host told", `!document.getElementById("notice").hidden && document.getElementById("notice").textContent.includes("has arrived")`, 10*time.Second)
	t.Logf("visitor checked in at the lobby → host's page told in %v", time.Since(arrived).Round(time.Millisecond))
	waitJS(t, host, "the visit shown as arrived", `[...document.querySelectorAll("#visitors-list [data-visit]")].some(li => li.textContent.includes("Grace Hopper") && li.querySelector(".visit-status").textContent === "Arrived")`, 10*time.Second)
	b.screenshot(t, host, "23-host-told")
}

// buttonByText taps the (first visible) button whose text is label.
func buttonByText(t *testing.T, ctx context.Context, label string) {
	t.Helper()
	var ok bool
	run(t, ctx, chromedp.Evaluate(fmt.Sprintf(`(() => {
		const b = [...document.querySelectorAll("button")].find(b => b.textContent.trim() === %q && b.offsetParent !== null);
		if (!b) return false;
		document.querySelectorAll("[data-e2e-target]").forEach(e => e.removeAttribute("data-e2e-target"));
		b.setAttribute("data-e2e-target", "");
		return true;
	})()`, label), &ok))
	if !ok {
		t.Fatalf("no button %q", label)
	}
	tap(t, ctx, "[data-e2e-target]")
}
