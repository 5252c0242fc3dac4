package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"html"
	"image"
	_ "image/png"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/database/dbtest"
	"github.com/perch-hq/perch/demo"
	"github.com/perch-hq/perch/floorplans"
)

// decodeQR reads a QR code PNG back to its text.
func decodeQR(t *testing.T, png []byte) string {
	t.Helper()
	img, _, err := image.Decode(bytes.NewReader(png))
	if err != nil {
		t.Fatalf("not an image: %v", err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	// A generated, unrotated code: read it as a pure barcode, which reads
	// every module exactly (gozxing's finder-pattern search, made for
	// photos, misses about one in a hundred clean synthetic images).
	hints := map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, hints)
	if err != nil {
		t.Fatalf("QR code does not decode: %v", err)
	}
	return res.GetText()
}

// A desk's QR code decodes to exactly {PERCH_PUBLIC_URL}/q/{code}; rotating
// it changes the code, and the old one stops checking anyone in.
func TestQRCodesDecodeToTheCheckInURL(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		fp := floorplans.NewService(db)
		d, _ := fp.GetDesk(ctx, demo.ID("desk", "1A-01"))
		r := e.req("GET", "/api/v1/desks/"+d.ID+"/qr.png?size=300", "admin", "")
		if r.Status != 200 || r.Header.Get("Content-Type") != "image/png" || r.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("qr.png: %d %v", r.Status, r.Header)
		}
		if got, want := decodeQR(t, r.Body), "http://perch.test/q/"+d.QRCode; got != want {
			t.Fatalf("decodes to %q, want %q", got, want)
		}
		img, _, _ := image.Decode(bytes.NewReader(r.Body))
		if b := img.Bounds(); b.Dx() > 300 || b.Dx() < 250 || b.Dx() != b.Dy() {
			t.Fatalf("size %v, want a square of at most 300 px", b)
		}
		room, _ := fp.GetRoom(ctx, demo.ID("room", "Spree"))
		if got := decodeQR(t, e.must200Bytes("/api/v1/rooms/"+room.ID+"/qr.png")); got != "http://perch.test/q/"+room.QRCode {
			t.Fatalf("room decodes to %q", got)
		}
		e.must(400, e.req("GET", "/api/v1/desks/"+d.ID+"/qr.png?size=64", "admin", ""))
		// The code is never in the office model employees read.
		if strings.Contains(string(e.req("GET", "/api/v1/desks/"+d.ID, "employee", "").Body), d.QRCode) {
			t.Fatal("the desk's check-in code is served with the office model")
		}

		rot := e.must(200, e.req("POST", "/api/v1/desks/"+d.ID+"/qr/rotate", "admin", ""))
		newURL := rot["url"].(string)
		if newURL == "http://perch.test/q/"+d.QRCode || !strings.HasPrefix(newURL, "http://perch.test/q/") {
			t.Fatalf("rotated url %q", newURL)
		}
		if got := decodeQR(t, e.must200Bytes("/api/v1/desks/"+d.ID+"/qr.png")); got != newURL {
			t.Fatalf("after rotation decodes to %q, want %q", got, newURL)
		}
		e.clock.Set(monday9)
		old := e.req("POST", "/api/v1/checkins", "employee", `{"code":"`+d.QRCode+`"}`)
		if old.Status != 404 || !strings.Contains(old.json(t)["detail"].(string), "not valid any more") {
			t.Fatalf("old code: %d %s", old.Status, old.Body)
		}
		// The whole scanned URL works as the code, too.
		res := e.must(201, e.req("POST", "/api/v1/checkins", "employee", `{"code":"`+newURL+`"}`))
		if res["walk_up"] != true || res["booking"].(map[string]any)["status"] != "checked_in" {
			t.Fatalf("check-in by URL: %v", res)
		}
	})
}

func (e *env) must200Bytes(path string) []byte {
	e.t.Helper()
	r := e.req("GET", path, "admin", "")
	if r.Status != 200 {
		e.t.Fatalf("%s: %d %s", path, r.Status, r.Body)
	}
	return r.Body
}

// The floor's QR sheet is one printable A4 page with a decodable code per
// desk and room, labelled with the desk code and floor name.
func TestQRSheet(t *testing.T) {
	e := newEnv(t, dbtest.OpenSQLite(t))
	r := e.req("GET", "/api/v1/floors/"+demo.ID("floor", "0")+"/qr-sheet", "admin", "")
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("qr-sheet: %d %v", r.Status, r.Header)
	}
	page := string(r.Body)
	for _, want := range []string{"size: A4", "Berlin HQ · Ground floor", ">1A-01<", ">1F-10<", ">Spree<"} {
		if !strings.Contains(page, want) {
			t.Errorf("sheet lacks %q", want)
		}
	}
	imgs := regexp.MustCompile(`src="data:image/png;base64,([^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(imgs) != 64 {
		t.Fatalf("%d codes on the sheet, want 60 desks + 4 rooms", len(imgs))
	}
	png, _ := base64.StdEncoding.DecodeString(html.UnescapeString(imgs[0][1])) // as a browser reads the attribute
	d, _ := floorplans.NewService(e.db).GetDesk(context.Background(), demo.ID("desk", "1A-01"))
	if got := decodeQR(t, png); got != "http://perch.test/q/"+d.QRCode {
		t.Fatalf("first label decodes to %q", got)
	}
}

// /q/{code} is the page a phone opens: it carries the code to the API.
func TestCheckInPage(t *testing.T) {
	e := newEnv(t, dbtest.OpenSQLite(t))
	d, _ := floorplans.NewService(e.db).GetDesk(context.Background(), demo.ID("desk", "1A-01"))
	r := e.req("GET", "/q/"+d.QRCode, "", "")
	if r.Status != 200 || !strings.Contains(string(r.Body), `const code = "`+d.QRCode+`"`) || !strings.Contains(string(r.Body), "/api/v1/checkins") {
		t.Fatalf("page: %d %.300s", r.Status, r.Body)
	}
	if r := e.req("GET", "/q/not%3Ca%3Ecode", "", ""); r.Status != 404 {
		t.Fatalf("bad code page: %d", r.Status)
	}
}

// Check-in and check-out from the app, and the booking shows why it ended.
func TestCheckInAndOutOverHTTP(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.clock.Set(monday9)
		b := e.must(201, e.req("POST", "/api/v1/bookings", "employee", bookingJSON("1C-01", berlinAt(23, 9, 10), berlinAt(23, 17, 0))))
		id := b["id"].(string)
		e.must(404, e.req("POST", "/api/v1/bookings/"+id+"/check-in", "token:"+e.mintPeople(1)[0], "")) // not theirs
		ci := e.must(201, e.req("POST", "/api/v1/bookings/"+id+"/check-in", "employee", ""))
		if ci["check_in"].(map[string]any)["method"] != "web" {
			t.Fatalf("check-in: %v", ci)
		}
		e.must(200, e.req("POST", "/api/v1/bookings/"+id+"/check-in", "employee", "")) // again: already
		e.clock.Set(monday9.Add(3 * time.Hour))
		co := e.must(200, e.req("POST", "/api/v1/bookings/"+id+"/check-out", "employee", ""))
		bk := co["booking"].(map[string]any)
		if bk["status"] != "completed" || bk["status_reason"] != "checked_out" || bk["end"] != "2026-03-23T11:00:00Z" {
			t.Fatalf("check-out: %v", bk)
		}
	})
}
