package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/kiosk"
	"github.com/perch-hq/perch/moves"
	"github.com/perch-hq/perch/reports"
	"github.com/perch-hq/perch/visitors"
)

// Codes only the HTTP layer produces.
const (
	codeMethodNotAllowed = "method_not_allowed"
	codeNotAcceptable    = "not_acceptable"
	codeRateLimited      = "rate_limited"
)

// problemTypeBase prefixes every problem type URI; the fragment is the code,
// documented in docs/API.md.
const problemTypeBase = "https://github.com/perch-hq/perch/blob/main/docs/API.md#"

// statusOf is the one place where error codes become HTTP statuses.
func statusOf(code string) int {
	switch code {
	case perch.EINVALID:
		return http.StatusBadRequest
	case perch.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case perch.EFORBIDDEN:
		return http.StatusForbidden
	case perch.ENOTFOUND:
		return http.StatusNotFound
	case codeMethodNotAllowed:
		return http.StatusMethodNotAllowed
	case codeNotAcceptable:
		return http.StatusNotAcceptable
	case codeRateLimited:
		return http.StatusTooManyRequests
	case perch.ECONFLICT, perch.EBOOKINGCONFLICT, kiosk.ENotPaired:
		return http.StatusConflict
	case perch.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case perch.EUNSUPPORTED:
		return http.StatusUnsupportedMediaType
	case perch.EPRECONDITION:
		return http.StatusPreconditionFailed
	case perch.EPRECONDREQUIRED:
		return http.StatusPreconditionRequired
	case perch.EIDEMPOTENCYKEY, reports.EUnsupported, moves.EInvalidPlan, visitors.EDocumentsRequired:
		return http.StatusUnprocessableEntity
	case perch.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	case perch.EINTERNAL:
		return http.StatusInternalServerError
	}
	if strings.HasPrefix(code, "policy_") {
		return http.StatusUnprocessableEntity
	}
	return http.StatusInternalServerError
}

// titles are short, fixed summaries per code (RFC 9457 "title").
var titles = map[string]string{
	perch.EINVALID:              "Validation failed",
	perch.EUNAUTHORIZED:         "Not signed in",
	perch.EFORBIDDEN:            "Not allowed",
	perch.ENOTFOUND:             "Not found",
	codeMethodNotAllowed:        "Method not allowed",
	codeNotAcceptable:           "Not acceptable",
	codeRateLimited:             "Too many requests",
	perch.ECONFLICT:             "Conflict",
	perch.EBOOKINGCONFLICT:      "Already booked",
	kiosk.ENotPaired:            "Kiosk not paired yet",
	perch.ETOOLARGE:             "Payload too large",
	perch.EUNSUPPORTED:          "Unsupported media type",
	perch.EUNAVAILABLE:          "Service unavailable",
	perch.EPRECONDITION:         "Precondition failed",
	perch.EPRECONDREQUIRED:      "Precondition required",
	perch.EIDEMPOTENCYKEY:       "Idempotency key reused",
	reports.EUnsupported:        "Not supported yet",
	moves.EInvalidPlan:          "Move plan has errors",
	visitors.EDocumentsRequired: "Documents to accept",
	perch.EINTERNAL:             "Internal error",
}

// Problem is an RFC 9457 problem details document with Perch's extensions.
type Problem struct {
	Type      string         `json:"type"`
	Title     string         `json:"title"`
	Status    int            `json:"status"`
	Detail    string         `json:"detail"`
	Instance  string         `json:"instance,omitempty"`
	Code      string         `json:"code"`
	Field     string         `json:"field,omitempty"`
	RequestID string         `json:"request_id,omitempty"`
	Details   map[string]any `json:"details,omitempty"`
}

// fromFiberError turns Fiber's own errors (no route, body too large, …)
// into perch errors.
func fromFiberError(fe *fiber.Error) *perch.Error {
	switch fe.Code {
	case fiber.StatusNotFound:
		return perch.Errorf(perch.ENOTFOUND, "No such endpoint.")
	case fiber.StatusMethodNotAllowed:
		return perch.Errorf(codeMethodNotAllowed, "This endpoint does not support that method.")
	case fiber.StatusRequestEntityTooLarge:
		return perch.Errorf(perch.ETOOLARGE, "The request body is too large.")
	case fiber.StatusUnsupportedMediaType:
		return perch.Errorf(perch.EUNSUPPORTED, "%s", fe.Message)
	case fiber.StatusServiceUnavailable:
		return perch.Errorf(perch.EUNAVAILABLE, "%s", fe.Message)
	case fiber.StatusRequestHeaderFieldsTooLarge:
		return perch.Errorf(perch.EINVALID, "The request headers are too large.")
	case fiber.StatusRequestTimeout:
		return perch.Errorf(perch.EUNAVAILABLE, "The request took too long to arrive.")
	}
	if fe.Code >= 400 && fe.Code < 500 {
		return perch.Errorf(perch.EINVALID, "The request is malformed.")
	}
	return &perch.Error{Code: perch.EINTERNAL, Message: "An internal error occurred.", Err: fe}
}

// normalize turns Fiber's errors into perch errors, and an untranslated
// error that means the database is unreachable into unavailable (503, not
// 500); others pass through.
func normalize(err error) error {
	var fe *fiber.Error
	if errors.As(err, &fe) {
		return fromFiberError(fe)
	}
	if perch.ErrorCode(err) == perch.EINTERNAL && database.IsUnavailable(err) {
		return &perch.Error{Code: perch.EUNAVAILABLE, Message: "The database is not reachable; try again shortly.", Err: err}
	}
	return err
}

// handleError writes err as application/problem+json. It is Fiber's
// ErrorHandler and is also called by the logging middleware, so every error
// is logged with the status it got.
func (s *Server) handleError(c *fiber.Ctx, err error) error {
	err = normalize(err)
	code := perch.ErrorCode(err)
	status := statusOf(code)
	p := Problem{
		Type:      problemTypeBase + code,
		Title:     titles[code],
		Status:    status,
		Detail:    perch.ErrorMessage(err),
		Instance:  c.Path(),
		Code:      code,
		RequestID: requestID(c),
	}
	if p.Title == "" && strings.HasPrefix(code, "policy_") {
		p.Title = "Not allowed by the booking policy"
	}
	if p.Title == "" {
		p.Title = http.StatusText(status)
	}
	var pe *perch.Error
	if errors.As(err, &pe) {
		p.Field = pe.Field
		p.Details = pe.Details
	}
	if status >= 500 && code != perch.EUNAVAILABLE {
		s.log.Error("request failed", "request_id", p.RequestID, "method", c.Method(), "route", routeOf(c), "error", err)
	} else if code == perch.EUNAVAILABLE {
		s.log.Warn("request unavailable", "request_id", p.RequestID, "route", routeOf(c), "error", err)
	}
	if code == perch.EUNAUTHORIZED {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="perch"`)
	}
	if code == perch.EUNAVAILABLE {
		c.Set(fiber.HeaderRetryAfter, "5")
	}
	if code == codeRateLimited && len(c.Response().Header.Peek(fiber.HeaderRetryAfter)) == 0 {
		c.Set(fiber.HeaderRetryAfter, "60")
	}
	body, _ := json.Marshal(p)
	c.Status(status)
	c.Set(fiber.HeaderContentType, "application/problem+json")
	return c.Send(body)
}

// routeOf is the matched route template (never the raw path with ids).
func routeOf(c *fiber.Ctx) string {
	if r := c.Route(); r != nil && r.Path != "" && r.Path != "/" {
		return r.Path
	}
	return "unmatched"
}
