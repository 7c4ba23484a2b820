package main

import (
	"os"
	"testing"
	"time"
)

// testNow is the clock of the analysing commands in tests: a day after the
// sample VRPs were built (rpki-client buildtime 2025-07-20T10:01:43Z), so
// golden reports state a VRP age that does not change with the date.
var testNow = time.Date(2025, 7, 21, 10, 1, 43, 0, time.UTC)

func TestMain(m *testing.M) {
	clock = func() time.Time { return testNow }
	os.Exit(m.Run())
}
