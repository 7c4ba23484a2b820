package history

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkOpen measures Open, whose PRAGMA quick_check reads every page,
// on a history of 300 nightly runs of 250 invalid routes each, against
// reading the latest run back (what diff and the HTML trend do anyway).
func BenchmarkOpen(b *testing.B) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "h.db")
	st, err := Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	rep := mkReport(250)
	for i := range 300 {
		if _, err := st.Append(ctx, day0.Add(time.Duration(i)*24*time.Hour), rep, nil); err != nil {
			b.Fatal(err)
		}
	}
	st.Close()
	if fi, err := os.Stat(path); err == nil {
		b.Logf("history: %d MB", fi.Size()>>20)
	}
	b.Run("open", func(b *testing.B) {
		for b.Loop() {
			st, err := Open(ctx, path)
			if err != nil {
				b.Fatal(err)
			}
			st.Close()
		}
	})
	st, err = Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	b.Run("read-latest-run", func(b *testing.B) {
		for b.Loop() {
			id, err := st.Resolve(ctx, "latest")
			if err != nil {
				b.Fatal(err)
			}
			if _, _, err := st.Report(ctx, id); err != nil {
				b.Fatal(err)
			}
		}
	})
}
