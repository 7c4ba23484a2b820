package history

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/study"
)

// OpenExisting opens a history database that must already exist (the
// history and diff commands read one; only analyze --history creates it).
func OpenExisting(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, study.Usagef("--history FILE.db is required")
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	return Open(ctx, path)
}

// LoadRun reads one side of a diff: an existing file is a JSON report;
// anything else is a run reference in st (an id, a date, "latest",
// "previous"). The label names the run for the diff's output.
func LoadRun(ctx context.Context, st *Store, ref string) (rep reports.Report, label string, err error) {
	if fi, err := os.Stat(ref); err == nil && !fi.IsDir() {
		rep, err := study.ReadReport(ref)
		return rep, ref, err
	}
	if st == nil {
		return reports.Report{}, "", study.Usagef("%q: no such report file (give --history FILE.db to name runs by id or date)", ref)
	}
	id, err := st.Resolve(ctx, ref)
	if err != nil {
		return reports.Report{}, "", err
	}
	rep, info, err := st.Report(ctx, id)
	if err != nil {
		return reports.Report{}, "", err
	}
	return rep, fmt.Sprintf("run %d (%s)", info.ID, info.At.Format(time.RFC3339)), nil
}

// VRPDropWarn is the shrink since the previous run, in percent, that
// always warns.
const VRPDropWarn = 10.0

// CheckVRPDrop compares the VRP count with the previous run: a set that
// shrank sharply is more often a failed fetch or a broken validator than
// the Internet withdrawing ROAs, and analysing it calls invalids resolved.
// It warns above VRPDropWarn percent and returns a *study.ThresholdError
// above failPct (negative: never) as threshold; err is a failure to read
// the history.
func (s *Store) CheckVRPDrop(ctx context.Context, loaded int, failPct float64, warn io.Writer) (threshold, err error) {
	prev, err := s.Latest(ctx)
	if errors.Is(err, ErrNoRun) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	before := prev.Summary.VRPs.Loaded
	if before == 0 || loaded >= before {
		return nil, nil
	}
	drop := 100 * float64(before-loaded) / float64(before)
	crossed := failPct >= 0 && drop > failPct
	if drop <= VRPDropWarn && !crossed {
		return nil, nil
	}
	msg := fmt.Sprintf("VRPs: %d loaded, %d in the previous run (%d, %s): %.1f%% fewer",
		loaded, before, prev.ID, prev.At.Format(time.RFC3339), drop)
	if !crossed {
		fmt.Fprintf(warn, "rovimpact: warning: %s\n", msg)
		return nil, nil
	}
	return study.Thresholdf("%s (--fail-on-vrp-drop %g)", msg, failPct), nil
}
