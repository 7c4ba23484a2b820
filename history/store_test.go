package history

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/study"
)

func u32(v uint32) *uint32 { return &v }

// mkReport builds a hand-made report: n invalid routes 10.0.i.0/24 from
// AS64500+i, plus one AS_SET route.
func mkReport(n int) reports.Report {
	rep := reports.Report{Invalids: []reports.Invalid{}, Origins: []reports.OriginRow{}}
	for i := range n {
		rep.Invalids = append(rep.Invalids, reports.Invalid{
			Prefix: netip.MustParsePrefix(fmt.Sprintf("10.0.%d.0/24", i)), Origin: u32(64500 + uint32(i)), ASSet: []uint32{},
			State: classify.StateInvalid, Class: classify.WrongOrigin, VRPs: []reports.VRPRef{}, Paths: 3, Peers: 2, Dropped: true, Impact: classify.Unreachable,
		})
	}
	rep.Invalids = append(rep.Invalids, reports.Invalid{Prefix: netip.MustParsePrefix("192.0.2.0/24"), ASSet: []uint32{64501, 64502},
		State: classify.StateInvalid, Class: classify.ASSet, VRPs: []reports.VRPRef{}, Paths: 1, Peers: 1, Dropped: true, Impact: classify.Covered, CoveredShare: 1})
	rep.Summary = reports.Summary{Routes: n + 10, Valid: 9, Invalid: n + 1, Dropped: n + 1, Classes: reports.ClassCounts{WrongOrigin: n, ASSet: 1},
		Impact: reports.ImpactCounts{Unreachable: n, Covered: 1}, VRPs: reports.VRPSummary{Loaded: 100, IPv4: 60, IPv6: 40}}
	rep.Origins = append(rep.Origins, reports.OriginRow{Origin: u32(64500), Invalid: 1, Unreachable: 1})
	return rep
}

var day0 = time.Date(2025, 7, 20, 2, 0, 0, 0, time.UTC)

func openTemp(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "h.db")
	st, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, path
}

// TestAppendRoundTrip: a stored run reads back as the report that was
// appended (peers aside), with its inputs.
func TestAppendRoundTrip(t *testing.T) {
	ctx := context.Background()
	st, _ := openTemp(t)
	rep := mkReport(3)
	ins := []study.Source{{Role: study.RoleVRPs, Name: "v.json", Size: 10, SHA256: "ab"}, {Role: study.RoleRoutes, Name: "-", Size: -1}}
	id, err := st.Append(ctx, day0, rep, ins)
	if err != nil {
		t.Fatal(err)
	}
	got, info, err := st.Report(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, rep) {
		t.Errorf("round trip:\ngot  %+v\nwant %+v", got, rep)
	}
	if !info.At.Equal(day0) || !reflect.DeepEqual(info.Inputs, ins) {
		t.Errorf("info: got %v %+v, want %v %+v", info.At, info.Inputs, day0, ins)
	}
	if v, _ := st.Version(ctx); v != SchemaVersion {
		t.Errorf("version %d, want %d", v, SchemaVersion)
	}
}

