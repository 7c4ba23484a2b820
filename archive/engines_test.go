package archive

// Tests with real engines: a single-node Slurm cluster started by
// scripts/slurm-up.sh runs shards of a manifest as an array job, and
// DuckDB (npm @duckdb/node-api) reads every Parquet file and recomputes the
// merge in SQL. Missing tools skip the test naming the packages, and fail
// it when CI=true.

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/internal/testutil"
)

// The test binary doubles as the Slurm task: a batch script runs it with
// ROVIMPACT_ARCHIVE_TASK set, and it runs its shard of the manifest as
// `rovimpact archive run MANIFEST --out DIR --shards N` would, taking the
// shard from the Slurm environment.
func TestMain(m *testing.M) {
	if os.Getenv("ROVIMPACT_ARCHIVE_TASK") != "" {
		os.Exit(archiveTask())
	}
	os.Exit(m.Run())
}

func archiveTask() int {
	shards, _ := strconv.Atoi(os.Getenv("ROVIMPACT_ARCHIVE_SHARDS"))
	shard, from, err := ShardFromEnv(os.Getenv, shards)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	f, err := os.Open(os.Getenv("ROVIMPACT_ARCHIVE_MANIFEST"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	units, err := ReadManifest(f, f.Name())
	f.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	st, err := Run(context.Background(), units, RunOptions{Out: os.Getenv("ROVIMPACT_ARCHIVE_OUT"), Shard: shard, Workers: 1, Log: os.Stderr})
	fmt.Fprintf(os.Stderr, "shard %s (%s): %+v\n", shard, from, st)
	switch {
	case errors.Is(err, ErrUnitsFailed):
		return 4
	case err != nil:
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// repoRoot is the repository's top directory (the archive package's
// parent).
func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(wd)
}

// slurmCluster starts a cluster for the test and stops it at cleanup;
// it returns the environment for sbatch and friends.
func slurmCluster(t *testing.T) []string {
	t.Helper()
	for _, tool := range []struct{ name, pkg string }{
		{"slurmctld", "slurmctld"}, {"slurmd", "slurmd"}, {"sbatch", "slurm-client"}, {"munged", "munge"},
	} {
		testutil.NeedTool(t, tool.name, "slurmctld slurmd slurm-client munge (apt-get install; make deps)")
	}
	if os.Getuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("the Slurm test starts slurmd, which needs root: required when CI=true")
		}
		t.Skip("the Slurm test starts slurmd, which needs root")
	}
	dir, err := os.MkdirTemp("", "rovimpact-slurm-")
	if err != nil {
		t.Fatal(err)
	}
	root := repoRoot(t)
	t.Cleanup(func() {
		if out, err := exec.Command("bash", filepath.Join(root, "scripts/slurm-down.sh"), dir).CombinedOutput(); err != nil {
			t.Errorf("slurm-down: %v\n%s", err, out)
		}
		os.RemoveAll(dir)
	})
	out, err := exec.Command("bash", filepath.Join(root, "scripts/slurm-up.sh"), dir).CombinedOutput()
	if err != nil {
		t.Fatalf("slurm-up: %v\n%s", err, out)
	}
	return append(os.Environ(), "SLURM_CONF="+filepath.Join(dir, "slurm.conf"))
}

// sbatch submits the test binary as an array job over the manifest and
// returns its job id; wait blocks until every task has ended.
func sbatch(t *testing.T, env []string, array, manifest, out string, shards int, wait bool) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\nexec " + strconv.Quote(exe) + " -test.run=^$\n"
	args := []string{"--parsable", "--array=" + array, "--cpus-per-task=1", "--chdir=" + out,
		"--output=" + filepath.Join(out, "slurm-%A_%a.log")}
	if wait {
		args = append(args, "--wait")
	}
	cmd := exec.Command("sbatch", args...)
	cmd.Stdin = strings.NewReader(script)
	cmd.Env = append(slices.Clone(env), "ROVIMPACT_ARCHIVE_TASK=1", "ROVIMPACT_ARCHIVE_MANIFEST="+manifest,
		"ROVIMPACT_ARCHIVE_OUT="+out, "ROVIMPACT_ARCHIVE_SHARDS="+strconv.Itoa(shards))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// With --wait sbatch exits non-zero when a task failed or was
	// killed; the tests check the results, not this code.
	if err := cmd.Run(); err != nil && !wait {
		t.Fatalf("sbatch: %v\n%s", err, stderr.String())
	}
	id, _, _ := strings.Cut(strings.TrimSpace(stdout.String()), ";")
	if id == "" {
		t.Fatalf("sbatch printed no job id: %s", stderr.String())
	}
	return id
}

