package archive

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/rovimpact/rovimpact/internal/atomicfile"
	"github.com/rovimpact/rovimpact/reports"
)

// Output tables under the run's directory. Each is a Hive-partitioned
// dataset: <table>/collector=<c>/date=<YYYY-MM-DD>/unit-<id>.parquet.
const (
	TableSummary  = "summary"
	TableInvalids = "invalids"
	TablePeers    = "peers"
	// TableASPAPaths holds the ASPA-invalid and unverified paths of
	// units run with RunOptions.ASPA.
	TableASPAPaths = "aspa_paths"
	// DirFailed holds one failed-<id>.json per failed unit.
	DirFailed = "failed"
	// ManifestCopy is the manifest of the last run, for merge to tell
	// missing units.
	ManifestCopy = "manifest.jsonl"
	// DirMerged is merge's output, never mixed with unit outputs.
	DirMerged = "merged"
)

// RunOptions configure Run.
type RunOptions struct {
	Out     string
	Shard   Shard
	Workers int // units studied at once; 0 means 1
	// AllowPartial keeps a unit whose input was damaged (the summary says
	// partial, with the loss) instead of failing it.
	AllowPartial bool
	// Log receives one line per unit finished or failed; nil: none.
	Log io.Writer
	// ASPA also verifies every path against the VRP file's ASPAs (as
	// rovimpact aspa; a second replay of the unit's files): the summary's
	// aspa_* columns and the aspa_paths table. Units whose VRP file holds
	// no ASPA keep those columns null.
	ASPA bool
}

// RunStats counts what a Run did.
type RunStats struct {
	Units       int // runnable units in the shard
	Studied     int // studied and written now
	AlreadyDone int // complete before the run: nothing written
	Failed      int // failed: a failed record was written
	VRPLoads    int // VRP files loaded (each once per run while in use)
}

// ErrUnitsFailed is returned (wrapped) by Run when some units failed;
// every other unit was still studied and written.
var ErrUnitsFailed = errors.New("units failed")

// FailedRecord is the JSON a failed unit leaves in DIR/failed: what the
// unit was and why it failed. Deleted when the unit later succeeds.
type FailedRecord struct {
	Unit      string         `json:"unit"`
	Collector string         `json:"collector"`
	Time      time.Time      `json:"time"`
	RIB       string         `json:"rib"`
	Updates   []string       `json:"updates,omitempty"`
	VRPs      string         `json:"vrps"`
	Reason    string         `json:"reason"` // "input_damaged", "input_error", "vrps_error", "internal_error"
	Error     string         `json:"error"`
	Losses    []reports.Loss `json:"losses,omitempty"`
}

// Shard selects the shard's units from a manifest (its runnable lines,
// numbered in manifest order).
func (s Shard) Select(units []Unit) []Unit {
	var out []Unit
	i := 0
	for _, u := range units {
		if !u.Runnable() {
			continue
		}
		if s.Has(i) {
			out = append(out, u)
		}
		i++
	}
	return out
}

