package api_test

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"

	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/database/dbtest"
	"github.com/perch-hq/perch/demo"
)

func pngBytes(t *testing.T) string {
	img := image.NewRGBA(image.Rect(0, 0, 48, 30))
	for x := range 48 {
		img.Set(x, 10, color.Black)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// An admin uploads a floor's plan image (PNG or SVG); the floor names it
// by URL; anyone's browser loads it from there without a token, cached for
// good and inert (an SVG cannot run scripts). Bad uploads change nothing.
func TestFloorPlanImage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		floor := "/api/v1/floors/" + demo.ID("floor", "0")
		pic := pngBytes(t)

		f := e.must(200, e.req("PUT", floor+"/plan", "admin", pic, "Content-Type", "image/png"))
		url, _ := f["plan_image_url"].(string)
		if !strings.HasPrefix(url, "/plans/") || len(url) != len("/plans/")+64 {
			t.Fatalf("plan_image_url %q", f["plan_image_url"])
		}
		if got := e.must(200, e.req("GET", floor, "employee", ""))["plan_image_url"]; got != url {
			t.Fatalf("the floor says %v, want %s", got, url)
		}
		r := e.req("GET", url, "", "")
		if r.Status != 200 || string(r.Body) != pic || r.Header.Get("Content-Type") != "image/png" ||
			!strings.Contains(r.Header.Get("Cache-Control"), "immutable") || !strings.Contains(r.Header.Get("Content-Security-Policy"), "sandbox") {
			t.Fatalf("GET %s: %d %v", url, r.Status, r.Header)
		}

		svg := `<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4800 3000"><rect width="4800" height="3000" fill="#eee"/></svg>`
		f = e.must(200, e.req("PUT", floor+"/plan", "admin", svg, "Content-Type", "image/svg+xml; charset=utf-8"))
		svgURL := f["plan_image_url"].(string)
		if r := e.req("GET", svgURL, "", ""); r.Status != 200 || r.Header.Get("Content-Type") != "image/svg+xml" {
			t.Fatalf("GET svg: %d %v", r.Status, r.Header)
		}

		// Refused, and the floor keeps its SVG.
		for _, c := range []struct{ ctype, body, field string }{
			{"image/svg+xml", `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`, "body"},
			{"image/svg+xml", `<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`, "body"},
			{"image/svg+xml", `<svg xmlns="http://www.w3.org/2000/svg"><a href="javascript:alert(1)">x</a></svg>`, "body"},
			{"image/svg+xml", `<html><body/></html>`, "body"},
			{"image/svg+xml", `<svg`, "body"},
			{"image/png", "not a png", "body"},
			{"image/png", "", "body"},
			{"text/plain", "hello", "content_type"},
			{"", "hello", "content_type"},
		} {
			r := e.req("PUT", floor+"/plan", "admin", c.body, "Content-Type", c.ctype)
			if p := e.problemCode(r, 400, "validation_failed"); p["field"] != c.field {
				t.Errorf("%s %.30q: field %v, want %s", c.ctype, c.body, p["field"], c.field)
			}
		}
		big := strings.Repeat(" ", 5<<20+1)
		e.problemCode(e.req("PUT", floor+"/plan", "admin", "<svg>"+big+"</svg>", "Content-Type", "image/svg+xml"), 413, "payload_too_large")
		e.problemCode(e.req("PUT", floor+"/plan", "employee", svg, "Content-Type", "image/svg+xml"), 403, "forbidden")
		if got := e.must(200, e.req("GET", floor, "admin", ""))["plan_image_url"]; got != svgURL {
			t.Fatalf("after refused uploads the floor says %v, want %s", got, svgURL)
		}

		// Removed: the floor has none; unused images are purged.
		if f := e.must(200, e.req("DELETE", floor+"/plan", "admin", "")); f["plan_image_url"] != nil {
			t.Fatalf("after DELETE: %v", f["plan_image_url"])
		}
		n, err := e.srv.Floorplans.PurgePlanImages(t.Context())
		if err != nil || n != 2 {
			t.Fatalf("purged %d images (%v), want 2", n, err)
		}
		e.problemCode(e.req("GET", svgURL, "", ""), 404, "not_found")
		e.problemCode(e.req("GET", "/plans/../../etc/passwd", "", ""), 404, "not_found")
	})
}