// slurmFixture is the fixture's plan plus one unit whose RIB is a named
// pipe, so the test decides when (and whether) its data arrives: a task
// reading it is stuck mid-unit, with its VRPs loaded and part of the RIB
// read, until the test feeds or kills it.
func slurmFixture(t *testing.T, dir string) (units []Unit, fifo, content string) {
	t.Helper()
	units = slices.Clone(fixtureUnits(t))
	content, err := filepath.Abs("testdata/archive/ris/rrc05/2025.07/bview.20250720.1045.gz")
	if err != nil {
		t.Fatal(err)
	}
	fifo = filepath.Join(dir, "rrc05/2025.07/bview.20250720.1050.gz")
	if err := os.MkdirAll(filepath.Dir(fifo), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	var base Unit
	for _, u := range units {
		if u.RIB == content {
			base = u
		}
	}
	at := base.Time.Add(5 * time.Minute)
	pipeUnit := base
	pipeUnit.RIB, pipeUnit.Time = fifo, &at
	pipeUnit.VRPAge += 300
	units = append([]Unit{pipeUnit}, units...)
	return units, fifo, content
}

// feed writes want's bytes into the pipe once a reader opens it: all of
// them, or only the first half (then holds the pipe open until stop is
// closed, so the reader is stuck mid-file).
func feed(fifo, from string, half bool, stop <-chan struct{}) <-chan error {
	done := make(chan error, 1)
	go func() {
		data, err := os.ReadFile(from)
		if err != nil {
			done <- err
			return
		}
		w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			done <- err
			return
		}
		defer w.Close()
		if half {
			_, err = w.Write(data[:len(data)/2])
			done <- err
			<-stop
			return
		}
		_, err = w.Write(data)
		done <- err
	}()
	return done
}

// waitFed waits (bounded) for a feed to finish; a pipe nobody opened is
// opened here so the feeding goroutine ends.
func waitFed(t *testing.T, fed <-chan error, fifo string) {
	t.Helper()
	select {
	case err := <-fed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		if r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
			io.Copy(io.Discard, r)
			r.Close()
		}
		t.Fatal("nobody read the pipe unit's RIB within 60 s")
	}
}

