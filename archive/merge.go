package archive

import (
	"bufio"
	"cmp"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/rovimpact/rovimpact/internal/atomicfile"
)

// TimelineRow is one collector at one time: the sum of its units there
// (usually one; a rib and a rib6 of the same dump make two).
type TimelineRow struct {
	Collector string `parquet:"collector"`
	Time      int64  `parquet:"time,timestamp(millisecond)"`
	Units     int64  `parquet:"units"`
	Partial   int64  `parquet:"partial_units"`
	Routes    int64  `parquet:"routes"`
	Tally
}

// PersistenceRow is one invalid route (collector, prefix, origin) over the
// collector's timeline.
type PersistenceRow struct {
	Collector string `parquet:"collector"`
	Prefix    string `parquet:"prefix"`
	Origin    *int64 `parquet:"origin,optional"` // null: AS_SET
	FirstSeen int64  `parquet:"first_seen,timestamp(millisecond)"`
	LastSeen  int64  `parquet:"last_seen,timestamp(millisecond)"`
	// UnitsSeen counts the collector's times the route was invalid at;
	// LongestRun the most consecutive ones (of the collector's times that
	// have a result); TimesTotal the collector's times with a result.
	UnitsSeen   int64  `parquet:"units_seen"`
	LongestRun  int64  `parquet:"longest_run"`
	TimesTotal  int64  `parquet:"collector_times"`
	Unreachable int64  `parquet:"units_unreachable"`
	LastClass   string `parquet:"last_class"`
	LastImpact  string `parquet:"last_impact"`
}

// OriginRow is one origin AS ranked by how long its invalid routes left
// destinations unreachable.
type OriginRow struct {
	Origin *int64 `parquet:"origin,optional"` // null: AS_SET
	// UnreachableSeconds sums, over collectors and their times, the
	// origin's unreachable routes times the time until the collector's
	// next result (the last time counts the gap before it; a collector
	// with one time counts 0): route-seconds as each collector saw them.
	UnreachableSeconds int64 `parquet:"unreachable_route_seconds"`
	UnreachableUnits   int64 `parquet:"unreachable_route_units"`
	InvalidUnits       int64 `parquet:"invalid_route_units"`
	Prefixes           int64 `parquet:"prefixes"`
	Collectors         int64 `parquet:"collectors"`
}

// UnitStatus is one manifest unit's state in the results.
type UnitStatus struct {
	Unit      string `json:"unit"`
	Collector string `json:"collector"`
	Time      string `json:"time"`
	RIB       string `json:"rib"`
	Status    string `json:"status"` // "done", "partial", "failed", "missing"
	Reason    string `json:"reason,omitempty"`
}

// MergeResult is what Merge found and wrote.
type MergeResult struct {
	Timeline                       []TimelineRow
	Persistence                    []PersistenceRow
	Origins                        []OriginRow
	Units                          []UnitStatus // every manifest unit (when the manifest copy exists) and every result
	Done, Partial, Failed, Missing int
	// NoManifest: DIR has no manifest copy, so missing units cannot be
	// told.
	NoManifest bool
}

// Report writes to w (stderr) each failed and missing unit, a warning when
// dir has no manifest copy, and a line of counts; it returns the number of
// failed and missing units, which make the merge partial.
func (res MergeResult) Report(w io.Writer, dir string) int {
	for _, u := range res.Units {
		if u.Status == "failed" || u.Status == "missing" {
			fmt.Fprintf(w, "rovimpact: archive merge: %s unit %s %s %s %s\n", u.Status, u.Unit, u.Collector, u.Time, u.Reason)
		}
	}
	if res.NoManifest {
		fmt.Fprintf(w, "rovimpact: archive merge: warning: %s has no %s: missing units cannot be told\n", dir, ManifestCopy)
	}
	fmt.Fprintf(w, "rovimpact: archive merge: %d units done, %d partial, %d failed, %d missing; %d timeline rows, %d invalid routes, %d origins in %s\n",
		res.Done, res.Partial, res.Failed, res.Missing, len(res.Timeline), len(res.Persistence), len(res.Origins), filepath.Join(dir, DirMerged))
	return res.Failed + res.Missing
}

