package archive

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
)

// fixture is the plan of archive/testdata/archive (see its gen): 8 whole
// units, one truncated RIB, one RIB older than every VRP set.
var fixture = sync.OnceValues(func() ([]Unit, error) {
	units, _, _, err := PlanPaths(context.Background(), []string{"testdata/archive"}, PlanOptions{MaxVRPAge: 24 * time.Hour, Workers: 2})
	return units, err
})

func fixtureUnits(t *testing.T) []Unit {
	t.Helper()
	units, err := fixture()
	if err != nil {
		t.Fatal(err)
	}
	return units
}

func TestFixturePlan(t *testing.T) {
	units := fixtureUnits(t)
	var run, skip int
	for _, u := range units {
		if u.Runnable() {
			run++
			if u.VRPBuiltFrom != "metadata" || u.VRPAge < 0 || u.VRPAge > 3600 {
				t.Errorf("unit %s %s: vrps built from %q, %ds old; want metadata, within the hour", u.Collector, u.Time, u.VRPBuiltFrom, u.VRPAge)
			}
		} else {
			skip++
		}
	}
	if run != 9 || skip != 1 {
		t.Errorf("plan: %d units, %d skipped; want 9 and 1", run, skip)
	}
}

// results reads every table under out into sorted JSON lines, and the
// failed units' IDs: what two runs must agree on, whatever wrote them.
func results(t *testing.T, out string) map[string][]string {
	t.Helper()
	res := map[string][]string{}
	read := func(table string, rows func(path string) ([]any, error)) {
		matches, _ := filepath.Glob(filepath.Join(out, table, "collector=*", "date=*", "unit-*.parquet"))
		for _, m := range matches {
			rs, err := rows(m)
			if err != nil {
				t.Fatalf("%s: %v", m, err)
			}
			rel, _ := filepath.Rel(filepath.Join(out, table), filepath.Dir(m))
			for _, r := range rs {
				b, _ := json.Marshal(r)
				res[table] = append(res[table], rel+" "+string(b))
			}
		}
		slices.Sort(res[table])
	}
	read(TableSummary, func(p string) ([]any, error) { return anyRows(parquet.ReadFile[SummaryRow](p)) })
	read(TableInvalids, func(p string) ([]any, error) { return anyRows(parquet.ReadFile[InvalidRow](p)) })
	read(TablePeers, func(p string) ([]any, error) { return anyRows(parquet.ReadFile[PeerRow](p)) })
	failed, _ := filepath.Glob(filepath.Join(out, DirFailed, "failed-*.json"))
	for _, f := range failed {
		res[DirFailed] = append(res[DirFailed], filepath.Base(f))
	}
	slices.Sort(res[DirFailed])
	return res
}

func anyRows[T any](rows []T, err error) ([]any, error) {
	out := make([]any, len(rows))
	for i := range rows {
		out[i] = rows[i]
	}
	return out, err
}

func equalResults(t *testing.T, what string, got, want map[string][]string) {
	t.Helper()
	for _, k := range []string{TableSummary, TableInvalids, TablePeers, DirFailed} {
		if !slices.Equal(got[k], want[k]) {
			t.Errorf("%s: %s differs: %d rows, want %d", what, k, len(got[k]), len(want[k]))
		}
	}
}

