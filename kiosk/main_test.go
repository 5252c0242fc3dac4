package kiosk_test

import (
	"os"
	"testing"

	"github.com/perch-hq/perch/database/dbtest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }
