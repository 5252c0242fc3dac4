// Package web holds Perch's server-rendered pages (html/template, embedded
// in the binary). It renders what the api package hands it and knows
// nothing of the database.
package web

import (
	"embed"
	"html/template"
	"io"
	"io/fs"
)

//go:embed templates/*.html
var files embed.FS

// The web app: HTML, CSS and ES modules, served as they are (no build
// step, no Node.js).
//
//go:embed static
var static embed.FS

// Static is the web app's files (index.html, kiosk.html, app.js, lib/…).
func Static() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embed directive guarantees the directory
	}
	return sub
}

// Pages are the parsed templates. Build once with New and share.
type Pages struct {
	t *template.Template
}

// New parses the embedded templates.
func New() (*Pages, error) {
	t, err := template.ParseFS(files, "templates/*.html")
	if err != nil {
		return nil, err
	}
	return &Pages{t: t}, nil
}

// QRLabel is one sticker on a QR sheet.
type QRLabel struct {
	Code    string       // the desk code or room name
	Kind    string       // "Desk" or "Room"
	PNGData template.URL // data: URL of the QR code image
	URL     string       // what the code encodes
}

// QRSheet is a printable A4 page of a floor's QR codes.
type QRSheet struct {
	SiteName  string
	FloorName string
	Labels    []QRLabel
}

// RenderQRSheet writes the sheet.
func (p *Pages) RenderQRSheet(w io.Writer, s QRSheet) error {
	return p.t.ExecuteTemplate(w, "qrsheet.html", s)
}

// CheckInPage is the page a phone opens after scanning a code.
type CheckInPage struct {
	Code string
}

// RenderCheckIn writes the check-in page.
func (p *Pages) RenderCheckIn(w io.Writer, c CheckInPage) error {
	return p.t.ExecuteTemplate(w, "checkin.html", c)
}

// Badge is a visitor's printable badge.
type Badge struct {
	Name     string
	Company  string
	HostName string
	SiteName string
	Date     string       // the visit's date in the site's time zone
	QRData   template.URL // data: URL of the QR code of the badge code (check-out)
	// A4 prints the badge on an A4 page instead of an 86 × 54 mm label.
	A4 bool
}

// RenderBadge writes the badge page.
func (p *Pages) RenderBadge(w io.Writer, b Badge) error {
	return p.t.ExecuteTemplate(w, "badge.html", b)
}
