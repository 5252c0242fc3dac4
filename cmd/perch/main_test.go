package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/database/dbtest"
	"github.com/perch-hq/perch/migrations"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		// This test binary was started as a perch replica (see
		// startChild): serve until killed.
		if err := run(context.Background(), []string{"serve"}, os.Getenv, os.Stdout, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, "perch:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(dbtest.Main(m))
}

// envOf turns key=value pairs into a getenv.
func envOf(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// lockedBuffer collects output written from another goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var (
	servingRE = regexp.MustCompile(`is serving at (http://\S+)`)
	tokenRE   = regexp.MustCompile(`(?m)^\s+(admin|employee|reception|kiosk)\s+.*\s(perch_\S+)$`)
)

// startPerch runs the real program (as `perch` with no arguments) and waits
// for it to print where it serves. It returns the base URL, the demo tokens
// by role, and a stop function that sends the shutdown signal and returns
// run's error.
func startPerch(t *testing.T, getenv func(string) string) (string, map[string]string, func() error, *lockedBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var stdout, stderr lockedBuffer
	done := make(chan error, 1)
	go func() {
		err := run(ctx, nil, getenv, io.MultiWriter(pw, &stdout), &stderr)
		pw.Close()
		done <- err
	}()
	urlCh := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sent := false
		for sc.Scan() {
			if m := servingRE.FindStringSubmatch(sc.Text()); m != nil && !sent {
				urlCh <- m[1]
				sent = true
			}
		}
		if !sent {
			close(urlCh)
		}
	}()
	var base string
	select {
	case u, ok := <-urlCh:
		if !ok {
			cancel()
			t.Fatalf("perch exited before serving: %v\nstdout:\n%s\nstderr:\n%s", <-done, stdout.String(), stderr.String())
		}
		base = u
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatalf("perch did not start\nstderr:\n%s", stderr.String())
	}
	time.Sleep(50 * time.Millisecond) // the token lines follow the URL line
	tokens := map[string]string{}
	for _, m := range tokenRE.FindAllStringSubmatch(stdout.String(), -1) {
		tokens[m[1]] = m[2]
	}
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			t.Fatal("perch did not stop within 30s")
			return nil
		}
	}
	t.Cleanup(func() { _ = stop() })
	return base, tokens, stop, &stderr
}

func get(t *testing.T, url, token string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m
}

// siteNames lists the sites a token sees.
func siteNames(t *testing.T, base, token string) []string {
	t.Helper()
	status, body := get(t, base+"/api/v1/sites", token)
	if status != 200 {
		t.Fatalf("GET /api/v1/sites: %d %v", status, body)
	}
	var names []string
	for _, it := range body["items"].([]any) {
		names = append(names, it.(map[string]any)["name"].(string))
	}
	return names
}

// `perch` with nothing set serves the embedded SQLite with the demo office,
// prints a token per role, and stops cleanly on the shutdown signal; a
// restart keeps the data and prints fresh tokens.
func TestRunServesDemoOnEmbeddedSQLite(t *testing.T) {
	dir := t.TempDir()
	getenv := envOf("PERCH_ADDR", "127.0.0.1:0", "PERCH_DATA_DIR", filepath.Join(dir, "data"))
	base, tokens, stop, stderr := startPerch(t, getenv)
	for _, role := range []string{"admin", "employee", "reception", "kiosk"} {
		if tokens[role] == "" {
			t.Fatalf("no %s token printed; got %v", role, tokens)
		}
	}
	if got := siteNames(t, base, tokens["employee"]); len(got) != 1 || got[0] != "Berlin HQ" {
		t.Fatalf("sites = %v, want [Berlin HQ]", got)
	}
	if status, _ := get(t, base+"/readyz", ""); status != 200 {
		t.Fatalf("readyz %d", status)
	}
	if err := stop(); err != nil {
		t.Fatalf("run returned %v after shutdown", err)
	}
	logs := stderr.String()
	if !strings.Contains(logs, "stopped cleanly") || !strings.Contains(logs, "PERCH_BOOTSTRAP_TOKEN=unset") {
		t.Fatalf("logs lack the config or the clean stop:\n%s", logs)
	}
	for _, tk := range tokens {
		if strings.Contains(logs, tk) {
			t.Fatal("a token was written to the logs")
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "perch.db")); err != nil {
		t.Fatalf("no database file in the data dir: %v", err)
	}

	// Restart on the same data: the demo is not loaded twice, old tokens are
	// replaced by new ones.
	base2, tokens2, stop2, _ := startPerch(t, getenv)
	if got := siteNames(t, base2, tokens2["admin"]); len(got) != 1 {
		t.Fatalf("after restart sites = %v", got)
	}
	if status, _ := get(t, base2+"/api/v1/me", tokens["admin"]); status != 401 {
		t.Fatalf("previous demo token still works after restart: %d", status)
	}
	if err := stop2(); err != nil {
		t.Fatal(err)
	}
}

