package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"reflect"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/database"
)

// maxJSONBody bounds every JSON request body.
const maxJSONBody = 1 << 20

// fields records which top-level keys a JSON body held, so PATCH can tell a
// missing field from an explicit null.
type fields map[string]json.RawMessage

func (f fields) has(k string) bool { _, ok := f[k]; return ok }

// decode reads the request body strictly into dst (a pointer to a struct):
// JSON only, one object, no unknown fields, the right types. Every failure is
// a validation_failed naming the field. nullable lists the keys that may be
// null; a null anywhere else is refused.
func decode(c *fiber.Ctx, dst any, nullable ...string) (fields, error) {
	if ct := c.Get(fiber.HeaderContentType); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return nil, perch.Errorf(perch.EUNSUPPORTED, "Send the request body as application/json.")
		}
	}
	body := c.Body()
	if len(body) > maxJSONBody {
		return nil, perch.Errorf(perch.ETOOLARGE, "The request body is larger than %d bytes.", maxJSONBody)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, perch.Invalid("", "The request body is empty; send a JSON object.")
	}
	var raw fields
	if err := json.Unmarshal(body, &raw); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return nil, perch.Invalid("", "The request body is not valid JSON (error at byte %d).", se.Offset)
		case errors.As(err, &te):
			return nil, perch.Invalid("", "The request body must be a JSON object.")
		default:
			return nil, perch.Invalid("", "The request body is not valid JSON.")
		}
	}
	if raw == nil {
		return nil, perch.Invalid("", "The request body must be a JSON object.")
	}
	for k, v := range raw {
		if string(bytes.TrimSpace(v)) == "null" && !contains(nullable, k) {
			return nil, perch.Invalid(k, "%s must not be null", k)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return nil, decodeError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, perch.Invalid("", "The request body must hold one JSON object and nothing after it.")
	}
	return raw, nil
}

// decodeOptional is decode for endpoints whose body may be empty.
func decodeOptional(c *fiber.Ctx, dst any) error {
	if len(bytes.TrimSpace(c.Body())) == 0 {
		return nil
	}
	_, err := decode(c, dst)
	return err
}

func decodeError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			return perch.Invalid("", "The request body must be a JSON object.")
		}
		return perch.Invalid(field, "%s must be %s", field, describe(te.Type, te.Value))
	case errors.As(err, &se):
		return perch.Invalid("", "The request body is not valid JSON (error at byte %d).", se.Offset)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return perch.Invalid(name, "unknown field %q", name)
	}
	return perch.Invalid("", "The request body is not valid JSON.")
}

// describe names what a Go type expects, for a person.
func describe(t reflect.Type, got string) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if strings.HasPrefix(got, "number") {
			return "a whole number in range"
		}
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return fmt.Sprintf("of type %s", t.Kind())
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// idParam reads a path parameter that must be an id.
func idParam(c *fiber.Ctx, name string) (string, error) {
	v := c.Params(name)
	if !database.ValidID(v) {
		return "", perch.Invalid(name, "%s %q is not a valid id", name, truncate(v, 64))
	}
	return v, nil
}

// pageParams reads ?limit= and ?cursor=.
func pageParams(c *fiber.Ctx) (database.Page, error) {
	limit := 0
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return database.Page{}, perch.Invalid("limit", "limit must be a whole number")
		}
		limit = n
		if n == 0 {
			return database.Page{}, perch.Invalid("limit", "limit must be between 1 and %d", database.MaxLimit)
		}
	}
	return database.NewPage(limit, c.Query("cursor"))
}

// optionalID reads a query parameter that, when present, must be an id.
func optionalID(c *fiber.Ctx, name string) (string, error) {
	v := c.Query(name)
	if v != "" && !database.ValidID(v) {
		return "", perch.Invalid(name, "%s is not a valid id", name)
	}
	return v, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