// Merge reads every unit's Parquet under dir (only Parquet, as any engine
// would) and writes the timeline, persistence and origins tables under
// dir/merged as Parquet and CSV, with units.csv listing every unit's
// status. Invalid and peer files without a summary (a task killed between
// them) are ignored: the summary is what makes a unit complete.
func Merge(dir string) (MergeResult, error) {
	var res MergeResult
	type unitInfo struct {
		collector string
		sum       SummaryRow
	}
	units := map[string]unitInfo{}
	sums, err := globUnits(dir, TableSummary)
	if err != nil {
		return res, err
	}
	for _, p := range sums {
		rows, err := parquet.ReadFile[SummaryRow](p)
		if err != nil {
			return res, fmt.Errorf("archive merge: %s: %w", p, err)
		}
		if len(rows) != 1 {
			return res, fmt.Errorf("archive merge: %s: %d summary rows, want 1", p, len(rows))
		}
		units[rows[0].Unit] = unitInfo{collector: collectorOf(p), sum: rows[0]}
	}

	// Timeline.
	type ct struct {
		c string
		t int64
	}
	tl := map[ct]*TimelineRow{}
	times := map[string][]int64{} // collector -> sorted distinct times
	for _, u := range units {
		k := ct{u.collector, u.sum.Time}
		r := tl[k]
		if r == nil {
			r = &TimelineRow{Collector: u.collector, Time: u.sum.Time}
			tl[k] = r
			times[u.collector] = append(times[u.collector], u.sum.Time)
		}
		addSummary(r, u.sum)
	}
	for _, r := range tl {
		res.Timeline = append(res.Timeline, *r)
	}
	slices.SortFunc(res.Timeline, func(a, b TimelineRow) int {
		return cmp.Or(cmp.Compare(a.Collector, b.Collector), cmp.Compare(a.Time, b.Time))
	})
	pos := map[ct]int{}      // time's index in its collector's timeline
	weight := map[ct]int64{} // seconds until the collector's next time
	for c, ts := range times {
		slices.Sort(ts)
		for i, t := range ts {
			pos[ct{c, t}] = i
			switch {
			case i+1 < len(ts):
				weight[ct{c, t}] = (ts[i+1] - t) / 1000
			case i > 0:
				weight[ct{c, t}] = (t - ts[i-1]) / 1000
			}
		}
	}

	// Persistence and origins, from the invalid routes of complete units.
	type routeKey struct {
		c, prefix string
		origin    int64 // -1: AS_SET
	}
	type routeAcc struct {
		row   PersistenceRow
		posns []int
		last  int64
	}
	acc := map[routeKey]*routeAcc{}
	type originAcc struct {
		row        OriginRow
		prefixes   map[string]bool
		collectors map[string]bool
	}
	origins := map[int64]*originAcc{}
	invs, err := globUnits(dir, TableInvalids)
	if err != nil {
		return res, err
	}
	for _, p := range invs {
		rows, err := parquet.ReadFile[InvalidRow](p)
		if err != nil {
			return res, fmt.Errorf("archive merge: %s: %w", p, err)
		}
		for _, r := range rows {
			u, ok := units[r.Unit]
			if !ok {
				continue // no summary: the unit is not complete
			}
			c := u.collector
			o := int64(-1)
			if r.Origin != nil {
				o = *r.Origin
			}
			k := routeKey{c, r.Prefix, o}
			a := acc[k]
			if a == nil {
				a = &routeAcc{row: PersistenceRow{Collector: c, Prefix: r.Prefix, Origin: r.Origin, FirstSeen: r.Time, LastSeen: r.Time}}
				acc[k] = a
			}
			a.posns = append(a.posns, pos[ct{c, r.Time}])
			a.row.FirstSeen, a.row.LastSeen = min(a.row.FirstSeen, r.Time), max(a.row.LastSeen, r.Time)
			if r.Time >= a.last {
				a.last, a.row.LastClass, a.row.LastImpact = r.Time, r.Class, r.Impact
			}
			oa := origins[o]
			if oa == nil {
				oa = &originAcc{row: OriginRow{Origin: r.Origin}, prefixes: map[string]bool{}, collectors: map[string]bool{}}
				origins[o] = oa
			}
			oa.row.InvalidUnits++
			if r.Impact == "unreachable" {
				a.row.Unreachable++
				oa.row.UnreachableUnits++
				oa.row.UnreachableSeconds += weight[ct{c, r.Time}]
			}
			oa.prefixes[r.Prefix] = true
			oa.collectors[c] = true
		}
	}
	for _, a := range acc {
		slices.Sort(a.posns)
		a.posns = slices.Compact(a.posns)
		run := 0
		for i, p := range a.posns {
			if i > 0 && p == a.posns[i-1]+1 {
				run++
			} else {
				run = 1
			}
			a.row.LongestRun = max(a.row.LongestRun, int64(run))
		}
		a.row.UnitsSeen = int64(len(a.posns))
		a.row.TimesTotal = int64(len(times[a.row.Collector]))
		res.Persistence = append(res.Persistence, a.row)
	}
	slices.SortFunc(res.Persistence, func(a, b PersistenceRow) int {
		return cmp.Or(cmp.Compare(a.Collector, b.Collector), cmp.Compare(b.UnitsSeen, a.UnitsSeen),
			cmp.Compare(a.Prefix, b.Prefix), cmp.Compare(originOr(a.Origin), originOr(b.Origin)))
	})
	for _, oa := range origins {
		oa.row.Prefixes, oa.row.Collectors = int64(len(oa.prefixes)), int64(len(oa.collectors))
		res.Origins = append(res.Origins, oa.row)
	}
	slices.SortFunc(res.Origins, func(a, b OriginRow) int {
		return cmp.Or(cmp.Compare(b.UnreachableSeconds, a.UnreachableSeconds), cmp.Compare(b.UnreachableUnits, a.UnreachableUnits),
			cmp.Compare(b.InvalidUnits, a.InvalidUnits), cmp.Compare(originOr(a.Origin), originOr(b.Origin)))
	})

	// Unit status: the manifest's units, then results it does not list.
	failed, err := readFailed(dir)
	if err != nil {
		return res, err
	}
	listed := map[string]bool{}
	manifest, err := readManifestCopy(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		res.NoManifest = true
	case err != nil:
		return res, err
	}
	if res.NoManifest && len(units) == 0 && len(failed) == 0 {
		return res, fmt.Errorf("archive merge: %s holds no archive results (no %s, no unit files)", dir, ManifestCopy)
	}
	status := func(id, collector string, t time.Time, rib string) UnitStatus {
		s := UnitStatus{Unit: id, Collector: collector, Time: t.UTC().Format(time.RFC3339), RIB: rib, Status: "missing"}
		if u, ok := units[id]; ok {
			s.Status = "done"
			if u.sum.Partial {
				s.Status, s.Reason = "partial", u.sum.Loss
			}
		} else if f, ok := failed[id]; ok {
			s.Status, s.Reason = "failed", f.Reason+": "+f.Error
		}
		return s
	}
	for _, u := range manifest {
		if !u.Runnable() {
			continue
		}
		id := u.ID()
		listed[id] = true
		res.Units = append(res.Units, status(id, u.Collector, *u.Time, u.RIB))
	}
	for id, u := range units {
		if !listed[id] {
			res.Units = append(res.Units, status(id, u.collector, time.UnixMilli(u.sum.Time), u.sum.RIB))
		}
	}
	for id, f := range failed {
		if !listed[id] && units[id].sum.Unit == "" {
			res.Units = append(res.Units, status(id, f.Collector, f.Time, f.RIB))
		}
	}
	slices.SortFunc(res.Units, func(a, b UnitStatus) int {
		return cmp.Or(cmp.Compare(a.Collector, b.Collector), cmp.Compare(a.Time, b.Time), cmp.Compare(a.Unit, b.Unit))
	})
	for _, s := range res.Units {
		switch s.Status {
		case "done":
			res.Done++
		case "partial":
			res.Partial++
		case "failed":
			res.Failed++
		case "missing":
			res.Missing++
		}
	}
	return res, writeMerged(filepath.Join(dir, DirMerged), res)
}

