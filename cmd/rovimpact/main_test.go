package main

import (
	"os"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/internal/buildinfo"
)

// testNow is the clock of the analysing commands in tests: a day after the
// sample VRPs were built (rpki-client buildtime 2025-07-20T10:01:43Z), so
// golden reports state a VRP age, and a generation time (summary.generated),
// that do not change with the date.
var testNow = time.Date(2025, 7, 21, 10, 1, 43, 0, time.UTC)

func TestMain(m *testing.M) {
	clock = func() time.Time { return testNow }
	// Golden reports name this build, not the toolchain's stamp (which
	// differs between a checkout, CI and -buildvcs=false).
	buildInfo = func() buildinfo.Info { return buildinfo.Info{Version: "(test)", GoVersion: "go"} }
	os.Exit(m.Run())
}
