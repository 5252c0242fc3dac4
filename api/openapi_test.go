package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/perch-hq/perch/api"
	"github.com/perch-hq/perch/database/dbtest"
)

// spec is the OpenAPI document, parsed once, with its operations and the
// compiled response schemas (compiled on first use).
type specIndex struct {
	doc      map[string]any
	ops      []specOp
	compiler *jsonschema.Compiler
	mu       sync.Mutex
	schemas  map[string]*jsonschema.Schema
}

type specOp struct {
	method, path string // path in OpenAPI form
	re           *regexp.Regexp
	params       int
	responses    map[string]any
}

var (
	specOnce sync.Once
	spec     *specIndex
	specErr  error
)

var (
	braceParam  = regexp.MustCompile(`\{[a-z_]+\}`)
	quotedParam = regexp.MustCompile(`\\\{[a-z_]+\\\}`) // {id} after regexp.QuoteMeta
)

func loadSpec() (*specIndex, error) {
	specOnce.Do(func() {
		raw := api.OpenAPI("test")
		s := &specIndex{schemas: map[string]*jsonschema.Schema{}}
		if specErr = json.Unmarshal(raw, &s.doc); specErr != nil {
			return
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			specErr = err
			return
		}
		s.compiler = jsonschema.NewCompiler()
		s.compiler.DefaultDraft(jsonschema.Draft2020)
		if specErr = s.compiler.AddResource("file:///openapi.json", inst); specErr != nil {
			return
		}
		for path, item := range s.doc["paths"].(map[string]any) {
			quoted := quotedParam.ReplaceAllString(regexp.QuoteMeta(path), `[^/]+`)
			re := regexp.MustCompile("^" + quoted + "$")
			for method, op := range item.(map[string]any) {
				s.ops = append(s.ops, specOp{method: strings.ToUpper(method), path: path, re: re,
					params: len(braceParam.FindAllString(path, -1)), responses: op.(map[string]any)["responses"].(map[string]any)})
			}
		}
		// Literal segments win over parameters (/kiosks/pair vs /kiosks/{id}).
		sort.Slice(s.ops, func(i, j int) bool { return s.ops[i].params < s.ops[j].params })
		spec = s
	})
	return spec, specErr
}