func originOr(o *int64) int64 {
	if o == nil {
		return -1
	}
	return *o
}

func addSummary(r *TimelineRow, s SummaryRow) {
	r.Units++
	if s.Partial {
		r.Partial++
	}
	r.Routes += s.Routes
	r.Tally.add(s.Tally)
}

func globUnits(dir, table string) ([]string, error) {
	m, err := filepath.Glob(filepath.Join(dir, table, "collector=*", "date=*", "unit-*.parquet"))
	slices.Sort(m)
	return m, err
}

// collectorOf reads the collector back from a unit file's partition
// directory.
func collectorOf(path string) string {
	for _, part := range strings.Split(filepath.ToSlash(path), "/") {
		if v, ok := strings.CutPrefix(part, "collector="); ok {
			return v
		}
	}
	return ""
}

func readFailed(dir string) (map[string]FailedRecord, error) {
	out := map[string]FailedRecord{}
	m, err := filepath.Glob(filepath.Join(dir, DirFailed, "failed-*.json"))
	if err != nil {
		return nil, err
	}
	for _, p := range m {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		var rec FailedRecord
		if err := json.Unmarshal(b, &rec); err != nil {
			return nil, fmt.Errorf("archive merge: %s: %w", p, err)
		}
		out[rec.Unit] = rec
	}
	return out, nil
}