// Run studies the shard's units of the manifest and writes their Parquet
// under opt.Out. A unit whose summary exists is complete and skipped
// without reading anything, so a resubmitted task redoes only what is
// missing; files are written atomically (summary last), so a task killed
// mid-unit leaves no summary and the unit runs again. A unit whose input
// is missing, unreadable, truncated or corrupt writes a failed record and
// the run goes on; the returned error then wraps ErrUnitsFailed.
func Run(ctx context.Context, manifest []Unit, opt RunOptions) (RunStats, error) {
	units := opt.Shard.Select(manifest)
	st := RunStats{Units: len(units)}
	if err := atomicfile.MkdirAll(opt.Out); err != nil {
		return st, err
	}
	if err := atomicfile.Write(filepath.Join(opt.Out, ManifestCopy), func(w io.Writer) error {
		return WriteManifest(w, manifest)
	}); err != nil {
		return st, err
	}
	// Units sharing a VRP file run together, so each set is loaded once
	// and released when its last unit is done.
	slices.SortStableFunc(units, func(a, b Unit) int { return cmp.Compare(a.VRPs, b.VRPs) })
	cache := newVRPCache(units)
	jobs := make(chan Unit)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range max(1, opt.Workers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for u := range jobs {
				outcome, msg := runUnit(ctx, u, opt, cache)
				mu.Lock()
				switch outcome {
				case unitStudied:
					st.Studied++
				case unitDone:
					st.AlreadyDone++
				case unitFailed:
					st.Failed++
				}
				if opt.Log != nil && msg != "" {
					fmt.Fprintln(opt.Log, msg)
				}
				mu.Unlock()
			}
		}()
	}
	for _, u := range units {
		if ctx.Err() != nil {
			break
		}
		jobs <- u
	}
	close(jobs)
	wg.Wait()
	st.VRPLoads = cache.loads
	if err := ctx.Err(); err != nil {
		return st, err
	}
	if st.Failed > 0 {
		return st, fmt.Errorf("%d of %d units failed (records in %s): %w", st.Failed, st.Units, filepath.Join(opt.Out, DirFailed), ErrUnitsFailed)
	}
	return st, nil
}

type unitOutcome uint8

const (
	unitStudied unitOutcome = iota
	unitDone
	unitFailed
	unitCancelled
)

// UnitPath is where table's file of unit u goes.
func UnitPath(out, table string, u Unit) string {
	return filepath.Join(out, table, "collector="+partValue(u.Collector), "date="+u.Time.UTC().Format(time.DateOnly), "unit-"+u.ID()+".parquet")
}

// FailedPath is where unit u's failed record goes.
func FailedPath(out string, u Unit) string {
	return filepath.Join(out, DirFailed, "failed-"+u.ID()+".json")
}

var unsafePart = regexp.MustCompile(`[^A-Za-z0-9._-]`)

// partValue keeps a Hive partition value to characters every engine and
// file system takes as they are.
func partValue(s string) string {
	if s == "" {
		return "unknown"
	}
	return unsafePart.ReplaceAllString(s, "_")
}

