package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/rovimpact/rovimpact/archive"
)

// TestArchiveParity runs plan, run and merge through the CLI on the archive
// package's fixture and checks that every unit's Parquet says what analyze
// --per-peer says of the same RIB and VRP file: archive reaches the study
// through its own adapter (archive/study.go), and this pins that it is the
// same study.
func TestArchiveParity(t *testing.T) {
	dir := t.TempDir()
	manifest := filepath.Join(dir, "units.jsonl")
	if _, stderr, err := runCLI(t, "archive", "plan", "-o", manifest, "../../archive/testdata/archive"); err != nil {
		t.Fatalf("plan: %v\n%s", err, stderr)
	}
	out := filepath.Join(dir, "out")
	_, stderr, err := runCLI(t, "archive", "run", manifest, "--out", out, "-j", "2")
	if codeOf(err) != exitPartial || !strings.Contains(stderr, "8 studied, 0 already complete, 1 failed") {
		t.Fatalf("run: exit %d (%v), want 4 with 8 studied and the truncated unit failed\n%s", codeOf(err), err, stderr)
	}
	if _, stderr, err := runCLI(t, "archive", "merge", out); codeOf(err) != exitPartial || !strings.Contains(stderr, "8 units done, 0 partial, 1 failed, 0 missing") {
		t.Fatalf("merge: exit %d (%v)\n%s", codeOf(err), err, stderr)
	}
	f, err := os.Open(filepath.Join(out, archive.ManifestCopy))
	if err != nil {
		t.Fatal(err)
	}
	units, err := archive.ReadManifest(f, "manifest")
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, u := range units {
		if !u.Runnable() || strings.HasSuffix(u.RIB, "1100.gz") {
			continue
		}
		n++
		js, _, err := runCLI(t, "analyze", "--per-peer", "--format", "json", "--vrps", u.VRPs, u.RIB)
		if err != nil {
			t.Fatalf("analyze %s: %v", u.RIB, err)
		}
		var rep struct {
			Summary struct {
				Routes, Valid, Invalid, Dropped int
				NotFound                        int `json:"not_found"`
				Impact                          struct{ Unreachable int }
			}
			Invalids []json.RawMessage
			Peers    []json.RawMessage
		}
		if err := json.Unmarshal([]byte(js), &rep); err != nil {
			t.Fatal(err)
		}
		sum, err := parquet.ReadFile[archive.SummaryRow](archive.UnitPath(out, archive.TableSummary, u))
		if err != nil || len(sum) != 1 {
			t.Fatalf("%s: %v", u.RIB, err)
		}
		invs, err1 := parquet.ReadFile[archive.InvalidRow](archive.UnitPath(out, archive.TableInvalids, u))
		peers, err2 := parquet.ReadFile[archive.PeerRow](archive.UnitPath(out, archive.TablePeers, u))
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		s, a := sum[0], rep.Summary
		if s.Routes != int64(a.Routes) || s.Valid != int64(a.Valid) || s.Invalid != int64(a.Invalid) || s.NotFound != int64(a.NotFound) ||
			s.Dropped != int64(a.Dropped) || s.Unreachable != int64(a.Impact.Unreachable) || len(invs) != len(rep.Invalids) || len(peers) != len(rep.Peers) {
			t.Errorf("%s: archive %+v (%d invalids, %d peers) differs from analyze %+v (%d invalids, %d peers)",
				u.RIB, s, len(invs), len(peers), a, len(rep.Invalids), len(rep.Peers))
		}
	}
	if n != 8 {
		t.Errorf("compared %d units, want 8", n)
	}
}

// TestArchiveNothingToDo: a plan or a manifest with no unit to study is
// exit 1 with the reason, not a quiet success that studies nothing.
func TestArchiveNothingToDo(t *testing.T) {
	dir := t.TempDir()
	manifest := filepath.Join(dir, "units.jsonl")
	_, stderr, err := runCLI(t, "archive", "plan", "-o", manifest, t.TempDir())
	if codeOf(err) != 1 || !strings.Contains(err.Error(), "no unit to study") {
		t.Fatalf("plan of an empty directory: exit %d (%v), want 1\n%s", codeOf(err), err, stderr)
	}
	// RIBs without any VRP file: every line skipped.
	_, stderr, err = runCLI(t, "archive", "plan", "-o", manifest, "../../archive/testdata/archive/ris")
	if codeOf(err) != 1 || !strings.Contains(err.Error(), "skipped lines") {
		t.Fatalf("plan without VRPs: exit %d (%v), want 1\n%s", codeOf(err), err, stderr)
	}
	for name, body := range map[string]string{"empty": "", "all skipped": mustRead(t, manifest)} {
		path := filepath.Join(dir, "m.jsonl")
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		_, stderr, err := runCLI(t, "archive", "run", path, "--out", filepath.Join(dir, "out"))
		if codeOf(err) != 1 || !strings.Contains(err.Error(), "no unit to study") {
			t.Fatalf("run of a %s manifest: exit %d (%v), want 1\n%s", name, codeOf(err), err, stderr)
		}
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
