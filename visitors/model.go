// Package visitors owns visits to a site: pre-registration with an invite
// code, check-in and check-out at a lobby kiosk or by reception, the badge,
// site policy documents the visitor accepts, the watchlist, who is on site
// now and roll calls, and the retention of visitors' personal data.
//
// Every change that someone should hear about live writes an outbox row
// (booking.Event) in the same transaction: visitor.arrived and
// visitor.checked_out addressed to the host (UserID), visitor.flagged to the
// site's reception (SiteID only). The WebSocket hub routes them.
package visitors

import (
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/users"
)

// Status is where a visit is in its life.
type Status string

const (
	StatusExpected   Status = "expected"    // invited, not arrived
	StatusCheckedIn  Status = "checked_in"  // on site
	StatusCheckedOut Status = "checked_out" // left
	StatusCancelled  Status = "cancelled"   // called off by the host or reception
	StatusFlagged    Status = "flagged"     // matched the watchlist at the kiosk; reception decides
)

// Outbox event kinds.
const (
	EventArrived    = "visitor.arrived"
	EventCheckedOut = "visitor.checked_out"
	EventFlagged    = "visitor.flagged"
)

// EDocumentsRequired: the visitor has not accepted every current policy
// document of the site (HTTP 422). Details list the documents.
const EDocumentsRequired = "visitor_documents_required"

// Defaults and limits.
const (
	DefaultRetentionDays = 30
	MaxRetentionDays     = 3650
	// Checkout methods.
	CheckoutKiosk     = "kiosk"
	CheckoutReception = "reception"
	CheckoutAuto      = "auto"
	// LobbyFloor is the floor name under which visitors without a room
	// booking are listed on site.
	LobbyFloor = "Lobby / unknown floor"
)

