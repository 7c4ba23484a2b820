package watch

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/rovimpact/rovimpact/internal/atomicfile"
	"github.com/rovimpact/rovimpact/mrt"
)

// dumpName names a dump after its time, as collectors name RIB files
// (rib.20261123.1200.mrt), so a directory of dumps sorts by time.
func dumpName(t time.Time) string {
	return "rib." + t.UTC().Format("20060102.1504") + ".mrt"
}

// writeDump writes every held path as an MRT TABLE_DUMP_V2 file in --dump,
// atomically (temporary file, fsync, rename): `analyze` pointed at the
// directory never reads half a file. The dump is the table as it was when
// it started: live.State.Paths copies the held paths under the State's
// lock (tens of milliseconds for a full table) and the encoding, writing
// and fsync run without it, so the collectors keep applying meanwhile
// (BenchmarkWriteDump's max-stall-ms measures how long they wait).
func (w *Service) writeDump() error {
	dir := w.opts.Dump
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("dump: %w", err)
	}
	now := w.opts.Now()
	path := filepath.Join(dir, dumpName(now))
	start := time.Now()
	var st mrt.WriterStats
	var bad int
	err := atomicfile.Write(path, func(out io.Writer) error {
		var err error
		st, bad, err = dumpState(out, w, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("dump: %w", err)
	}
	w.log.Info("dump_written", "file", path, "paths", st.Entries, "records", st.Records, "bytes", st.Bytes,
		"skipped", bad, "seconds", time.Since(start).Seconds())
	return nil
}

// dumpState streams the State's paths through an mrt.Writer. Routes the
// writer refuses (mrt.ErrBadRoute: a path too long to frame) are counted
// and left out; any other error ends the dump.
func dumpState(out io.Writer, w *Service, now time.Time) (mrt.WriterStats, int, error) {
	keys, paths := w.state.Paths()
	peers := make([]mrt.Peer, len(keys))
	for i, k := range keys {
		peers[i] = mrt.Peer{Index: i, AS: k.AS, IP: k.IP}
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
