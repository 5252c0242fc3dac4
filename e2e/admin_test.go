//go:build e2e

package e2e

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// The admin places a desk on the plan: uploads a plan image, drags desk
// 1A-01 to a new spot with the mouse, and nudges it with the keyboard; the
// desk's position is saved (read back through the API).
func TestAdminPlacesADesk(t *testing.T) {
	s := startPerch(t)
	b := newBrowser(t)
	desk := s.resourceID(t, "desk", "1A-01")
	var floor struct {
		ID string `json:"floor_id"`
	}
	s.call(t, "GET", "/api/v1/desks/"+desk, nil, &floor)

	admin := b.tab(t, s.url+"/admin#token="+s.tokens["admin"], 1280, 900, false)
	waitJS(t, admin, "the admin page", `document.querySelector("#sections button[data-sec=editor]") !== null && !document.getElementById("admin").hidden`, 15*time.Second)
	run(t, admin, chromedp.Click(`#sections button[data-sec=editor]`, chromedp.ByQuery))
	sel := fmt.Sprintf(`#plan [data-id="%s"]`, desk)
	waitJS(t, admin, "the editor's plan", fmt.Sprintf(`document.querySelector('%s') !== null`, sel), 15*time.Second)

	// Upload a plan image (SVG) through the file input.
	svg := filepath.Join(t.TempDir(), "plan.svg")
	if err := os.WriteFile(svg, []byte(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4800 3000"><rect x="50" y="50" width="4700" height="2900" fill="none" stroke="#888" stroke-width="30"/></svg>`), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, admin, chromedp.SetUploadFiles("#plan-file", []string{svg}, chromedp.ByQuery))
	tap(t, admin, `#plan-form button[type=submit]`)
	waitJS(t, admin, "the plan image shown", `document.querySelector("#plan image") !== null && document.querySelector("#plan image").getAttribute("href").startsWith("/plans/")`, 10*time.Second)

	// Drag the desk 300 px right and 100 px down on screen.
	var box []float64
	run(t, admin, chromedp.Evaluate(fmt.Sprintf(`(() => { const e = document.querySelector('%s'); e.scrollIntoView({block: "center"});
		const r = e.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()`, sel), &box))
	x, y := box[0], box[1]
	run(t, admin,
		chromedp.MouseEvent(input.MouseMoved, x, y),
		chromedp.MouseEvent(input.MousePressed, x, y, chromedp.ButtonLeft, chromedp.ClickCount(1)),
		chromedp.MouseEvent(input.MouseMoved, x+150, y+50, chromedp.ButtonLeft),
		chromedp.MouseEvent(input.MouseMoved, x+300, y+100, chromedp.ButtonLeft),
		chromedp.MouseEvent(input.MouseReleased, x+300, y+100, chromedp.ButtonLeft, chromedp.ClickCount(1)))
	waitJS(t, admin, "the move saved", `document.getElementById("msg").textContent.startsWith("Moved 1A-01")`, 10*time.Second)
	var moved struct{ X, Y float64 }
	s.call(t, "GET", "/api/v1/desks/"+desk, nil, &moved)
	if moved.X <= 300 || moved.Y <= 400 {
		t.Fatalf("the desk is at %v,%v; it was dragged right and down from 300,400", moved.X, moved.Y)
	}
	b.screenshot(t, admin, "11-admin-desk-dragged")

	// The keyboard does it too: focus the desk, Shift+ArrowLeft moves it 100 units.
	run(t, admin, chromedp.Focus(sel, chromedp.ByQuery), chromedp.KeyEvent(kb.ArrowLeft, chromedp.KeyModifiers(input.ModifierShift)))
	waitJS(t, admin, "the keyboard move saved", fmt.Sprintf(`document.getElementById("msg").textContent === "Moved 1A-01 to %d, %d."`, int(moved.X)-100, int(moved.Y)), 10*time.Second)
	var nudged struct{ X, Y float64 }
	s.call(t, "GET", "/api/v1/desks/"+desk, nil, &nudged)
	if math.Abs(nudged.X-(moved.X-100)) > 0.5 || nudged.Y != moved.Y {
		t.Fatalf("after Shift+Left the desk is at %v,%v, want %v,%v", nudged.X, nudged.Y, moved.X-100, moved.Y)
	}
}
