package study

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"sync/atomic"

	"github.com/rovimpact/rovimpact/internal/compressed"
	"github.com/rovimpact/rovimpact/internal/progress"
	"github.com/rovimpact/rovimpact/mrt"
	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/route"
)

// DumpRoutes (rovimpact routes) streams every route event of each MRT file
// to w in format (reports' routes formats) and each file's summary to
// stderr: its counts, skips and first problems, so nothing the reader
// dropped goes unmentioned. A failed write to w (a closed pipe) stops
// before the next file.
func DumpRoutes(ctx context.Context, w io.Writer, format string, stderr io.Writer, showProgress bool, paths []string) error {
	out := bufio.NewWriterSize(w, 256<<10)
	rw, err := reports.NewRoutesWriter(out, format)
	if err != nil {
		return err
	}
	var errs []error
	for _, path := range paths {
		st, err := dumpRoutes(ctx, path, rw, stderr, showProgress)
		writeRoutesSummary(stderr, path, st, err)
		if err != nil {
			errs = append(errs, err)
			if ctx.Err() != nil || errors.Is(err, errRoutesOutput) {
				break
			}
		}
	}
	if err := out.Flush(); err != nil {
		errs = append(errs, fmt.Errorf("writing output: %w", err))
	}
	return errors.Join(errs...)
}

// errRoutesOutput marks a failed write to the output (a closed pipe): no
// point reading further files.
var errRoutesOutput = errors.New("writing output")

// dumpRoutes writes every event of one file and returns the reader's
// statistics; the error names the file.
func dumpRoutes(ctx context.Context, path string, rw *reports.RoutesWriter, stderr io.Writer, showProgress bool) (route.Stats, error) {
	f, err := compressed.Open(path)
	if err != nil {
		return route.Stats{}, err
	}
	defer f.Close()
	var routes atomic.Int64
	stop := progress.Start(stderr, showProgress, filepath.Base(path), "routes", func() progress.Sample {
		return progress.Sample{Done: f.Pos(), Total: f.Size(), Items: routes.Load()}
	})
	defer stop()
	r := mrt.NewReader(f, mrt.Options{Name: path})
	var n int64
	for r.Next() {
		if err := rw.Write(r.Route()); err != nil {
			return r.Stats(), fmt.Errorf("%w: %w", errRoutesOutput, err)
		}
		if n++; n&0xfff == 0 {
			routes.Store(n)
			if err := ctx.Err(); err != nil {
				return r.Stats(), err
			}
		}
	}
	return r.Stats(), r.Err()
}

// writeRoutesSummary prints one file's counts, skips and first problems:
// nothing the reader dropped goes unmentioned.
func writeRoutesSummary(w io.Writer, path string, st route.Stats, err error) {
	if path == "-" {
		path = "stdin"
	}
	fmt.Fprintf(w, "%s: %d routes from %d records (%d bytes)", path, st.Routes, st.Records, st.Bytes)
	if len(st.Skipped) > 0 {
		keys := make([]string, 0, len(st.Skipped))
		for k := range st.Skipped {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		fmt.Fprint(w, "; skipped:")
		for _, k := range keys {
			fmt.Fprintf(w, " %s=%d", k, st.Skipped[k])
		}
	}
	fmt.Fprintln(w)
	const maxShown = 5
	for i, p := range st.Problems {
		if i == maxShown {
			fmt.Fprintf(w, "  ... %d more problems\n", len(st.Problems)-maxShown)
			break
		}
		fmt.Fprintf(w, "  record %d at offset %d: %s\n", p.Record, p.Offset, p.Err)
	}
	if err != nil {
		fmt.Fprintf(w, "  error: %v\n", err)
	}
}
