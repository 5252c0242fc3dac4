// Package e2e holds the browser tests: the web app driven in real headless
// Chromium (Debian's chromium package) against a real perch binary. They
// are built only with the e2e tag: run them with `make test-e2e`.
// Screenshots are written to $PERCH_ARTIFACTS (default artifacts/e2e).
package e2e