func readManifestCopy(dir string) ([]Unit, error) {
	name := filepath.Join(dir, ManifestCopy)
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadManifest(f, name)
}

func writeMerged(dir string, res MergeResult) error {
	if err := atomicfile.MkdirAll(dir); err != nil {
		return err
	}
	for _, w := range []struct {
		name string
		rows any
	}{
		{"timeline", res.Timeline},
		{"persistence", res.Persistence},
		{"origins", res.Origins},
	} {
		var err error
		switch rows := w.rows.(type) {
		case []TimelineRow:
			err = writeParquet(filepath.Join(dir, w.name+".parquet"), rows)
		case []PersistenceRow:
			err = writeParquet(filepath.Join(dir, w.name+".parquet"), rows)
		case []OriginRow:
			err = writeParquet(filepath.Join(dir, w.name+".parquet"), rows)
		}
		if err != nil {
			return err
		}
		if err := atomicfile.Write(filepath.Join(dir, w.name+".csv"), func(out io.Writer) error { return writeCSV(out, w.rows) }); err != nil {
			return err
		}
	}
	if err := atomicfile.Write(filepath.Join(dir, "units.csv"), func(out io.Writer) error { return writeCSV(out, res.Units) }); err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, "index.html"), func(out io.Writer) error { return WriteHTML(out, res) })
}

// writeCSV writes a slice of flat structs as CSV, with the Parquet (or
// JSON) column names as the header; timestamp columns as RFC 3339, null
// as empty.
func writeCSV(w io.Writer, rows any) error {
	v := reflect.ValueOf(rows)
	cols := csvColumns(v.Type().Elem(), nil)
	bw := bufio.NewWriter(w)
	cw := csv.NewWriter(bw)
	head := make([]string, len(cols))
	for i, c := range cols {
		head[i] = c.name
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	rec := make([]string, len(cols))
	for i := range v.Len() {
		row := v.Index(i)
		for j, c := range cols {
			f := row.FieldByIndex(c.index)
			switch {
			case f.Kind() == reflect.Pointer && f.IsNil():
				rec[j] = ""
			case f.Kind() == reflect.Pointer:
				rec[j] = strconv.FormatInt(f.Elem().Int(), 10)
			case c.timestamp:
				rec[j] = time.UnixMilli(f.Int()).UTC().Format(time.RFC3339)
			case f.Kind() == reflect.Int64:
				rec[j] = strconv.FormatInt(f.Int(), 10)
			default:
				rec[j] = fmt.Sprint(f.Interface())
			}
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}

type csvColumn struct {
	name      string
	index     []int
	timestamp bool
}

func csvColumns(t reflect.Type, index []int) []csvColumn {
	var out []csvColumn
	for i := range t.NumField() {
		f := t.Field(i)
		idx := append(slices.Clone(index), i)
		if f.Anonymous {
			out = append(out, csvColumns(f.Type, idx)...)
			continue
		}
		tag := f.Tag.Get("parquet")
		if tag == "" {
			tag = f.Tag.Get("json")
		}
		name, opts, _ := strings.Cut(tag, ",")
		out = append(out, csvColumn{name: name, index: idx, timestamp: strings.Contains(opts, "timestamp")})
	}
	return out
}
