//go:build e2e

package e2e

import (
	"testing"
	"time"
)

// Facilities pages render from the real API: the reports with their SVG
// charts, the move planner, and reception's on-site list and roll call.
func TestFacilitiesPages(t *testing.T) {
	s := startPerch(t)
	b := newBrowser(t)

	admin := b.tab(t, s.url+"/admin#token="+s.tokens["admin"], 1280, 900, false)
	waitJS(t, admin, "the admin page", `!document.getElementById("admin").hidden`, 15*time.Second)
	tap(t, admin, `#sections button[data-sec=reports]`)
	waitJS(t, admin, "three charts", `[...document.querySelectorAll("#report-body img")].filter(i => i.complete && i.naturalWidth > 0).length === 3`, 15*time.Second)
	b.screenshot(t, admin, "30-admin-reports")
	tap(t, admin, `#sections button[data-sec=moves]`)
	waitJS(t, admin, "the move planner's teams", `document.querySelectorAll("#m-teams input").length > 0`, 10*time.Second)

	// Reception sees only the lobby section: today's visitors, who is on
	// site, and a roll call (the page's confirm dialog is accepted).
	rec := b.tab(t, s.url+"/admin#token="+s.tokens["reception"], 1280, 900, false)
	waitJS(t, rec, "reception's page", `!document.getElementById("admin").hidden && !document.getElementById("visitors").hidden`, 15*time.Second)
	waitJS(t, rec, "only the visitors section", `[...document.querySelectorAll("#sections button")].filter(b => !b.hidden).length === 1`, 5*time.Second)
	waitJS(t, rec, "the on-site count", `document.querySelector("#onsite p") !== null`, 10*time.Second)
	tap(t, rec, "#rollcall-start")
	waitJS(t, rec, "the roll call", `!document.getElementById("rollcall").hidden`, 10*time.Second)
	b.screenshot(t, rec, "31-reception-roll-call")
}