func runUnit(ctx context.Context, u Unit, opt RunOptions, cache *vrpCache) (outcome unitOutcome, msg string) {
	summary := UnitPath(opt.Out, TableSummary, u)
	if _, err := os.Stat(summary); err == nil {
		cache.release(u.VRPs)
		return unitDone, ""
	}
	start := time.Now()
	fail := func(reason string, err error, losses []reports.Loss) (unitOutcome, string) {
		rec := FailedRecord{Unit: u.ID(), Collector: u.Collector, Time: *u.Time, RIB: u.RIB, Updates: u.Updates,
			VRPs: u.VRPs, Reason: reason, Error: err.Error(), Losses: losses}
		werr := atomicfile.MkdirAll(filepath.Join(opt.Out, DirFailed))
		if werr == nil {
			werr = atomicfile.Write(FailedPath(opt.Out, u), func(w io.Writer) error {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(rec)
			})
		}
		if werr != nil {
			return unitFailed, fmt.Sprintf("unit %s %s %s: FAILED (%s: %v) and its failed record could not be written: %v", u.ID(), u.Collector, u.Time.Format(time.RFC3339), reason, err, werr)
		}
		return unitFailed, fmt.Sprintf("unit %s %s %s: FAILED: %s: %v", u.ID(), u.Collector, u.Time.Format(time.RFC3339), reason, err)
	}
	defer func() {
		// A panic is a bug (reported as such), but it must not take the
		// other units of the shard down with it.
		if p := recover(); p != nil {
			outcome, msg = fail("internal_error", fmt.Errorf("panic: %v\n%s", p, debug.Stack()), nil)
		}
	}()
	set, err := cache.get(u.VRPs)
	defer cache.release(u.VRPs)
	if err != nil {
		return fail("vrps_error", err, nil)
	}
	if b := set.sum.BuildTime; b != nil && b.After(*u.Time) {
		// A hand-edited line can pair a RIB with a later set, which
		// knows ROAs that did not exist yet: refuse rather than answer
		// for the wrong day.
		return fail("vrps_error", fmt.Errorf("%s was built %s, after the RIB's time %s", u.VRPs, b.Format(time.RFC3339), u.Time.Format(time.RFC3339)), nil)
	}
	res, err := studyUnit(ctx, u, set, opt.ASPA)
	if err != nil {
		if ctx.Err() != nil {
			return unitCancelled, ""
		}
		return fail("input_error", err, nil)
	}
	if len(res.damaged) > 0 && !opt.AllowPartial {
		var losses []reports.Loss
		var what []string
		for _, in := range res.damaged {
			losses = append(losses, *in.Loss)
			what = append(what, in.Loss.Describe(in.Name))
		}
		return fail("input_damaged", errors.New(strings.Join(what, "; ")+" (--allow-partial keeps such units, marked partial)"), losses)
	}
	sum, invs, peers := unitRows(u, res)
	// Summary last: its presence is what makes the unit complete.
	if err := writeParquet(UnitPath(opt.Out, TableInvalids, u), invs); err != nil {
		return fail("internal_error", err, nil)
	}
	if err := writeParquet(UnitPath(opt.Out, TablePeers, u), peers); err != nil {
		return fail("internal_error", err, nil)
	}
	if res.aspa != nil {
		if err := writeParquet(UnitPath(opt.Out, TableASPAPaths, u), aspaPathRows(u, res.aspa.InvalidPaths)); err != nil {
			return fail("internal_error", err, nil)
		}
	}
	if err := writeParquet(summary, []SummaryRow{sum}); err != nil {
		return fail("internal_error", err, nil)
	}
	if err := os.Remove(FailedPath(opt.Out, u)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fail("internal_error", err, nil)
	}
	noASPA := ""
	if opt.ASPA && res.aspa == nil {
		// Said per unit: --aspa asked for a verdict this unit cannot have
		// (its VRP set predates ASPA or left it out), so its aspa_* columns
		// are null, not zero.
		noASPA = fmt.Sprintf("; --aspa: %s holds no ASPA, aspa_* left null", u.VRPs)
	}
	return unitStudied, fmt.Sprintf("unit %s %s %s: %d routes, %d invalid, %d unreachable (%.1fs)%s",
		u.ID(), u.Collector, u.Time.Format(time.RFC3339), sum.Routes, sum.Invalid, sum.Unreachable, time.Since(start).Seconds(), noASPA)
}

// writeParquet writes rows to path atomically (Snappy-compressed pages, as
// Spark and DuckDB write by default).
func writeParquet[T any](path string, rows []T) error {
	if err := atomicfile.MkdirAll(filepath.Dir(path)); err != nil {
		return err
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		return parquet.Write(w, rows, parquet.Compression(&parquet.Snappy))
	})
}

// vrpCache holds the VRP sets in use: each file is loaded once, by the
// first unit that needs it, and dropped when the last unit using it is
// done, so a shard sorted by VRP file holds about one set per worker.
type vrpCache struct {
	mu      sync.Mutex
	entries map[string]*vrpEntry
	loads   int
}

type vrpEntry struct {
	once    sync.Once
	set     *vrpSet
	err     error
	pending int // units not yet done
}

func newVRPCache(units []Unit) *vrpCache {
	c := &vrpCache{entries: map[string]*vrpEntry{}}
	for _, u := range units {
		e := c.entries[u.VRPs]
		if e == nil {
			e = &vrpEntry{}
			c.entries[u.VRPs] = e
		}
		e.pending++
	}
	return c
}

func (c *vrpCache) get(path string) (*vrpSet, error) {
	c.mu.Lock()
	e := c.entries[path]
	c.mu.Unlock()
	e.once.Do(func() {
		e.set, e.err = loadVRPSet(path)
		c.mu.Lock()
		c.loads++
		c.mu.Unlock()
	})
	return e.set, e.err
}

func (c *vrpCache) release(path string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[path]
	e.pending--
	if e.pending == 0 {
		e.set = nil // the last unit is done: let the collector have it
	}
}