// escape is a JSON pointer token.
func escape(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1") }

func (s *specIndex) schema(loc string) (*jsonschema.Schema, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sch, ok := s.schemas[loc]; ok {
		return sch, nil
	}
	sch, err := s.compiler.Compile(loc)
	if err != nil {
		return nil, err
	}
	s.schemas[loc] = sch
	return sch, nil
}

// checkResponse validates a JSON response of a documented /api/v1 operation
// against the spec: the status must be documented (or be a problem, under
// "default") and the body must match the schema. Called by env.req for
// every request a test sends.
func checkResponse(t testing.TB, method, target string, r response) {
	t.Helper()
	path, _, _ := strings.Cut(target, "?")
	if !strings.HasPrefix(path, "/api/v1/") {
		return
	}
	s, err := loadSpec()
	if err != nil {
		t.Fatalf("OpenAPI document: %v", err)
	}
	var op *specOp
	for i := range s.ops {
		if s.ops[i].method == method && s.ops[i].re.MatchString(path) {
			op = &s.ops[i]
			break
		}
	}
	if op == nil {
		return // no such route: a 404/405 problem, checked by the tests themselves
	}
	ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	key := strconv.Itoa(r.Status)
	if _, ok := op.responses[key]; !ok {
		if r.Status < 400 {
			t.Errorf("OpenAPI: %s %s answered %d, which %s %s does not document", method, path, r.Status, method, op.path)
			return
		}
		key = "default"
	}
	if len(r.Body) == 0 || (ct != "application/json" && ct != "application/problem+json") {
		return
	}
	content, _ := op.responses[key].(map[string]any)["content"].(map[string]any)
	if _, ok := content[ct]; !ok {
		t.Errorf("OpenAPI: %s %s answered %d %s, not documented for %s", method, path, r.Status, ct, op.path)
		return
	}
	loc := fmt.Sprintf("file:///openapi.json#/paths/%s/%s/responses/%s/content/%s/schema",
		escape(op.path), strings.ToLower(method), key, escape(ct))
	sch, err := s.schema(loc)
	if err != nil {
		t.Fatalf("OpenAPI: compile %s: %v", loc, err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(r.Body))
	if err != nil {
		t.Errorf("OpenAPI: %s %s: body is not JSON: %v", method, path, err)
		return
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("OpenAPI: %s %s %d does not match %s %s:\n%v\nbody: %.2000s", method, path, r.Status, method, op.path, err, r.Body)
	}
}

// Every route registered under /api/v1 has an operation in the spec and
// every documented operation is registered; both agree on who may call it.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	e := newEnv(t, dbtest.OpenSQLite(t))
	s, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	var registered, documented []string
	for _, r := range e.srv.App().GetRoutes(true) {
		if r.Method == http.MethodHead || !strings.HasPrefix(r.Path, "/api/v1/") {
			continue
		}
		registered = append(registered, r.Method+" "+api.OpenAPIPath(r.Path))
	}
	for _, op := range s.ops {
		documented = append(documented, op.method+" "+op.path)
	}
	sort.Strings(registered)
	sort.Strings(documented)
	if strings.Join(registered, "\n") != strings.Join(documented, "\n") {
		t.Fatalf("registered /api/v1 routes and the OpenAPI operations differ.\nregistered:\n%s\n\ndocumented:\n%s",
			strings.Join(registered, "\n"), strings.Join(documented, "\n"))
	}
	// The spec's roles are the role contract's.
	for _, r := range routeRoles {
		if !strings.HasPrefix(r.path, "/api/v1/") {
			continue
		}
		op := s.doc["paths"].(map[string]any)[api.OpenAPIPath(r.path)].(map[string]any)[strings.ToLower(r.method)].(map[string]any)
		desc := op["description"].(string)
		if r.roles == "public" {
			if !strings.HasPrefix(desc, "No token") {
				t.Errorf("%s %s is public, the spec says %q", r.method, r.path, desc)
			}
			continue
		}
		for _, l := range r.roles {
			if !strings.Contains(desc, string(roleLetters[byte(l)])) {
				t.Errorf("%s %s: the spec's roles %q lack %s", r.method, r.path, desc, roleLetters[byte(l)])
			}
		}
	}
}

// The document is served, is OpenAPI 3.1, and the docs page lists it.
func TestOpenAPIServed(t *testing.T) {
	e := newEnv(t, dbtest.OpenSQLite(t))
	r := e.req("GET", "/api/openapi.json", "", "")
	doc := e.must(200, r)
	if doc["openapi"] != "3.1.0" || doc["info"].(map[string]any)["version"] != "test" {
		t.Fatalf("not an OpenAPI 3.1 document of this build: %v", doc["openapi"])
	}
	// Every schema in the document compiles (draft 2020-12).
	s, _ := loadSpec()
	for path, item := range doc["paths"].(map[string]any) {
		for method := range item.(map[string]any) {
			loc := "file:///openapi.json#/paths/" + escape(path) + "/" + method
			if _, err := s.schema(loc + "/responses/default/content/application~1problem+json/schema"); err != nil {
				t.Errorf("%s %s: %v", method, path, err)
			}
		}
	}
	page := e.req("GET", "/api/docs", "", "")
	if page.Status != 200 || !strings.HasPrefix(page.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(string(page.Body), "/api/v1/bookings/{id}") || !strings.Contains(string(page.Body), `href="/api/openapi.json"`) {
		t.Fatalf("docs page: %d %s", page.Status, page.Body)
	}
}

// recorder catches what checkResponse reports.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}
func (r *recorder) Helper() {}

// The response check is not a no-op: drifted bodies and undocumented
// statuses are caught, problems are checked against the Problem schema.
func TestOpenAPIResponseCheckCatchesDrift(t *testing.T) {
	e := newEnv(t, dbtest.OpenSQLite(t))
	good := e.req("GET", "/api/v1/sites", "employee", "")
	site := good.items(t)[0]
	id := site["id"].(string)
	one := e.req("GET", "/api/v1/sites/"+id, "employee", "")
	json := http.Header{"Content-Type": {"application/json"}}
	problem := http.Header{"Content-Type": {"application/problem+json"}}
	for _, tc := range []struct {
		name   string
		method string
		path   string
		r      response
		bad    bool
	}{
		{"a real site", "GET", "/api/v1/sites/" + id, one, false},
		{"a wrong type", "GET", "/api/v1/sites/" + id, response{200, json, bytes.Replace(one.Body, []byte(`"name":"`), []byte(`"name":7,"x":"`), 1)}, true},
		{"a missing field", "GET", "/api/v1/sites/" + id, response{200, json, []byte(`{"id":"` + id + `"}`)}, true},
		{"an undocumented status", "GET", "/api/v1/sites/" + id, response{202, json, one.Body}, true},
		{"a bad problem", "GET", "/api/v1/sites/" + id, response{404, problem, []byte(`{"status":"404"}`)}, true},
		{"a good problem", "GET", "/api/v1/sites/" + id, response{404, problem, []byte(`{"type":"t","title":"Not found","status":404,"detail":"d","code":"not_found"}`)}, false},
		{"the literal route wins", "POST", "/api/v1/kiosks/pairing", response{201, json, []byte(`{}`)}, true},
	} {
		rec := &recorder{TB: t}
		checkResponse(rec, tc.method, tc.path, tc.r)
		if got := len(rec.errs) > 0; got != tc.bad {
			t.Errorf("%s: reported %v, want reported=%v", tc.name, rec.errs, tc.bad)
		}
	}
}
