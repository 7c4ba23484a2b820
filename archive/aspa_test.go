package archive

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
)

// aspaUnit writes a unit whose VRP file holds ASPAs (AS64496's only
// provider is AS64497; AS64505 has an AS0 ASPA) and whose RIB (bgpdump -m
// lines) has a leak through AS64501 on two paths, the AS0 customer's
// path, and paths ASPA cannot judge (unknown).
func aspaUnit(t *testing.T) Unit {
	t.Helper()
	dir := t.TempDir()
	vrps := filepath.Join(dir, "vrps.json")
	const export = `{"metadata":{"buildtime":"2025-12-01T00:00:00Z"},
"roas":[{"asn":64999,"prefix":"203.0.113.0/24","maxLength":24,"ta":"test"}],
"aspas":[{"customer_asid":64496,"providers":[64497]},{"customer_asid":64505,"providers":[0]}]}`
	rib := filepath.Join(dir, "rib.txt")
	lines := "TABLE_DUMP2|1764633600|B|192.0.2.10|64510|198.51.100.0/24|64510 64497 64496|IGP|192.0.2.10|0|0||NAG||\n" +
		"TABLE_DUMP2|1764633600|B|192.0.2.11|64511|198.51.100.0/24|64511 64501 64496|IGP|192.0.2.11|0|0||NAG||\n" +
		"TABLE_DUMP2|1764633600|B|192.0.2.11|64511|192.0.2.0/24|64511 64501 64496 64496|IGP|192.0.2.11|0|0||NAG||\n" +
		"TABLE_DUMP2|1764633600|B|192.0.2.10|64510|2001:db8:1234:5678::/64|64510 64505|IGP|192.0.2.10|0|0||NAG||\n" +
		"TABLE_DUMP2|1764633600|B|192.0.2.10|64510|203.0.113.0/24|64510 64498|IGP|192.0.2.10|0|0||NAG||\n"
	if err := os.WriteFile(vrps, []byte(export), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(rib, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	at := time.Unix(1764633600, 0).UTC()
	return Unit{Collector: "test", Time: &at, RIB: rib, VRPs: vrps}
}

// TestArchiveASPA: archive run --aspa writes the summary's aspa_* counts
// (rovimpact aspa's on the same files) and the aspa_paths table; without
// --aspa the columns are null and no aspa_paths file is written. DuckDB
// (npm @duckdb/node-api) reads both back.
func TestArchiveASPA(t *testing.T) {
	u := aspaUnit(t)
	out, plain := t.TempDir(), t.TempDir()
	if _, err := Run(context.Background(), []Unit{u}, RunOptions{Out: out, Shard: All, ASPA: true}); err != nil {
		rec, _ := os.ReadFile(FailedPath(out, u))
		t.Fatalf("%v\n%s", err, rec)
	}
	if _, err := Run(context.Background(), []Unit{u}, RunOptions{Out: plain, Shard: All}); err != nil {
		t.Fatal(err)
	}
	sums, err := parquet.ReadFile[SummaryRow](UnitPath(out, TableSummary, u))
	if err != nil {
		t.Fatal(err)
	}
	s := sums[0]
	got := []int64{*s.ASPAValid, *s.ASPAUnknown, *s.ASPAInvalid, *s.ASPAUnverified, *s.ASPARoutesDropped, *s.ASPAPrefixesLost}
	if want := []int64{0, 2, 3, 0, 2, 2}; !reflect.DeepEqual(got, want) {
		t.Errorf("aspa valid, unknown, invalid, unverified, routes dropped, prefixes lost = %v, want %v", got, want)
	}
	paths, err := parquet.ReadFile[ASPAPathRow](UnitPath(out, TableASPAPaths, u))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 3 || paths[0].Prefix != "192.0.2.0/24" || paths[0].UpCustomer != 64496 || paths[0].UpProvider != 64501 ||
		!reflect.DeepEqual(paths[0].UpProviders, []int64{64497}) || paths[0].Survives {
		t.Errorf("aspa_paths = %+v", paths)
	}
	psums, err := parquet.ReadFile[SummaryRow](UnitPath(plain, TableSummary, u))
	if err != nil {
		t.Fatal(err)
	}
	if psums[0].ASPAInvalid != nil || psums[0].Routes != s.Routes {
		t.Errorf("without --aspa: aspa_invalid %v (want null), routes %d (want %d)", psums[0].ASPAInvalid, psums[0].Routes, s.Routes)
	}
	if _, err := os.Stat(UnitPath(plain, TableASPAPaths, u)); !os.IsNotExist(err) {
		t.Errorf("without --aspa an aspa_paths file exists (%v)", err)
	}

	ddb := duckDB(t)
	src, err := os.ReadFile("testdata/duckdb/aspa.mjs")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ddb, "aspa.mjs"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", "aspa.mjs", out)
	cmd.Dir = ddb
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("duckdb: %v\n%s", err, stderr.String())
	}
	var res struct{ Summary, Paths [][]string }
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	id := u.ID()
	if want := [][]string{{id, "0", "2", "3", "0", "2", "2"}}; !reflect.DeepEqual(res.Summary, want) {
		t.Errorf("DuckDB summary aspa columns = %v, want %v", res.Summary, want)
	}
	wantPaths := [][]string{{id, "192.0.2.0/24", "64511", "not_provider", "64496", "64501", "1"},
		{id, "198.51.100.0/24", "64511", "not_provider", "64496", "64501", "1"},
		{id, "2001:db8:1234:5678::/64", "64510", "not_provider", "64505", "64510", "0"}}
	if !reflect.DeepEqual(res.Paths, wantPaths) {
		t.Errorf("DuckDB aspa_paths = %v\nwant %v", res.Paths, wantPaths)
	}
}

// TestArchiveASPANoneSaid: --aspa on a unit whose VRP file holds no ASPA
// studies the unit (its aspa_* columns null) and says so on its log line,
// so that nulls across years of archives are not read as "nothing
// invalid"; a unit with ASPAs says nothing of the kind.
func TestArchiveASPANoneSaid(t *testing.T) {
	with := aspaUnit(t)
	without := aspaUnit(t)
	const roasOnly = `{"metadata":{"buildtime":"2025-12-01T00:00:00Z"},
"roas":[{"asn":64999,"prefix":"203.0.113.0/24","maxLength":24,"ta":"test"}]}`
	if err := os.WriteFile(without.VRPs, []byte(roasOnly), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		u    Unit
		said bool
	}{{with, false}, {without, true}} {
		var log bytes.Buffer
		if _, err := Run(context.Background(), []Unit{tc.u}, RunOptions{Out: t.TempDir(), Shard: All, ASPA: true, Log: &log}); err != nil {
			t.Fatal(err)
		}
		want := "--aspa: " + tc.u.VRPs + " holds no ASPA, aspa_* left null"
		if got := bytes.Contains(log.Bytes(), []byte(want)); got != tc.said {
			t.Errorf("%s: log %q: says %q = %v, want %v", tc.u.VRPs, log.String(), want, got, tc.said)
		}
	}
}
