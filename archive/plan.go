package archive

import (
	"cmp"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// File is one input of a plan, with what is known about it and how.
type File struct {
	Path      string
	Kind      Kind
	Collector string
	// Time is the file's time: the dump or first update time for MRT
	// (from the name, else the first record), the build time for VRPs
	// (exporter metadata, else the file's modification time).
	Time     time.Time
	TimeFrom string // "name", "mrt_record", "metadata" or "file_mtime"
	Err      error  // why the file could not be used (then Kind may be unknown)
}

// PlanOptions shape a plan.
type PlanOptions struct {
	// MaxVRPAge is how much older than the RIB the VRP set may be; a RIB
	// without a set built within it is skipped.
	MaxVRPAge time.Duration
	// UpdatesWindow attaches to a RIB at T the same collector's update
	// files with T <= time < T+UpdatesWindow; 0 attaches none.
	UpdatesWindow time.Duration
	// Workers inspect files in parallel (reading a VRP file's build time
	// means loading it); 0 means 1.
	Workers int
}

// Expand lists the files under paths (files are taken as they are,
// directories walked), sorted, without duplicates.
func Expand(paths []string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("archive: %w", err)
		}
		if !st.IsDir() {
			if abs, err := filepath.Abs(p); err == nil && !seen[abs] {
				seen[abs] = true
				out = append(out, abs)
			}
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() {
				abs, err := filepath.Abs(path)
				if err != nil {
					return err
				}
				if !seen[abs] {
					seen[abs] = true
					out = append(out, abs)
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("archive: walking %s: %w", p, err)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Inspect tells what each file is, in parallel; the result is in the order
// of paths.
func Inspect(ctx context.Context, paths []string, workers int) []File {
	out := make([]File, len(paths))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range max(1, workers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				out[i] = inspectFile(paths[i])
			}
		}()
	}
	for i := range paths {
		if ctx.Err() != nil {
			out[i] = File{Path: paths[i], Err: ctx.Err()}
			continue
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return out
}

func inspectFile(path string) File {
	info := ParseName(path)
	f := File{Path: path, Kind: info.Kind, Collector: info.Collector, Time: info.Time}
	if !f.Time.IsZero() {
		f.TimeFrom = "name"
	}
	if f.Kind == KindUnknown || (f.Kind != KindVRPs && f.Time.IsZero()) {
		// Not told by the name: look at the content.
		k, t, err := sniff(path)
		if err != nil {
			f.Err = err
			return f
		}
		if f.Kind == KindUnknown {
			f.Kind = k
		}
		if f.Kind != KindVRPs && f.Time.IsZero() {
			f.Time, f.TimeFrom = t, "mrt_record"
		}
	}
	if f.Kind != KindVRPs && f.Collector == "" {
		// The directory a collector's files are kept in.
		f.Collector = filepath.Base(filepath.Dir(path))
	}
	if f.Kind == KindVRPs {
		t, from, err := vrpBuildTime(path)
		if err != nil {
			f.Err = err
			return f
		}
		f.Time, f.TimeFrom = t, from
	}
	return f
}

// Unit is one line of a manifest: a collector's RIB at Time with the VRP
// set in force then, or (Skip set) a file or unit left out and why.
type Unit struct {
	Collector string     `json:"collector,omitempty"`
	Time      *time.Time `json:"time,omitempty"`
	RIB       string     `json:"rib,omitempty"`
	Updates   []string   `json:"updates,omitempty"`
	VRPs      string     `json:"vrps,omitempty"`
	// VRPBuilt is the set's build time and VRPBuiltFrom where it came from
	// ("metadata" or "file_mtime"); VRPAge is Time minus VRPBuilt in
	// seconds: the set's age when the RIB was dumped.
	VRPBuilt     *time.Time `json:"vrp_built,omitempty"`
	VRPBuiltFrom string     `json:"vrp_built_from,omitempty"`
	VRPAge       int64      `json:"vrp_age_s,omitempty"`
	// TimeFrom says how Time was found ("name", "mrt_record").
	TimeFrom string `json:"time_from,omitempty"`
	// Skip is why this line is not a unit to run; File names the file
	// when the line is about a file rather than a RIB.
	Skip string `json:"skip,omitempty"`
	File string `json:"file,omitempty"`
}

// Runnable reports whether the line is a unit to run.
func (u Unit) Runnable() bool { return u.Skip == "" && u.RIB != "" && u.Time != nil && u.VRPs != "" }

// Plan pairs every RIB with the newest VRP set built at or before its time
// and within opt.MaxVRPAge, attaches update files, and lists everything
// else as skipped with the reason. Units are sorted by collector and time;
// skipped lines follow.
func Plan(files []File, opt PlanOptions) []Unit {
	var ribs, updates, vrps []File
	var skipped []Unit
	for _, f := range files {
		switch {
		case f.Err != nil:
			skipped = append(skipped, Unit{File: f.Path, Skip: fmt.Sprintf("unreadable: %v", f.Err)})
		case f.Kind == KindRIB:
			ribs = append(ribs, f)
		case f.Kind == KindUpdates:
			updates = append(updates, f)
		case f.Kind == KindVRPs:
			vrps = append(vrps, f)
		default:
			skipped = append(skipped, Unit{File: f.Path, Skip: "not an MRT or VRP file"})
		}
	}
	byTime := func(a, b File) int {
		return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.Path, b.Path))
	}
	slices.SortFunc(vrps, byTime)
	slices.SortFunc(updates, byTime)
	slices.SortFunc(ribs, func(a, b File) int { return cmp.Or(cmp.Compare(a.Collector, b.Collector), byTime(a, b)) })
	used := make([]bool, len(updates))
	var units []Unit
	for _, r := range ribs {
		t := r.Time
		u := Unit{Collector: r.Collector, Time: &t, RIB: r.Path, TimeFrom: r.TimeFrom}
		if opt.UpdatesWindow > 0 {
			for i, up := range updates {
				if up.Collector == r.Collector && !up.Time.Before(t) && up.Time.Before(t.Add(opt.UpdatesWindow)) {
					u.Updates = append(u.Updates, up.Path)
					used[i] = true
				}
			}
		}
		v, reason := PairVRPs(vrps, t, opt.MaxVRPAge)
		if reason != "" {
			u.Skip = reason
		} else {
			built := v.Time
			u.VRPs, u.VRPBuilt, u.VRPBuiltFrom = v.Path, &built, v.TimeFrom
			u.VRPAge = int64(t.Sub(built) / time.Second)
		}
		units = append(units, u)
	}
	for i, up := range updates {
		if !used[i] {
			why := "updates file: no RIB of collector " + up.Collector + " within --updates-window before it"
			if opt.UpdatesWindow <= 0 {
				why = "updates file: not used without --updates-window"
			}
			skipped = append(skipped, Unit{File: up.Path, Collector: up.Collector, Skip: why})
		}
	}
	slices.SortStableFunc(units, func(a, b Unit) int { return cmp.Compare(boolInt(a.Skip != ""), boolInt(b.Skip != "")) })
	return append(units, skipped...)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// PairVRPs picks the VRP set in force at t from vrps (sorted by Time, then
// path): the newest built at or before t, if it is at most maxAge older
// than t (maxAge <= 0: any age). Sets built after t are never used: they
// know ROAs that did not exist yet. Among sets built at the same second the
// last path wins, so the choice is stable. The reason is "" on success.
func PairVRPs(vrps []File, t time.Time, maxAge time.Duration) (File, string) {
	i, _ := slices.BinarySearchFunc(vrps, t, func(f File, t time.Time) int {
		if f.Time.After(t) {
			return 1
		}
		return -1
	})
	// vrps[:i] are built at or before t.
	if i == 0 {
		if len(vrps) == 0 {
			return File{}, "no VRP files given"
		}
		return File{}, fmt.Sprintf("no VRP set built at or before %s (earliest %s)", t.Format(time.RFC3339), vrps[0].Time.Format(time.RFC3339))
	}
	v := vrps[i-1]
	if age := t.Sub(v.Time); maxAge > 0 && age > maxAge {
		return File{}, fmt.Sprintf("newest VRP set at or before %s is %s built %s, %s old: more than --max-vrp-age %s",
			t.Format(time.RFC3339), v.Path, v.Time.Format(time.RFC3339), age, maxAge)
	}
	return v, ""
}

// PlanPaths is plan's whole job: expand paths, inspect every file, pair.
// Counts of runnable units and skipped lines are returned for the caller
// to report.
func PlanPaths(ctx context.Context, paths []string, opt PlanOptions) (units []Unit, runnable, skipped int, err error) {
	files, err := Expand(paths)
	if err != nil {
		return nil, 0, 0, err
	}
	units = Plan(Inspect(ctx, files, opt.Workers), opt)
	if err := ctx.Err(); err != nil {
		return nil, 0, 0, err
	}
	for _, u := range units {
		if u.Runnable() {
			runnable++
		} else {
			skipped++
		}
	}
	return units, runnable, skipped, nil
}