// The same binary on PostgreSQL works the same. PERCH_DEMO=auto does not
// load the demo into PostgreSQL; PERCH_DEMO=true does.
func TestRunServesOnPostgres(t *testing.T) {
	dbURL := dbtest.URL(t)
	base, tokens, stop, _ := startPerch(t, envOf("PERCH_ADDR", "127.0.0.1:0", "PERCH_DATABASE_URL", dbURL,
		"PERCH_BOOTSTRAP_TOKEN", "a-bootstrap-token-of-32-characters!!"))
	if len(tokens) != 0 {
		t.Fatalf("demo tokens printed for PostgreSQL with PERCH_DEMO=auto: %v", tokens)
	}
	if got := siteNames(t, base, "a-bootstrap-token-of-32-characters!!"); len(got) != 0 {
		t.Fatalf("sites = %v, want none", got)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	base, tokens, stop, _ = startPerch(t, envOf("PERCH_ADDR", "127.0.0.1:0", "PERCH_DATABASE_URL", dbURL, "PERCH_DEMO", "true"))
	if got := siteNames(t, base, tokens["reception"]); len(got) != 1 || got[0] != "Berlin HQ" {
		t.Fatalf("sites = %v, want [Berlin HQ]", got)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// Two processes migrating one PostgreSQL database at once both succeed.
func TestConcurrentMigrateOnPostgres(t *testing.T) {
	dbURL := dbtest.EmptyURL(t)
	ctx := context.Background()
	var out1, out2, errs lockedBuffer
	var wg sync.WaitGroup
	results := make([]error, 2)
	for i, out := range []*lockedBuffer{&out1, &out2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = run(ctx, []string{"migrate"}, envOf("PERCH_DATABASE_URL", dbURL), out, &errs)
		}()
	}
	wg.Wait()
	for i, err := range results {
		if err != nil {
			t.Fatalf("migrate %d: %v\n%s", i, err, errs.String())
		}
	}
	// One of them applied every migration, the other found nothing to do.
	both := out1.String() + out2.String()
	// (Versions are the files' numbers, which may have gaps: helpers work on
	// numbers assigned in advance.)
	db, err := database.Open(ctx, database.Options{URL: dbURL})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st, err := migrations.Status(ctx, db.SQL(), "postgres")
	if err != nil || len(st) == 0 {
		t.Fatalf("status: %v", err)
	}
	want := fmt.Sprintf("schema version 0 -> %d (%d applied)", st[len(st)-1].Source.Version, len(st))
	if !strings.Contains(both, want) || !strings.Contains(both, "(0 applied)") {
		t.Fatalf("migrate printed %q / %q, want %q once", out1.String(), out2.String(), want)
	}
}

func TestTokenAndDemoCommands(t *testing.T) {
	dir := t.TempDir()
	getenv := envOf("PERCH_DATA_DIR", dir)
	ctx := context.Background()
	var out, errs lockedBuffer
	if err := run(ctx, []string{"demo"}, getenv, &out, &errs); err != nil {
		t.Fatalf("perch demo: %v\n%s", err, errs.String())
	}
	if !strings.Contains(out.String(), "120 desks") || len(tokenRE.FindAllString(out.String(), -1)) != 4 {
		t.Fatalf("perch demo printed:\n%s", out.String())
	}
	var tok lockedBuffer
	if err := run(ctx, []string{"token", "--email", "Emil.Engel@example.com"}, getenv, &tok, &errs); err != nil {
		t.Fatalf("perch token: %v\n%s", err, errs.String())
	}
	plain := strings.TrimSpace(tok.String())
	if !strings.HasPrefix(plain, "perch_") || strings.Contains(plain, "\n") {
		t.Fatalf("perch token printed %q; want only the token", plain)
	}
	base, _, stop, _ := startPerch(t, envOf("PERCH_ADDR", "127.0.0.1:0", "PERCH_DATA_DIR", dir))
	if status, me := get(t, base+"/api/v1/me", plain); status != 200 || me["email"] != "emil.engel@example.com" {
		t.Fatalf("/me with the CLI token: %d %v", status, me)
	}
	_ = stop()
	if err := run(ctx, []string{"token", "--email", "nobody@example.com"}, getenv, io.Discard, io.Discard); err == nil {
		t.Fatal("token for an unknown email succeeded")
	}
	if err := run(ctx, []string{"token"}, getenv, io.Discard, io.Discard); err == nil {
		t.Fatal("token without --email succeeded")
	}
	if err := run(ctx, []string{"frobnicate"}, getenv, io.Discard, io.Discard); err == nil {
		t.Fatal("unknown command succeeded")
	}
}

func TestConfigValidation(t *testing.T) {
	cases := []struct {
		name string
		env  []string
		want string // substring of the error; "" means valid
	}{
		{"defaults", nil, ""},
		{"bad addr", []string{"PERCH_ADDR", "8080"}, "PERCH_ADDR"},
		{"bad public url", []string{"PERCH_PUBLIC_URL", "perch.example.com"}, "PERCH_PUBLIC_URL"},
		{"ftp public url", []string{"PERCH_PUBLIC_URL", "ftp://perch.example.com"}, "PERCH_PUBLIC_URL"},
		{"bad demo", []string{"PERCH_DEMO", "yes"}, "PERCH_DEMO"},
		{"mysql", []string{"PERCH_DATABASE_URL", "mysql://u@h/db"}, "PERCH_DATABASE_URL"},
		{"short bootstrap token", []string{"PERCH_BOOTSTRAP_TOKEN", "secret"}, "PERCH_BOOTSTRAP_TOKEN"},
		{"bad log level", []string{"PERCH_LOG_LEVEL", "loud"}, "PERCH_LOG_LEVEL"},
		{"bad log format", []string{"PERCH_LOG_FORMAT", "xml"}, "PERCH_LOG_FORMAT"},
		{"bad shutdown timeout", []string{"PERCH_SHUTDOWN_TIMEOUT", "soon"}, "PERCH_SHUTDOWN_TIMEOUT"},
		{"postgres", []string{"PERCH_DATABASE_URL", "postgres://perch:hunter2@db:5432/perch"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := loadConfig(envOf(c.env...))
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("valid config refused: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("error %v, want one naming %s", err, c.want)
			}
		})
	}
	// Every problem is reported at once.
	_, err := loadConfig(envOf("PERCH_ADDR", "x", "PERCH_DEMO", "maybe"))
	if err == nil || !strings.Contains(err.Error(), "PERCH_ADDR") || !strings.Contains(err.Error(), "PERCH_DEMO") {
		t.Fatalf("want both problems named, got %v", err)
	}
}

func TestConfigIsPrintedMasked(t *testing.T) {
	c, err := loadConfig(envOf("PERCH_DATABASE_URL", "postgres://perch:hunter2@db:5432/perch",
		"PERCH_BOOTSTRAP_TOKEN", "very-secret-bootstrap-token-123456"))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, v := range c.Masked() {
		b.WriteString(v.(string) + " ")
	}
	s := b.String()
	if strings.Contains(s, "hunter2") || strings.Contains(s, "very-secret") {
		t.Fatalf("secret in printed config: %s", s)
	}
	if !strings.Contains(s, "postgres://perch:xxxxx@db:5432/perch") || !strings.Contains(s, "set (masked)") {
		t.Fatalf("printed config: %s", s)
	}
	if c.PublicURL != "http://localhost:8080" {
		t.Fatalf("default public URL %q", c.PublicURL)
	}
}

// A request in flight when the shutdown signal arrives is completed, not cut
// off; run returns only after it has been answered.
func TestShutdownDrainsInFlightRequests(t *testing.T) {
	base, tokens, stop, _ := startPerch(t, envOf("PERCH_ADDR", "127.0.0.1:0", "PERCH_DATA_DIR", t.TempDir()))
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"name":"Drained","timezone":"Europe/Berlin"}`
	fmt.Fprintf(conn, "POST /api/v1/sites HTTP/1.1\r\nHost: perch\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", tokens["admin"], len(body), body[:10])
	time.Sleep(100 * time.Millisecond) // the server is now reading this request

	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	time.Sleep(300 * time.Millisecond)
	select {
	case err := <-stopped:
		t.Fatalf("perch stopped (%v) while a request was in flight", err)
	default:
	}
	if _, err := io.WriteString(conn, body[10:]); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("in-flight request cut off: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != 201 {
		t.Fatalf("in-flight request answered %d, want 201", res.StatusCode)
	}
	conn.Close()
	if err := <-stopped; err != nil {
		t.Fatalf("run after drain: %v", err)
	}
}

// `perch demo --history 7d` simulates the last week with progress on
// stderr; running it again adds nothing.
func TestDemoHistory(t *testing.T) {
	dir := t.TempDir()
	getenv := envOf("PERCH_DATA_DIR", dir)
	ctx := context.Background()
	var out, errs lockedBuffer
	if err := run(ctx, []string{"demo", "--history", "7d"}, getenv, &out, &errs); err != nil {
		t.Fatalf("perch demo --history: %v\n%s", err, errs.String())
	}
	if !strings.Contains(errs.String(), "simulating attendance: 7/7 days") || !regexp.MustCompile(`Simulated .*: [1-9]\d* bookings, [1-9]\d* check-ins`).MatchString(out.String()) {
		t.Fatalf("perch demo --history printed:\n%s\n%s", out.String(), errs.String())
	}
	var again lockedBuffer
	if err := run(ctx, []string{"demo", "--history", "7d"}, getenv, &again, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(again.String(), "already covers the last 7 days") {
		t.Fatalf("second run printed:\n%s", again.String())
	}
	if err := run(ctx, []string{"demo", "--history", "soon"}, getenv, io.Discard, io.Discard); err == nil {
		t.Fatal("--history soon was accepted")
	}
}