// files lists every file under dir with its modification time.
func files(t *testing.T, dir string) map[string]time.Time {
	t.Helper()
	out := map[string]time.Time{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err == nil {
			out[p] = fi.ModTime()
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestShardSelectEveryUnitOnce(t *testing.T) {
	units := fixtureUnits(t)
	for n := 1; n <= 7; n++ {
		seen := map[string]int{}
		for i := range n {
			for _, u := range (Shard{i, n}).Select(units) {
				seen[u.ID()]++
			}
		}
		for _, u := range units {
			if want := map[bool]int{true: 1, false: 0}[u.Runnable()]; seen[u.ID()] != want {
				t.Errorf("N=%d: unit %s %s runs %d times, want %d", n, u.Collector, u.Time, seen[u.ID()], want)
			}
		}
	}
}

func TestRunShardsEqualOneProcess(t *testing.T) {
	units := fixtureUnits(t)
	one := t.TempDir()
	st, err := Run(context.Background(), units, RunOptions{Out: one, Shard: All, Workers: 2})
	if !errors.Is(err, ErrUnitsFailed) || st.Studied != 8 || st.Failed != 1 || st.VRPLoads != 2 {
		t.Fatalf("one process: %+v, %v; want 8 studied, 1 failed (the truncated RIB), 2 VRP loads, ErrUnitsFailed", st, err)
	}
	want := results(t, one)
	if len(want[TableSummary]) != 8 || len(want[DirFailed]) != 1 || len(want[TableInvalids]) == 0 || len(want[TablePeers]) == 0 {
		t.Fatalf("one process wrote %d summaries, %d failed, %d invalids, %d peers", len(want[TableSummary]), len(want[DirFailed]), len(want[TableInvalids]), len(want[TablePeers]))
	}
	const n = 3
	sharded := t.TempDir()
	total := 0
	for i := range n {
		st, _ := Run(context.Background(), units, RunOptions{Out: sharded, Shard: Shard{i, n}, Workers: 1})
		total += st.Studied + st.Failed
		if st.AlreadyDone != 0 {
			t.Errorf("shard %d/%d found %d units already done in a fresh directory", i, n, st.AlreadyDone)
		}
	}
	if total != 9 {
		t.Errorf("%d shards ran %d units, want 9", n, total)
	}
	equalResults(t, "3 shards vs one process", results(t, sharded), want)

	// A finished shard run again writes nothing. (The failed unit is
	// retried, since its input may have been repaired: its shard
	// rewrites the failed record only.)
	before := files(t, sharded)
	for i := range n {
		st, _ := Run(context.Background(), units, RunOptions{Out: sharded, Shard: Shard{i, n}, Workers: 2})
		if st.Studied != 0 {
			t.Errorf("rerun of shard %d/%d studied %d units, want 0", i, n, st.Studied)
		}
	}
	after := files(t, sharded)
	for p, mt := range after {
		if strings.Contains(p, "/"+DirFailed+"/") || filepath.Base(p) == ManifestCopy {
			continue
		}
		if b, ok := before[p]; !ok || !b.Equal(mt) {
			t.Errorf("rerun wrote %s", p)
		}
	}
	if len(after) != len(before) {
		t.Errorf("rerun left %d files, before %d", len(after), len(before))
	}
}

func TestRunFailuresAndPartial(t *testing.T) {
	units := fixtureUnits(t)
	var truncated Unit
	for _, u := range units {
		if strings.HasSuffix(u.RIB, "rib.20250720.1100.gz") {
			truncated = u
		}
	}
	missing := truncated
	missing.RIB = filepath.Join(t.TempDir(), "rib.20250720.1100.gz")
	// A RIB paired by hand with a VRP set built after it.
	early := truncated
	before := ts("2025-07-20T10:00:00Z")
	early.Time = &before
	out := t.TempDir()
	st, err := Run(context.Background(), []Unit{truncated, missing, early}, RunOptions{Out: out, Shard: All, Workers: 2})
	if !errors.Is(err, ErrUnitsFailed) || st.Failed != 3 {
		t.Fatalf("got %+v, %v; want 3 failed", st, err)
	}
	for u, reason := range map[*Unit]string{&truncated: "input_damaged", &missing: "input_error", &early: "vrps_error"} {
		b, err := os.ReadFile(FailedPath(out, *u))
		if err != nil {
			t.Fatal(err)
		}
		var rec FailedRecord
		if err := json.Unmarshal(b, &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Reason != reason || rec.Unit != u.ID() || rec.Error == "" {
			t.Errorf("failed record of %s: %+v, want reason %s", u.RIB, rec, reason)
		}
		if reason == "input_damaged" && (len(rec.Losses) != 1 || rec.Losses[0].Kind != "truncated" || rec.Losses[0].Record != 40) {
			t.Errorf("loss of the truncated RIB: %+v, want truncated at record 40", rec.Losses)
		}
	}
	// --allow-partial keeps the damaged unit, says so, and clears its
	// failed record.
	st, err = Run(context.Background(), []Unit{truncated}, RunOptions{Out: out, Shard: All, AllowPartial: true})
	if err != nil || st.Studied != 1 {
		t.Fatalf("allow partial: %+v, %v", st, err)
	}
	rows, err := parquet.ReadFile[SummaryRow](UnitPath(out, TableSummary, truncated))
	if err != nil || len(rows) != 1 || !rows[0].Partial || !strings.Contains(rows[0].Loss, "truncated") || rows[0].Records != 40 {
		t.Errorf("partial summary: %+v, %v; want partial, loss named, 40 records (as analyze counts Input.Records)", rows, err)
	}
	if _, err := os.Stat(FailedPath(out, truncated)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("failed record left after the unit succeeded: %v", err)
	}
}

func TestShardFromEnv(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	tests := []struct {
		name   string
		getenv func(string) string
		shards int
		want   Shard
		err    bool
	}{
		{"local", env(), 0, All, false},
		{"slurm array 0-3", env("SLURM_ARRAY_TASK_ID", "2", "SLURM_ARRAY_TASK_MIN", "0", "SLURM_ARRAY_TASK_MAX", "3", "SLURM_ARRAY_TASK_COUNT", "4"), 0, Shard{2, 4}, false},
		{"slurm array 1-4 (1-based)", env("SLURM_ARRAY_TASK_ID", "1", "SLURM_ARRAY_TASK_MIN", "1", "SLURM_ARRAY_TASK_MAX", "4", "SLURM_ARRAY_TASK_COUNT", "4"), 0, Shard{0, 4}, false},
		{"slurm task resubmitted alone, with --shards", env("SLURM_ARRAY_TASK_ID", "2", "SLURM_ARRAY_TASK_MIN", "2", "SLURM_ARRAY_TASK_MAX", "2", "SLURM_ARRAY_TASK_COUNT", "1"), 4, Shard{2, 4}, false},
		{"slurm stepped array needs --shards", env("SLURM_ARRAY_TASK_ID", "2", "SLURM_ARRAY_TASK_MIN", "0", "SLURM_ARRAY_TASK_MAX", "6", "SLURM_ARRAY_TASK_COUNT", "4"), 0, Shard{}, true},
		{"slurm id beyond --shards", env("SLURM_ARRAY_TASK_ID", "4"), 4, Shard{}, true},
		{"kubernetes indexed job", env("JOB_COMPLETION_INDEX", "5"), 8, Shard{5, 8}, false},
		{"kubernetes without --shards", env("JOB_COMPLETION_INDEX", "5"), 0, Shard{}, true},
		{"--shards without an index", env(), 4, Shard{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := ShardFromEnv(tc.getenv, tc.shards)
			if (err != nil) != tc.err || got != tc.want {
				t.Errorf("got %v, %v; want %v, error %v", got, err, tc.want, tc.err)
			}
		})
	}
	for _, bad := range []string{"", "1", "3/3", "-1/2", "a/b", "0/0"} {
		if _, err := ParseShard(bad); err == nil {
			t.Errorf("ParseShard(%q): no error", bad)
		}
	}
}
