package watch

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/live"
)

// TestDumpNamesAndRetention: dumps of the same second get names of their
// own that sort in writing order; --dump-keep keeps the newest N and
// --dump-max-age removes the older ones; files that are not dumps stay.
func TestDumpNamesAndRetention(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 12, 2, 12, 30, 5, 0, time.UTC)
	w := &Service{opts: Options{Dump: dir, Now: func() time.Time { return now }}, log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		state: live.New(live.Options{})}
	for range 3 {
		if err := w.writeDump(); err != nil {
			t.Fatal(err)
		}
	}
	names := func() []string {
		m, _ := filepath.Glob(filepath.Join(dir, "*"))
		for i := range m {
			m[i] = filepath.Base(m[i])
		}
		return m
	}
	want := []string{"rib.20261202.123005.mrt.gz", "rib.20261202.123005_001.mrt.gz", "rib.20261202.123005_002.mrt.gz"}
	if got := names(); !slices.Equal(got, want) {
		t.Fatalf("names %v, want %v", got, want)
	}
	// gzip (RFC 1952 magic).
	b, _ := os.ReadFile(filepath.Join(dir, want[0]))
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Errorf("dump is not gzip: % x", b[:min(len(b), 4)])
	}
	// Ages: the three above 3, 2 and 1 hours old; a file of the operator's.
	for i, n := range want {
		os.Chtimes(filepath.Join(dir, n), now, now.Add(-time.Duration(3-i)*time.Hour))
	}
	os.WriteFile(filepath.Join(dir, "notes.txt"), nil, 0o644)
	w.opts.DumpMaxAge = 150 * time.Minute // removes the 3-hour-old one
	now = now.Add(time.Minute)
	if err := w.writeDump(); err != nil {
		t.Fatal(err)
	}
	want = []string{"notes.txt", "rib.20261202.123005_001.mrt.gz", "rib.20261202.123005_002.mrt.gz", "rib.20261202.123105.mrt.gz"}
	if got := names(); !slices.Equal(got, want) {
		t.Fatalf("after --dump-max-age: %v, want %v", got, want)
	}
	w.opts.DumpKeep = 2 // the newest two: the one just written and the 1-hour-old one
	now = now.Add(time.Minute)
	if err := w.writeDump(); err != nil {
		t.Fatal(err)
	}
	want = []string{"notes.txt", "rib.20261202.123105.mrt.gz", "rib.20261202.123205.mrt.gz"}
	if got := names(); !slices.Equal(got, want) {
		t.Fatalf("after --dump-keep 2: %v, want %v", got, want)
	}
}
