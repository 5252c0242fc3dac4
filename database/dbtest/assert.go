package dbtest

import (
	"errors"
	"testing"

	"github.com/perch-hq/perch"
)

// Must fails the test on a non-nil error.
func Must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// WantErr asserts err has the perch error code ("" for no error) and, when
// field is not empty, names that field.
func WantErr(t testing.TB, err error, code, field string) {
	t.Helper()
	if got := perch.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (err: %v), want %q", got, err, code)
	}
	if code == "" || field == "" {
		return
	}
	var pe *perch.Error
	if !errors.As(err, &pe) {
		t.Fatalf("error %v is not a *perch.Error", err)
	}
	if pe.Field != field {
		t.Fatalf("error field = %q (err: %v), want %q", pe.Field, err, field)
	}
}
