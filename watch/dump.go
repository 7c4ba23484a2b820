package watch

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/rovimpact/rovimpact/internal/atomicfile"
	"github.com/rovimpact/rovimpact/mrt"
	"github.com/rovimpact/rovimpact/route"
)

// dumpName names a dump after its time to the second, as collectors name
// RIB files (rib.20261123.120005.mrt.gz), so a directory of dumps sorts by
// time; n > 0 tells apart dumps of the same second, sorting after the
// first (rib.….120005_001.mrt.gz: '_' sorts after '.').
func dumpName(t time.Time, n int) string {
	stamp := t.UTC().Format("20060102.150405")
	if n > 0 {
		stamp += fmt.Sprintf("_%03d", n)
	}
	return "rib." + stamp + ".mrt.gz"
}

// dumpGlob matches the dumps watch writes, and nothing else in --dump.
const dumpGlob = "rib.*.mrt.gz"

// writeDump writes every held path as a gzip-compressed MRT TABLE_DUMP_V2
// file in --dump (analyze reads it as it is), under a name no other dump
// has, atomically (temporary file, fsync, rename): `analyze` pointed at the
// directory never reads half a file. Then it applies the retention
// (--dump-keep, --dump-max-age). The dump is the table as it was when it
// started: live.State.Paths copies the held paths under the State's lock
// (tens of milliseconds for a full table) and the encoding, compression,
// writing and fsync run without it, so the collectors keep applying
// meanwhile (BenchmarkWriteDump's max-stall-ms measures how long they wait).
func (w *Service) writeDump() error {
	dir := w.opts.Dump
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("dump: %w", err)
	}
	now := w.now()
	var path string
	for n := 0; ; n++ {
		path = filepath.Join(dir, dumpName(now, n))
		if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
			break
		}
		if n == 999 {
			return fmt.Errorf("dump: %s: 1000 dumps of the same second", path)
		}
	}
	start := time.Now()
	var st mrt.WriterStats
	var bad int
	err := atomicfile.Write(path, func(out io.Writer) error {
		zw := gzip.NewWriter(out)
		var err error
		if st, bad, err = dumpState(zw, w, now); err != nil {
			return err
		}
		return zw.Close()
	})
	if err != nil {
		return fmt.Errorf("dump: %w", err)
	}
	var size int64
	if fi, err := os.Stat(path); err == nil {
		size = fi.Size()
	}
	w.log.Info("dump_written", "file", path, "paths", st.Entries, "records", st.Records, "bytes", st.Bytes,
		"gzip_bytes", size, "skipped", bad, "seconds", time.Since(start).Seconds())
	w.pruneDumps(path, now)
	return nil
}

// pruneDumps removes the dumps beyond the newest --dump-keep and those
// older than --dump-max-age, never the one just written (keep).
func (w *Service) pruneDumps(keep string, now time.Time) {
	if w.opts.DumpKeep <= 0 && w.opts.DumpMaxAge <= 0 {
		return
	}
	names, err := filepath.Glob(filepath.Join(w.opts.Dump, dumpGlob))
	if err != nil {
		return
	}
	type dump struct {
		path string
		mod  time.Time
	}
	var dumps []dump
	for _, n := range names {
		if fi, err := os.Lstat(n); err == nil && fi.Mode().IsRegular() {
			dumps = append(dumps, dump{n, fi.ModTime()})
		}
	}
	// Newest first: by time, then by name (the same second's .N order).
	slices.SortFunc(dumps, func(a, b dump) int {
		if c := b.mod.Compare(a.mod); c != 0 {
			return c
		}
		return strings.Compare(b.path, a.path)
	})
	removed := 0
	for i, d := range dumps {
		old := w.opts.DumpMaxAge > 0 && now.Sub(d.mod) > w.opts.DumpMaxAge
		over := w.opts.DumpKeep > 0 && i >= w.opts.DumpKeep
		if d.path == keep || !(old || over) {
			continue
		}
		if err := os.Remove(d.path); err != nil {
			w.log.Error("dump_prune_failed", "file", d.path, "err", err)
			continue
		}
		removed++
	}
	if removed > 0 {
		w.log.Info("dumps_pruned", "removed", removed, "kept", len(dumps)-removed, "dump_keep", w.opts.DumpKeep, "dump_max_age", w.opts.DumpMaxAge)
	}
}

// dumpState streams the State's paths through an mrt.Writer. Routes the
// writer refuses (mrt.ErrBadRoute: a path too long to frame) are counted
// and left out; any other error ends the dump.
func dumpState(out io.Writer, w *Service, now time.Time) (mrt.WriterStats, int, error) {
	keys, paths := w.state.Paths()
	peers := make([]route.Peer, len(keys))
	for i, k := range keys {
		peers[i] = route.Peer{Index: i, AS: k.AS, IP: k.IP}
	}
	mw := mrt.NewWriter(out, mrt.WriterOptions{Time: now, ViewName: "rovimpact watch"})
	if err := mw.WritePeers(peers); err != nil {
		return mw.Stats(), 0, err
	}
	bad := 0
	var werr error
	for r := range paths {
		if err := mw.Add(r); err != nil {
			if errors.Is(err, mrt.ErrBadRoute) {
				bad++
				continue
			}
			werr = err
			break
		}
	}
	if werr != nil {
		return mw.Stats(), bad, werr
	}
	if err := mw.Close(); err != nil {
		return mw.Stats(), bad, err
	}
	return mw.Stats(), bad, nil
}
