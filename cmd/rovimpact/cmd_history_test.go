package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/reports"
)

// analyzeJSON runs analyze on the sample with extra flags and returns the
// JSON report.
func analyzeJSON(t *testing.T, extra ...string) string {
	t.Helper()
	args := append([]string{"analyze", "--vrps", sampleVRPs, "--format", "json"}, extra...)
	out, _, err := runCLI(t, append(args, sample...)...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestHistoryCLI: analyze --history appends runs; history and diff read
// them back; --fail-on new-unreachable exits 3 only when B adds unreachable
// invalids.
func TestHistoryCLI(t *testing.T) {
	db := filepath.Join(t.TempDir(), "h.db")
	// Run 1 under the RFC 9774 withdraw policy, run 2 under RFC 6811's
	// invalid policy: the AS_SET routes change, nothing else.
	analyzeJSON(t, "--history", db, "--as-set", "notfound")
	analyzeJSON(t, "--history", db)

	out, _, err := runCLI(t, "history", "--history", db, "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var doc reports.HistoryDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Days) != 1 || doc.Days[0].Runs != 2 || doc.Days[0].Invalid != 43 || doc.Days[0].Impact.Unreachable != 18 {
		t.Errorf("days: %+v", doc.Days)
	}
	if len(doc.Lifetimes) != 43 {
		t.Errorf("%d lifetimes, want 43 (every invalid of the sample)", len(doc.Lifetimes))
	}
	for _, l := range doc.Lifetimes {
		if !l.Current || l.Runs != 2 {
			t.Errorf("%s: runs %d current %v, want 2 and true", l.Prefix, l.Runs, l.Current)
		}
	}

	out, _, err = runCLI(t, "diff", "--history", db, "--format", "json", "previous", "latest")
	if err != nil {
		t.Fatal(err)
	}
	var d reports.Diff
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	// Under notfound the 3 AS_SET routes stay invalid but are kept; under
	// invalid they are dropped, and 6 more-specifics they covered become
	// unreachable: 9 changed, none new or resolved.
	if len(d.New) != 0 || len(d.Resolved) != 0 || len(d.Changed) != 9 {
		t.Errorf("diff: %d new, %d resolved, %d changed; want 0, 0, 9", len(d.New), len(d.Resolved), len(d.Changed))
	}
	asSets := 0
	for _, c := range d.Changed {
		switch {
		case c.Origin == nil && c.ClassTo == classify.ASSet && strings.Contains(strings.Join(c.Fields, " "), "dropped"):
			asSets++
		case c.Origin != nil && strings.Join(c.Fields, " ") == "impact" && c.ImpactTo == classify.Unreachable:
		default:
			t.Errorf("unexpected change %+v", c)
		}
	}
	if asSets != 3 || d.NewUnreachable < 6 {
		t.Errorf("%d AS_SET changes (want 3), %d new unreachable (want >= 6)", asSets, d.NewUnreachable)
	}
	_, _, err = runCLI(t, "diff", "--history", db, "--fail-on", "new-unreachable", "previous", "latest")
	if code := exitCodeOf(err); code != exitThreshold {
		t.Errorf("--fail-on new-unreachable: exit %d (%v) with %d new unreachable, want 3", code, err, d.NewUnreachable)
	}
	_, _, err = runCLI(t, "diff", "--history", db, "--fail-on", "new-unreachable", "latest", "latest")
	if code := exitCodeOf(err); code != exitOK {
		t.Errorf("self diff with --fail-on: exit %d (%v), want 0", code, err)
	}

	out, _, err = runCLI(t, "history", "--history", db, "--format", "html")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `id="lifetimes"`) || !strings.Contains(out, `id="chart-trend"`) {
		t.Error("history html lacks the lifetimes table or trend chart")
	}
	out, _, err = runCLI(t, append([]string{"analyze", "--vrps", sampleVRPs, "--format", "html", "--history", db}, sample...)...)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `<svg class="chart" id="chart-trend"`) {
		t.Error("analyze --format html --history draws no trend")
	}
}