func writeManifestFile(t *testing.T, path string, units []Unit) {
	t.Helper()
	var b bytes.Buffer
	if err := WriteManifest(&b, units); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mergeOf(t *testing.T, dir string) MergeResult {
	t.Helper()
	res, err := Merge(dir)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestSlurmArray(t *testing.T) {
	env := slurmCluster(t)
	work := t.TempDir()
	units, fifo, content := slurmFixture(t, work)
	manifest := filepath.Join(work, "units.jsonl")
	writeManifestFile(t, manifest, units)
	const shards = 4

	// The reference: one process, every unit.
	ref := filepath.Join(work, "ref")
	fed := feed(fifo, content, false, nil)
	if _, err := Run(context.Background(), units, RunOptions{Out: ref, Shard: All, Workers: 2}); !errors.Is(err, ErrUnitsFailed) {
		t.Fatalf("reference run: %v (want the truncated unit failed)", err)
	}
	waitFed(t, fed, fifo)
	want, wantMerge := results(t, ref), mergeOf(t, ref)
	if len(want[TableSummary]) != 9 {
		t.Fatalf("reference: %d units written, want 9", len(want[TableSummary]))
	}

	// Round 1: the whole array.
	out := filepath.Join(work, "slurm")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	fed = feed(fifo, content, false, nil)
	sbatch(t, env, fmt.Sprintf("0-%d", shards-1), manifest, out, 0, true)
	waitFed(t, fed, fifo)
	equalResults(t, "sbatch --array=0-3 vs one process", results(t, out), want)
	if got := mergeOf(t, out); !sameMerge(got, wantMerge) {
		t.Errorf("merge of the array's results differs from the one-process merge")
	}
	checkDuckDB(t, out)

	// Round 2: the pipe unit's task is killed while it reads the pipe,
	// then resubmitted alone (sbatch --array=k: an array of one, so the
	// shard count comes from --shards).
	victim := -1
	for i := range shards {
		for _, u := range (Shard{i, shards}).Select(units) {
			if u.RIB == fifo {
				victim = i
			}
		}
	}
	for _, u := range (Shard{victim, shards}).Select(units) {
		for _, table := range []string{TableSummary, TableInvalids, TablePeers} {
			os.Remove(UnitPath(out, table, u))
		}
		os.Remove(FailedPath(out, u))
	}
	stop := make(chan struct{})
	fed = feed(fifo, content, true, stop)
	job := sbatch(t, env, strconv.Itoa(victim), manifest, out, shards, false)
	waitFed(t, fed, fifo) // half written: the task is inside the unit
	scancel := exec.Command("scancel", "--signal=KILL", "--full", job)
	scancel.Env = env
	if out, err := scancel.CombinedOutput(); err != nil {
		t.Fatalf("scancel: %v\n%s", err, out)
	}
	waitJob(t, env, job)
	close(stop)
	pipeUnit := units[0]
	if _, err := os.Stat(UnitPath(out, TableSummary, pipeUnit)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the killed task left a summary for the unit it was reading: %v", err)
	}
	if got := mergeOf(t, out); got.Missing == 0 {
		t.Errorf("merge after the kill lists no missing unit")
	}
	fed = feed(fifo, content, false, nil)
	sbatch(t, env, strconv.Itoa(victim), manifest, out, shards, true)
	waitFed(t, fed, fifo)
	equalResults(t, "after kill and resubmit vs one process", results(t, out), want)
	if got := mergeOf(t, out); !sameMerge(got, wantMerge) {
		t.Errorf("merge after kill and resubmit differs from the one-process merge")
	}
}

// waitJob polls squeue (bounded) until the job has left the queue.
func waitJob(t *testing.T, env []string, job string) {
	t.Helper()
	for range 300 {
		cmd := exec.Command("squeue", "-h", "-j", job, "-o", "%T")
		cmd.Env = env
		b, err := cmd.Output()
		if err != nil || strings.TrimSpace(string(b)) == "" {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("job %s still queued after 30 s", job)
}

func sameMerge(a, b MergeResult) bool {
	return reflect.DeepEqual(a.Timeline, b.Timeline) && reflect.DeepEqual(a.Persistence, b.Persistence) &&
		reflect.DeepEqual(a.Origins, b.Origins) && reflect.DeepEqual(a.Units, b.Units)
}

// duckDB returns the directory holding @duckdb/node-api, installing it
// there with scripts/duckdb-install.sh when absent.
func duckDB(t *testing.T) string {
	t.Helper()
	testutil.NeedTool(t, "node", "nodejs (and npm, for @duckdb/node-api@1.5.6-r.1)")
	root := repoRoot(t)
	dir := filepath.Join(root, ".cache/duckdb-node")
	if _, err := os.Stat(filepath.Join(dir, "node_modules/@duckdb/node-api/package.json")); err != nil {
		testutil.NeedTool(t, "npm", "npm (installs npm @duckdb/node-api@1.5.6-r.1)")
		if out, err := exec.Command("bash", filepath.Join(root, "scripts/duckdb-install.sh")).CombinedOutput(); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("installing npm @duckdb/node-api: %v\n%s", err, out)
			}
			t.Skipf("npm @duckdb/node-api@1.5.6-r.1 not installed and could not be (scripts/duckdb-install.sh): %v\n%s", err, out)
		}
	}
	// ES modules resolve packages from the script's directory.
	src, err := os.ReadFile("testdata/duckdb/recompute.mjs")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "recompute.mjs"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// checkDuckDB has DuckDB read every Parquet file under dir (merge must
// have run) and recompute the timeline and persistence; they must equal
// archive merge's.
func checkDuckDB(t *testing.T, dir string) {
	t.Helper()
	ddb := duckDB(t)
	cmd := exec.Command("node", "recompute.mjs", dir)
	cmd.Dir = ddb
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("duckdb: %v\n%s", err, stderr.String())
	}
	var got struct {
		Timeline    [][]string        `json:"timeline"`
		Persistence [][]string        `json:"persistence"`
		Counts      map[string]string `json:"counts"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	timeline := readMergedCSV(t, filepath.Join(dir, DirMerged, "timeline.csv"), 1)
	if !reflect.DeepEqual(got.Timeline, timeline) {
		t.Errorf("DuckDB's timeline differs from archive merge's:\nduckdb %v\nmerge  %v", got.Timeline, timeline)
	}
	// Persistence: collector, prefix, origin, first/last seen, units seen.
	pers := readMergedCSV(t, filepath.Join(dir, DirMerged, "persistence.csv"), 3, 4)
	for i := range pers {
		pers[i] = pers[i][:6]
	}
	slices.SortFunc(pers, func(a, b []string) int {
		return strings.Compare(a[0]+" "+a[1]+" "+fmt.Sprintf("%12s", a[2]), b[0]+" "+b[1]+" "+fmt.Sprintf("%12s", b[2]))
	})
	slices.SortFunc(got.Persistence, func(a, b []string) int {
		return strings.Compare(a[0]+" "+a[1]+" "+fmt.Sprintf("%12s", a[2]), b[0]+" "+b[1]+" "+fmt.Sprintf("%12s", b[2]))
	})
	if !reflect.DeepEqual(got.Persistence, pers) {
		t.Errorf("DuckDB's persistence differs from archive merge's (%d vs %d rows)", len(got.Persistence), len(pers))
	}
	res := mergeOf(t, dir)
	for k, want := range map[string]int{
		"summary_files":           res.Done + res.Partial,
		"merged_timeline_rows":    len(res.Timeline),
		"merged_persistence_rows": len(res.Persistence),
		"merged_origins_rows":     len(res.Origins),
	} {
		if got.Counts[k] != strconv.Itoa(want) {
			t.Errorf("DuckDB %s = %s, want %d", k, got.Counts[k], want)
		}
	}
	if got.Counts["invalid_rows"] == "0" || got.Counts["peer_rows"] == "0" {
		t.Errorf("DuckDB read no invalid or peer rows: %v", got.Counts)
	}
}

// readMergedCSV reads a merged CSV without its header, turning the RFC
// 3339 times in the given columns into Unix milliseconds.
func readMergedCSV(t *testing.T, path string, timeCols ...int) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	if _, err := r.Read(); err != nil {
		t.Fatal(err)
	}
	var rows [][]string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range timeCols {
			tm, err := time.Parse(time.RFC3339, rec[c])
			if err != nil {
				t.Fatal(err)
			}
			rec[c] = strconv.FormatInt(tm.UnixMilli(), 10)
		}
		rows = append(rows, rec)
	}
	return rows
}

func TestDuckDBRecomputesMerge(t *testing.T) {
	out := t.TempDir()
	if _, err := Run(context.Background(), fixtureUnits(t), RunOptions{Out: out, Shard: All, Workers: 2}); !errors.Is(err, ErrUnitsFailed) {
		t.Fatal(err)
	}
	mergeOf(t, out)
	checkDuckDB(t, out)
}
