//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

var perchBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "perch-e2e-")
	if err != nil {
		panic(err)
	}
	perchBin = filepath.Join(dir, "perch")
	build := exec.Command("go", "build", "-o", perchBin, "github.com/perch-hq/perch/cmd/perch")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: building perch:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is a running perch with the demo office.
type server struct {
	url    string
	tokens map[string]string // role → token
}

var tokenLine = regexp.MustCompile(`(?m)^\s+(admin|employee|reception|kiosk)\s+.*\s(perch_\S+)$`)

func startPerch(t *testing.T) *server {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(perchBin, "serve")
	cmd.Env = append(os.Environ(), "PERCH_ADDR="+addr, "PERCH_DATA_DIR="+t.TempDir(), "PERCH_LOG_LEVEL=warn",
		"PERCH_PUBLIC_URL=http://"+addr)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() })
	var (
		mu   sync.Mutex
		text strings.Builder
	)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			mu.Lock()
			text.WriteString(sc.Text() + "\n")
			mu.Unlock()
		}
	}()
	s := &server{url: "http://" + addr, tokens: map[string]string{}}
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		for _, m := range tokenLine.FindAllStringSubmatch(text.String(), -1) {
			s.tokens[m[1]] = m[2]
		}
		mu.Unlock()
		if len(s.tokens) == 4 {
			if res, err := http.Get(s.url + "/readyz"); err == nil {
				res.Body.Close()
				if res.StatusCode == 200 {
					return s
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("perch did not start:\n%s\n%s", text.String(), stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// call is a JSON API request as admin.
func (s *server) call(t *testing.T, method, path string, body any, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.url+path, rd)
	req.Header.Set("Authorization", "Bearer "+s.tokens["admin"])
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatal(err)
		}
	}
}

// daytimeZone picks a time zone where it is now between 08:00 and 17:00,
// so the test books "now" inside one local day whenever it runs.
func daytimeZone() *time.Location {
	for _, name := range []string{"Europe/Berlin", "America/New_York", "America/Los_Angeles", "Pacific/Honolulu",
		"Asia/Tokyo", "Asia/Kolkata", "Pacific/Kiritimati", "Asia/Dubai", "America/Sao_Paulo"} {
		loc, err := time.LoadLocation(name)
		if err != nil {
			continue
		}
		if h := time.Now().In(loc).Hour(); h >= 8 && h < 17 {
			return loc
		}
	}
	panic("no daytime zone found")
}

// prepare opens the demo site around the clock, every day, in a zone where
// it is daytime now.
func (s *server) prepare(t *testing.T) *time.Location {
	loc := daytimeZone()
	var sites struct{ Items []struct{ ID string } }
	s.call(t, "GET", "/api/v1/sites", nil, &sites)
	site := sites.Items[0].ID
	s.call(t, "PATCH", "/api/v1/sites/"+site, map[string]any{"timezone": loc.String()}, nil)
	s.call(t, "PUT", "/api/v1/sites/"+site+"/policy", map[string]any{
		"bookable_from": "00:00", "bookable_until": "24:00", "half_day_split": "12:00",
		"weekdays": []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}, "max_days_ahead": 28,
		"max_desk_bookings_per_day": 1, "show_booker_to_colleagues": true, "walk_ups": true,
		"checkin_opens_minutes_before": 15, "no_show_grace_minutes": 60,
	}, nil)
	return loc
}

// browser opens pages as separate devices: each tab is its own headless
// Chromium (Debian's chromium package) with its own profile, so a phone,
// a second screen and a door tablet share nothing, as in life.
type browser struct {
	path      string
	artifacts string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := "/usr/bin/chromium"
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("Chromium is needed for the browser tests: apt-get install chromium (%v)", err)
	}
	dir := os.Getenv("PERCH_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "artifacts", "e2e")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return &browser{path: path, artifacts: dir}
}