// TestDiffGolden pins diff's outputs on two analyze JSON reports of the
// sample: policy notfound (A) and invalid (B), plus a hand edit of B that
// makes one route new and unreachable, resolves one and changes one's
// class (testdata/diff/*.json; -update regenerates a.json from analyze and
// b.json by the edit below).
func TestDiffGolden(t *testing.T) {
	a, b := filepath.Join("testdata", "diff", "a.json"), filepath.Join("testdata", "diff", "b.json")
	if updateGolden() {
		os.MkdirAll(filepath.Dir(a), 0o755)
		os.WriteFile(a, []byte(analyzeJSON(t, "--as-set", "notfound")), 0o644)
		var rep reports.Report
		json.Unmarshal([]byte(analyzeJSON(t)), &rep)
		rep.Invalids = rep.Invalids[1:]       // resolve 1.0.0.0/24 AS15169
		rep.Invalids[0].Class = classify.Both // 1.1.1.0/24: class change
		hijack := rep.Invalids[0]
		hijack.Prefix = hijack.Prefix.Masked()
		asn := uint32(64666)
		hijack.Origin, hijack.Impact = &asn, classify.Unreachable // same prefix, new origin: a new route
		rep.Invalids = append(rep.Invalids, hijack)
		rep.Summary.Invalid++
		var buf strings.Builder
		reports.WriteJSON(&buf, rep)
		os.WriteFile(b, []byte(buf.String()), 0o644)
	}
	for _, format := range []string{"line", "table", "json", "csv"} {
		out, _, err := runCLI(t, "diff", "--format", format, a, b)
		if err != nil {
			t.Fatal(err)
		}
		checkGoldenIn(t, "diff", "a-b."+format, out)
	}
	_, _, err := runCLI(t, "diff", "--fail-on", "new-unreachable", a, b)
	if code := exitCodeOf(err); code != exitThreshold {
		t.Errorf("new unreachable route: exit %d (%v), want 3", code, err)
	}
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"diff", a}, exitUsage},
		{[]string{"diff", "--fail-on", "more-invalid", a, b}, exitUsage},
		{[]string{"diff", a, "latest"}, exitUsage}, // a run reference needs --history
		{[]string{"diff", a, "../../testdata/sample/vrps.json"}, exitError},
		{[]string{"history"}, exitUsage},
		{[]string{"history", "--history", filepath.Join(t.TempDir(), "missing.db")}, exitError},
	} {
		_, _, err := runCLI(t, tc.args...)
		if code := exitCodeOf(err); code != tc.code {
			t.Errorf("%v: exit %d (%v), want %d", tc.args, code, err, tc.code)
		}
	}
}

// TestVRPsDiffGolden: testdata/vrps/b.json is the sample VRPs with one ROA
// removed, one maxLength raised and one ROA added; the sample routes they
// touch change verdict.
func TestVRPsDiffGolden(t *testing.T) {
	for _, format := range []string{"table", "json", "csv"} {
		out, _, err := runCLI(t, append([]string{"vrps", "diff", "--format", format, "--top", "0", sampleVRPs, "testdata/vrps/b.json"}, sample...)...)
		if err != nil {
			t.Fatal(err)
		}
		checkGoldenIn(t, "vrps", "sample-b."+format, out)
	}
}

// TestVRPsDiffShared runs vrps diff on the two rpki-client snapshots taken
// 30 minutes apart (../shared/data/vrp).
func TestVRPsDiffShared(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 2 x 723k VRPs")
	}
	dir := filepath.Join("..", "..", "..", "shared", "data", "vrp")
	a, b := filepath.Join(dir, "vrps.rpki-client.20250720T093133Z.json.bz2"), filepath.Join(dir, "vrps.rpki-client.20250720T100143Z.json.bz2")
	if _, err := os.Stat(a); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("shared/data/vrp not found (required when CI=true): %v", err)
		}
		t.Skipf("shared/data/vrp not found: %v", err)
	}
	out, _, err := runCLI(t, "vrps", "diff", "--format", "json", a, b)
	if err != nil {
		t.Fatal(err)
	}
	var d reports.VRPDiff
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	// SOURCES.md: 723521 then 723524 roas entries (no duplicates).
	if d.FromLen != 723521 || d.ToLen != 723524 || len(d.OnlyA) != 6 || len(d.OnlyB) != 9 {
		t.Errorf("got %d -> %d VRPs, %d removed, %d added; want 723521 -> 723524, 6, 9", d.FromLen, d.ToLen, len(d.OnlyA), len(d.OnlyB))
	}
}
