package main

import (
	"os"
	"slices"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/rovimpact/rovimpact/internal/buildinfo"
	"github.com/rovimpact/rovimpact/internal/hugepage"
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
	// The commands run in-process, many times: a huge-page reservation
	// (a 1 GiB allocation and a GC) per analyze would cost seconds and
	// RSS, and changes no output. TestBigHeapCommands checks who asks.
	os.Setenv(hugepage.Env, "0")
	os.Exit(m.Run())
}

// TestBigHeapCommands pins which commands reserve huge pages before they
// run (bigHeap sets their PreRun, and nothing else sets one): the batch
// commands that hold a full table or VRP sets and their analysis. Not the
// others: version and help pay ~10 ms and a GC for nothing; routes streams
// (peak RSS ~23 MB on a full table); history, diff and archive plan/merge
// read small files; watch's long-lived, churning heap would hold ~100 MB
// more RSS in huge pages (watch/service.go).
func TestBigHeapCommands(t *testing.T) {
	want := []string{"rovimpact analyze", "rovimpact archive run", "rovimpact aspa", "rovimpact lookup", "rovimpact snapshot", "rovimpact vrps diff"}
	var got, all []string
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		all = append(all, c.CommandPath())
		if c.PreRun != nil {
			got = append(got, c.CommandPath())
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(newRootCommand())
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("commands that reserve huge pages: %q, want %q", got, want)
	}
	for _, c := range []string{"rovimpact version", "rovimpact routes", "rovimpact watch", "rovimpact history"} {
		if !slices.Contains(all, c) {
			t.Errorf("%s is not a command any more: update this test", c)
		}
	}
}