// tab opens url on a new device of w×h CSS pixels (mobile: a phone's touch
// screen).
func (b *browser) tab(t *testing.T, url string, w, h int64, mobile bool) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(b.path), chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(int(w), int(h)))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithErrorf(func(f string, a ...any) {
		if msg := fmt.Sprintf(f, a...); !strings.Contains(msg, "unhandled node event") { // newer Chromium events
			t.Log("chromedp:", msg)
		}
	}))
	t.Cleanup(func() { cancel(); cancelA() })
	// The page's console errors and uncaught exceptions go to the test log.
	chromedp.ListenTarget(ctx, func(ev any) {
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			t.Logf("%s: uncaught: %s", url, e.ExceptionDetails.Error())
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.APITypeError || e.Type == runtime.APITypeWarning {
				var parts []string
				for _, a := range e.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				t.Logf("%s: console.%s: %s", url, e.Type, strings.Join(parts, " "))
			}
		case *page.EventJavascriptDialogOpening:
			// confirm() and alert(): the person clicks OK.
			go func() { _ = chromedp.Run(ctx, page.HandleJavaScriptDialog(true)) }()
		case *cdplog.EventEntryAdded:
			// (The kiosk polls for its pairing: 409 not_paired is expected.)
			if e.Entry.Level == cdplog.LevelError && !strings.HasSuffix(e.Entry.URL, "/api/v1/kiosks/token") {
				t.Logf("%s: %s %s", url, e.Entry.Text, e.Entry.URL)
			}
		}
	})
	// The browser lives as long as the context of its first Run: start it
	// with ctx itself, not with a timeout derived from it.
	if err := chromedp.Run(ctx); err != nil {
		t.Fatal(err)
	}
	actions := []chromedp.Action{cdplog.Enable(), emulation.SetDeviceMetricsOverride(w, h, 1, mobile)}
	if mobile {
		actions = append(actions, emulation.SetTouchEmulationEnabled(true))
	}
	actions = append(actions, chromedp.Navigate(url))
	run(t, ctx, actions...)
	return ctx
}

func run(t *testing.T, ctx context.Context, actions ...chromedp.Action) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Run(c, actions...); err != nil {
		t.Fatal(err)
	}
}

// waitJS waits until the expression is true, at most d.
func waitJS(t *testing.T, ctx context.Context, what, expr string, d time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	c, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var ok bool
	if err := chromedp.Run(c, chromedp.Poll(expr, &ok, chromedp.WithPollingInterval(20*time.Millisecond))); err != nil {
		var page string
		dctx, dcancel := context.WithTimeout(ctx, 5*time.Second)
		defer dcancel()
		_ = chromedp.Run(dctx, chromedp.Evaluate(`document.location.href + "\n" + (document.querySelector("dialog[open]") ? "dialog: " + document.querySelector("dialog[open]").innerText + "\n" : "") + document.body.innerText.slice(0, 1500)`, &page))
		t.Fatalf("waiting for %s (%s): %v\nthe page:\n%s", what, expr, err, page)
	}
	return time.Since(start)
}

func (b *browser) screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	var png []byte
	run(t, ctx, chromedp.FullScreenshot(&png, 100))
	if err := os.WriteFile(filepath.Join(b.artifacts, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	var s string
	run(t, ctx, chromedp.Text(sel, &s, chromedp.ByQuery))
	return strings.TrimSpace(s)
}

// demoID is the demo office's deterministic id of a desk or room (see
// demo.ID), read from the API so the test needs no Go import of the server.
func (s *server) resourceID(t *testing.T, kind, name string) string {
	var sites struct{ Items []struct{ ID string } }
	s.call(t, "GET", "/api/v1/sites", nil, &sites)
	var floors struct{ Items []struct{ ID string } }
	s.call(t, "GET", "/api/v1/sites/"+sites.Items[0].ID+"/floors", nil, &floors)
	for _, f := range floors.Items {
		var items struct {
			Items []struct{ ID, Code, Name string }
		}
		s.call(t, "GET", "/api/v1/floors/"+f.ID+"/"+kind+"s?limit=500", nil, &items)
		for _, it := range items.Items {
			if it.Code == name || it.Name == name {
				return it.ID
			}
		}
	}
	t.Fatalf("no %s %s", kind, name)
	return ""
}

// tap clicks the middle of the element sel with a real mouse event at its
// on-screen position (the map re-renders as live updates arrive, so a node
// handle could go stale between finding and clicking it).
func tap(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	var pt []float64
	run(t, ctx, chromedp.Evaluate(fmt.Sprintf(`(() => {
		const e = document.querySelector(%q);
		if (!e) return [];
		e.scrollIntoView({block: "center"});
		const r = e.getBoundingClientRect();
		return [r.left + r.width / 2, r.top + r.height / 2];
	})()`, sel), &pt))
	if len(pt) != 2 {
		t.Fatalf("nothing to tap at %s", sel)
	}
	run(t, ctx, chromedp.MouseClickXY(pt[0], pt[1]))
}