// Visit is a row of the visits table.
type Visit struct {
	ID               string
	SiteID           string
	HostID           string
	CreatedBy        *string
	Status           Status
	ExpectedAt       time.Time
	WalkIn           bool
	VisitorName      string
	VisitorEmail     string
	VisitorCompany   string
	VisitorPhone     string
	SearchText       string
	Purpose          string
	RoomBookingID    *string
	InviteCode       string
	BadgeCode        *string
	CheckedInAt      *time.Time
	CheckedOutAt     *time.Time
	CheckoutMethod   *string
	FlaggedAt        *time.Time
	WatchlistEntryID *string
	AnonymisedAt     *time.Time
	Version          int
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// TableName maps Visit to visits.
func (Visit) TableName() string { return "visits" }

// Visitor is the person visiting (personal data: blanked after retention).
type Visitor struct {
	Name    string `json:"name"`
	Email   string `json:"email"`
	Company string `json:"company"`
	Phone   string `json:"phone"`
}

// Normalize trims every field and lower-cases the email.
func (v *Visitor) Normalize() {
	v.Name = strings.TrimSpace(v.Name)
	v.Email = strings.ToLower(strings.TrimSpace(v.Email))
	v.Company = strings.TrimSpace(v.Company)
	v.Phone = strings.TrimSpace(v.Phone)
}

// Validate checks the visitor; emailRequired for invitations.
func (v *Visitor) Validate(emailRequired bool) error {
	if err := users.CheckName("visitor.name", v.Name, 200); err != nil {
		return err
	}
	if v.Email == "" && emailRequired {
		return perch.Invalid("visitor.email", "visitor.email is required: the invitation goes there")
	}
	if v.Email != "" {
		if a, err := mail.ParseAddress(v.Email); err != nil || a.Address != v.Email || len(v.Email) > 254 {
			return perch.Invalid("visitor.email", "visitor.email must be a plain address like ada@example.com")
		}
	}
	if v.Company != "" {
		if err := users.CheckName("visitor.company", v.Company, 200); err != nil {
			return err
		}
	}
	if v.Phone != "" {
		if utf8.RuneCountInString(v.Phone) > 40 {
			return perch.Invalid("visitor.phone", "visitor.phone must be at most 40 characters")
		}
		for _, r := range v.Phone {
			if !(r >= '0' && r <= '9' || strings.ContainsRune(" +-()./", r)) {
				return perch.Invalid("visitor.phone", "visitor.phone may hold digits, spaces and + - ( ) . / only")
			}
		}
	}
	return nil
}

// checkText accepts an optional printable text of at most max characters
// (newlines allowed).
func checkText(field, v string, max int) error {
	if !utf8.ValidString(v) || utf8.RuneCountInString(v) > max {
		return perch.Invalid(field, "%s must be at most %d characters", field, max)
	}
	for _, r := range v {
		if (r < 0x20 && r != '\n' && r != '\r' && r != '\t') || r == 0x7f {
			return perch.Invalid(field, "%s must not contain control characters", field)
		}
	}
	return nil
}

// nameKey is a name as the watchlist compares it: lower case, single spaces.
func nameKey(s string) string { return strings.Join(strings.Fields(strings.ToLower(s)), " ") }

// searchText is what the kiosk's name search matches: the name and the
// company, lower-cased in Go so the search is case-insensitive on both
// databases, for any script (SQLite's lower() knows ASCII only).
func searchText(v Visitor) string { return nameKey(v.Name + " " + v.Company) }

// ShortName is how a kiosk shows a visitor: first name and last initial.
func ShortName(name string) string {
	parts := strings.Fields(name)
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	last, _ := utf8.DecodeRuneInString(parts[len(parts)-1])
	return parts[0] + " " + string(last) + "."
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// View is a visit as the API shows it.
type View struct {
	ID             string      `json:"id"`
	SiteID         string      `json:"site_id"`
	SiteName       string      `json:"site_name"`
	Timezone       string      `json:"timezone"`
	HostID         string      `json:"host_id"`
	HostName       string      `json:"host_name"`
	Status         Status      `json:"status"`
	ExpectedAt     time.Time   `json:"expected_at"`
	WalkIn         bool        `json:"walk_in"`
	Visitor        Visitor     `json:"visitor"`
	Purpose        string      `json:"purpose"`
	RoomBookingID  *string     `json:"room_booking_id"`
	InviteCode     string      `json:"invite_code"`
	CheckedInAt    *time.Time  `json:"checked_in_at"`
	CheckedOutAt   *time.Time  `json:"checked_out_at"`
	CheckoutMethod *string     `json:"checkout_method"`
	Anonymised     bool        `json:"anonymised"`
	Version        int         `json:"version"`
	CreatedAt      time.Time   `json:"created_at"`
	UpdatedAt      time.Time   `json:"updated_at"`
	Invitation     *Invitation `json:"invitation,omitempty"`

	badgeCode string
	address   string
}

// BadgeCode is the code on the visitor's badge ("" before check-in).
func (v *View) BadgeCode() string { return v.badgeCode }

// Invitation is a ready-to-send invitation.
type Invitation struct {
	Subject string `json:"subject"`
	Text    string `json:"text"`
}

// visitRow is a visit joined with its host's name and its site.
type visitRow struct {
	Visit
	HostName            string
	SiteName            string
	SiteAddress         string
	Timezone            string
	ArrivalInstructions *string
}

const visitSelect = `v.*, u.name AS host_name, s.name AS site_name, s.address AS site_address, s.timezone,
	vs.arrival_instructions`
const visitJoins = `JOIN users u ON u.id = v.host_id JOIN sites s ON s.id = v.site_id
	LEFT JOIN visitor_settings vs ON vs.site_id = v.site_id`

func (r *visitRow) view() View {
	v := View{
		ID: r.ID, SiteID: r.SiteID, SiteName: r.SiteName, Timezone: r.Timezone, HostID: r.HostID, HostName: r.HostName,
		Status: r.Status, ExpectedAt: r.ExpectedAt.UTC(), WalkIn: r.WalkIn,
		Visitor: Visitor{Name: r.VisitorName, Email: r.VisitorEmail, Company: r.VisitorCompany, Phone: r.VisitorPhone},
		Purpose: r.Purpose, RoomBookingID: r.RoomBookingID, InviteCode: r.InviteCode,
		CheckedInAt: utcPtr(r.CheckedInAt), CheckedOutAt: utcPtr(r.CheckedOutAt), CheckoutMethod: r.CheckoutMethod,
		Anonymised: r.AnonymisedAt != nil, Version: r.Version, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
		address: r.SiteAddress,
	}
	if r.BadgeCode != nil {
		v.badgeCode = *r.BadgeCode
	}
	if r.Status == StatusExpected {
		inv := invitation(&v, deref(r.ArrivalInstructions))
		v.Invitation = &inv
	}
	return v
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Location is the site's time zone (UTC if unusable).
func (v *View) Location() *time.Location { return loadLocation(v.Timezone) }

func loadLocation(tz string) *time.Location {
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return time.UTC
	}
	return loc
}

// invitation writes the text a host sends: where, when (in the site's
// time zone), whom to ask for, how to check in.
func invitation(v *View, instructions string) Invitation {
	at := v.ExpectedAt.In(v.Location())
	when := at.Format("Monday, 2 January 2006 at 15:04") + " (" + v.Timezone + ")"
	first := v.Visitor.Name
	if f := strings.Fields(first); len(f) > 0 {
		first = f[0]
	}
	if instructions == "" {
		instructions = "Please come to reception when you arrive and scan the QR code of this invitation at the lobby kiosk, or find your name on the kiosk's screen."
	}
	var b strings.Builder
	b.WriteString("Hello " + first + ",\n\n")
	b.WriteString(v.HostName + " has invited you to " + v.SiteName)
	if v.address != "" {
		b.WriteString(" (" + v.address + ")")
	}
	b.WriteString(" on " + when + ".\n")
	if v.Purpose != "" {
		b.WriteString("Purpose of the visit: " + v.Purpose + "\n")
	}
	b.WriteString("\nArrival: " + instructions + "\n")
	b.WriteString("Your check-in code: " + v.InviteCode + "\n\n")
	b.WriteString("See you soon,\n" + v.HostName + "\n")
	return Invitation{
		Subject: "Your visit to " + v.SiteName + " on " + at.Format("Mon 2 Jan 2006, 15:04"),
		Text:    b.String(),
	}
}