// TestMigrateFromV1: a file written by the v1 schema (no inputs table, no
// VRP family counts) opens, migrates, keeps its runs, and takes new ones.
func TestMigrateFromV1(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v1.db")
	old, err := openAt(ctx, path, 1)
	if err != nil {
		t.Fatal(err)
	}
	// Write a run the way v1 did: only the v1 columns exist.
	rep := mkReport(2)
	sum, _ := json.Marshal(rep.Summary)
	orig, _ := json.Marshal(rep.Origins)
	res, err := old.db.ExecContext(ctx, `INSERT INTO runs (run_at, run_date, routes, valid, invalid, not_found, dropped, unreachable, vrps_loaded, summary, origins)
		VALUES (?,?,?,?,?,?,?,?,?,?,?)`, day0.Unix(), "2025-07-20", 12, 9, 3, 0, 3, 2, 100, string(sum), string(orig))
	if err != nil {
		t.Fatal(err)
	}
	id1, _ := res.LastInsertId()
	for _, inv := range rep.Invalids {
		row, _ := json.Marshal(inv)
		var o any
		if inv.Origin != nil {
			o = int64(*inv.Origin)
		}
		if _, err := old.db.ExecContext(ctx, "INSERT INTO invalids (run_id, prefix, origin, class, impact, dropped, row) VALUES (?,?,?,?,?,?,?)",
			id1, inv.Prefix.String(), o, inv.Class, inv.Impact, inv.Dropped, string(row)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := old.db.ExecContext(ctx, "SELECT * FROM inputs"); err == nil {
		t.Fatal("v1 file already has the v2 inputs table")
	}
	old.Close()

	st, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if v, _ := st.Version(ctx); v != SchemaVersion {
		t.Fatalf("after migration: version %d, want %d", v, SchemaVersion)
	}
	got, info, err := st.Report(ctx, id1)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, rep) || len(info.Inputs) != 0 {
		t.Errorf("v1 run after migration: got %+v inputs %v", got, info.Inputs)
	}
	id2, err := st.Append(ctx, day0.Add(24*time.Hour), mkReport(1), []study.Source{{Role: study.RoleRoutes, Name: "r.mrt", Size: 1, SHA256: "00"}})
	if err != nil {
		t.Fatal(err)
	}
	ls, err := st.Lifetimes(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	// 10.0.0.0/24 AS64500 and the AS_SET route are in both runs;
	// 10.0.1.0/24 AS64501 only in the v1 run.
	want := map[string]struct {
		runs    int
		current bool
	}{"10.0.0.0/24 64500": {2, true}, "10.0.1.0/24 64501": {1, false}, "192.0.2.0/24 AS_SET": {2, true}}
	if len(ls) != len(want) {
		t.Fatalf("got %d lifetimes, want %d: %+v", len(ls), len(want), ls)
	}
	for _, l := range ls {
		k := l.Prefix.String() + " AS_SET"
		if l.Origin != nil {
			k = l.Prefix.String() + " " + strconv.Itoa(int(*l.Origin))
		}
		w, ok := want[k]
		if !ok || l.Runs != w.runs || l.Current != w.current {
			t.Errorf("%s: runs %d current %v, want %+v", k, l.Runs, l.Current, w)
		}
	}
	if last, _ := st.Resolve(ctx, "latest"); last != id2 {
		t.Errorf("latest = %d, want %d", last, id2)
	}
}

// TestNewerSchemaRefused: a file from a newer rovimpact is not touched.
func TestNewerSchemaRefused(t *testing.T) {
	st, path := openTemp(t)
	if _, err := st.db.Exec("PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if _, err := Open(context.Background(), path); err == nil {
		t.Fatal("opened a schema-99 file")
	}
}

// TestResolveAndDays: run references and per-day counts (last run of a day
// wins; runs counted).
func TestResolveAndDays(t *testing.T) {
	ctx := context.Background()
	st, _ := openTemp(t)
	var ids []int64
	for i, at := range []time.Time{day0, day0.Add(3 * time.Hour), day0.Add(24 * time.Hour)} {
		id, err := st.Append(ctx, at, mkReport(i+1), nil)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	for _, tc := range []struct {
		ref  string
		want int64
	}{
		{"latest", ids[2]}, {"previous", ids[1]}, {"2025-07-20", ids[1]}, {"2025-07-21", ids[2]}, {strconv.FormatInt(ids[0], 10), ids[0]},
	} {
		got, err := st.Resolve(ctx, tc.ref)
		if err != nil || got != tc.want {
			t.Errorf("Resolve(%q) = %d, %v; want %d", tc.ref, got, err, tc.want)
		}
	}
	for _, bad := range []string{"2025-07-22", "999", "yesterday"} {
		if _, err := st.Resolve(ctx, bad); err == nil {
			t.Errorf("Resolve(%q): no error", bad)
		}
	}
	days, err := st.Days(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(days) != 2 || days[0].Runs != 2 || days[0].RunID != ids[1] || days[0].Invalid != 3 || days[1].Invalid != 4 {
		t.Errorf("days: %+v", days)
	}
	days, _ = st.Days(ctx, day0.Add(24*time.Hour))
	if len(days) != 1 || days[0].Date != "2025-07-21" {
		t.Errorf("days since 07-21: %+v", days)
	}
}

// TestConcurrentWriters: several goroutines, each with its own Store (as
// separate cron jobs would have), append at once; every run is whole.
func TestConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "c.db")
	const writers, each = 4, 5
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := Open(ctx, path)
			if err != nil {
				errs <- err
				return
			}
			defer st.Close()
			for i := range each {
				if _, err := st.Append(ctx, day0.Add(time.Duration(w*each+i)*time.Minute), mkReport(20), nil); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	checkConsistent(t, path, writers*each, 21)
}

// checkConsistent opens path raw and checks integrity, the run count, and
// that every run has exactly perRun invalid rows (no half-written run).
func checkConsistent(t *testing.T, path string, runs, perRun int) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var ok string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check: %q %v", ok, err)
	}
	var n int
	db.QueryRow("SELECT COUNT(*) FROM runs").Scan(&n)
	if n != runs {
		t.Errorf("%d runs, want %d", n, runs)
	}
	rows, err := db.Query("SELECT r.id, COUNT(i.run_id) FROM runs r LEFT JOIN invalids i ON i.run_id = r.id GROUP BY r.id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, c int
		rows.Scan(&id, &c)
		if c != perRun {
			t.Errorf("run %d has %d invalid rows, want %d", id, c, perRun)
		}
	}
	var orphans int
	db.QueryRow("SELECT COUNT(*) FROM invalids WHERE run_id NOT IN (SELECT id FROM runs)").Scan(&orphans)
	if orphans != 0 {
		t.Errorf("%d invalid rows without a run", orphans)
	}
}

// TestInterruptedAppend kills a writer process (SIGKILL) in the middle of a
// run's transaction, after part of its rows were inserted: the database
// must still be consistent, without the half-written run, and writable.
func TestInterruptedAppend(t *testing.T) {
	if os.Getenv("ROVIMPACT_HISTORY_CHILD") != "" {
		t.Skip("child process")
	}
	ctx := context.Background()
	st, path := openTemp(t)
	if _, err := st.Append(ctx, day0, mkReport(20), nil); err != nil {
		t.Fatal(err)
	}
	st.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperInterruptedChild$", "-test.v")
	cmd.Env = append(os.Environ(), "ROVIMPACT_HISTORY_CHILD="+path)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	ready := false
	for sc.Scan() {
		if sc.Text() == "MID-TRANSACTION" {
			ready = true
			break
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	if !ready {
		t.Fatal("child never reached the middle of its transaction")
	}
	checkConsistent(t, path, 1, 21)
	st2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	if _, err := st2.Append(ctx, day0.Add(time.Hour), mkReport(20), nil); err != nil {
		t.Fatalf("append after the crash: %v", err)
	}
	st2.Close()
	checkConsistent(t, path, 2, 21)
}

// TestHelperInterruptedChild is the writer TestInterruptedAppend kills: it
// announces when 10 rows of its run are written, then blocks.
func TestHelperInterruptedChild(t *testing.T) {
	path := os.Getenv("ROVIMPACT_HISTORY_CHILD")
	if path == "" {
		t.Skip("only run as TestInterruptedAppend's child")
	}
	st, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	st.afterRow = func(i int) {
		if i == 10 {
			fmt.Println("MID-TRANSACTION")
			os.Stdout.Sync()
			time.Sleep(time.Minute) // killed here
		}
	}
	st.Append(context.Background(), day0.Add(time.Minute), mkReport(20), nil)
	t.Fatal("append finished: the parent should have killed this process")
}

// TestOpenRefusesDamaged: a history whose pages are corrupt, or a file that
// is not SQLite at all, is refused by Open with ErrDamaged and left
// byte-for-byte as it was (issue 12: analyze --history used to append to a
// corrupt file and exit 0; history then said "malformed").
func TestOpenRefusesDamaged(t *testing.T) {
	ctx := context.Background()
	st, path := openTemp(t)
	for i := range 3 {
		if _, err := st.Append(ctx, day0.Add(time.Duration(i)*24*time.Hour), mkReport(250), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(good) < 8*4096 {
		t.Fatalf("history is %d bytes; the test needs several pages", len(good))
	}
	for _, tc := range []struct {
		name   string
		damage func([]byte) []byte
	}{
		{"page header overwritten", func(b []byte) []byte {
			for i := 5 * 4096; i < 5*4096+64; i++ {
				b[i] = 0xff
			}
			return b
		}},
		{"file cut mid-page", func(b []byte) []byte { return b[:len(b)-4096-100] }},
		{"cell pointers overwritten inside a page", func(b []byte) []byte {
			for i := 20*4096 + 8; i < 20*4096+24; i++ {
				b[i] = 0xff
			}
			return b
		}},
		{"not a database", func(b []byte) []byte { return []byte("this is not an SQLite history file, but a mistake\n") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "damaged.db")
			bad := tc.damage(append([]byte(nil), good...))
			if err := os.WriteFile(p, bad, 0o644); err != nil {
				t.Fatal(err)
			}
			st, err := Open(ctx, p)
			if err == nil {
				st.Close()
				t.Fatal("Open accepted a damaged history")
			}
			if !errors.Is(err, ErrDamaged) {
				t.Errorf("error %v, want ErrDamaged", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
			after, rerr := os.ReadFile(p)
			if rerr != nil {
				t.Fatal(rerr)
			}
			if string(after) != string(bad) {
				t.Errorf("the damaged file was modified (%d bytes, was %d)", len(after), len(bad))
			}
			for _, suffix := range []string{"-wal", "-journal"} {
				if fi, err := os.Stat(p + suffix); err == nil && fi.Size() > 0 {
					t.Errorf("%s%s written (%d bytes)", p, suffix, fi.Size())
				}
			}
		})
	}
}
