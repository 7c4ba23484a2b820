package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rovimpact/rovimpact/internal/testutil"
	"github.com/rovimpact/rovimpact/reports"
)

// guardFiles writes the inputs of the guard cases into the current
// directory (a temporary one: file names in the golden stderr stay
// short and fixed).
func guardFiles(t *testing.T, pch, rib string) {
	t.Helper()
	write := func(name string, data []byte) {
		t.Helper()
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	read := func(path string) []byte {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	vrps := read(filepath.Join(repoRoot, "testdata/sample/vrps.json"))
	write("vrps.json", vrps)
	write("routes.mrt", read(filepath.Join(repoRoot, "testdata/sample/routes-v4.mrt")))
	write("empty.json", []byte(`{"roas":[]}`+"\n"))
	write("empty.csv", []byte("ASN,IP Prefix,Max Length,Trust Anchor\n"))
	write("expired.json", []byte(`{"metadata":{"buildtime":"2025-07-20T10:01:43Z"},"roas":[`+
		`{"asn":13335,"prefix":"1.0.0.0/24","maxLength":24,"ta":"apnic","expires":1700000000},`+
		`{"asn":13335,"prefix":"1.1.1.0/24","maxLength":24,"ta":"apnic","expires":1700000000}]}`+"\n"))
	// The sample VRPs less 15%: a shrunken set for the drop guard.
	var doc map[string]any
	if err := json.Unmarshal(vrps, &doc); err != nil {
		t.Fatal(err)
	}
	roas := doc["roas"].([]any)
	doc["roas"] = roas[:len(roas)*85/100]
	small, _ := json.Marshal(doc)
	write("vrps-small.json", small)
	write("bad-history.db", []byte("this is not an SQLite history file\n"))

	// A cut PCH dump, raw and gzip (issue 12: "head -c 5000 of a dump"),
	// and the RouteViews RIB cut further: after a few bzip2 blocks, and
	// inside the first.
	gz := read(pch)
	write("head5000.gz", gz[:5000])
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	raw := make([]byte, 5000)
	if _, err := io.ReadFull(zr, raw); err != nil {
		t.Fatal(err)
	}
	write("head5000.mrt", raw)
	write("cut.bz2", read(rib)[:400000])
	write("cut-first-block.bz2", read(rib)[:20000])
}

// repoRoot is the repository, from the package directory go test runs in.
var repoRoot, _ = filepath.Abs("../..")

// TestGuardsGolden pins, per case of issue 12, the exact stderr and exit
// code: empty VRP sets in each form, a stale set, a cut dump (raw, gzip,
// bzip2) with and without --allow-partial, the VRP drop since the previous
// run, a damaged history, and partial input reaching snapshot, lookup
// and diff. Each golden file is the stderr, then the line main prints for
// the returned error, then the exit code.
func TestGuardsGolden(t *testing.T) {
	pkg, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	golden := func(name, got string) {
		t.Helper()
		checkGoldenIn(t, filepath.Join(pkg, "testdata", "guards"), name, got)
	}
	pch := testutil.SharedData(t, "mrt/updates.20151023.0201.pch-route-collector.as3856-fulltable.bgp4mp_et.gz")
	rib := testutil.SharedData(t, "mrt/rib.20140523.0600.route-views2.first1MB-truncated.bz2")
	t.Chdir(t.TempDir())
	guardFiles(t, pch, rib)
	steps := []struct {
		name string
		args []string
	}{
		{"empty-vrps-json", []string{"analyze", "--vrps", "empty.json", "routes.mrt"}},
		{"empty-vrps-csv-header-only", []string{"analyze", "--vrps", "empty.csv", "routes.mrt"}},
		{"empty-vrps-drop-expired", []string{"analyze", "--vrps", "expired.json", "--drop-expired", "routes.mrt"}},
		{"empty-vrps-allowed", []string{"analyze", "--vrps", "empty.json", "--allow-empty-vrps", "routes.mrt"}},
		{"empty-vrps-snapshot", []string{"snapshot", "--vrps", "empty.json", "-o", "s.rovsnap", "routes.mrt"}},
		{"max-vrp-age", []string{"analyze", "--vrps", "vrps.json", "--max-vrp-age", "12h", "routes.mrt"}},
		{"max-vrp-age-within", []string{"analyze", "--vrps", "vrps.json", "--max-vrp-age", "36h", "routes.mrt"}},
		{"partial-head5000-raw", []string{"analyze", "--vrps", "vrps.json", "head5000.mrt"}},
		{"partial-head5000-gzip", []string{"analyze", "--vrps", "vrps.json", "head5000.gz"}},
		{"partial-cut-bzip2", []string{"analyze", "--vrps", "vrps.json", "cut.bz2"}},
		{"partial-cut-bzip2-first-block", []string{"analyze", "--vrps", "vrps.json", "cut-first-block.bz2", "routes.mrt"}},
		{"partial-allowed", []string{"analyze", "--vrps", "vrps.json", "--allow-partial", "head5000.gz"}},
		{"partial-with-threshold", []string{"analyze", "--vrps", "vrps.json", "--fail-on-unreachable", "0", "head5000.gz"}},
		{"partial-snapshot", []string{"snapshot", "--vrps", "vrps.json", "-o", "partial.rovsnap", "head5000.gz"}},
		{"partial-lookup-files", []string{"lookup", "--vrps", "vrps.json", "1.0.0.0/24", "head5000.gz"}},
		{"partial-lookup-snapshot", []string{"lookup", "--snapshot", "partial.rovsnap", "1.0.0.0/24"}},
		{"partial-vrps-diff", []string{"vrps", "diff", "--format", "line", "vrps.json", "vrps-small.json", "head5000.gz"}},
		{"partial-report-json", []string{"analyze", "--vrps", "vrps.json", "--allow-partial", "--format", "json", "--output-dir", "partial", "head5000.gz"}},
		{"whole-report-json", []string{"analyze", "--vrps", "vrps.json", "--format", "json", "--output-dir", "whole", "routes.mrt"}},
		{"partial-diff", []string{"diff", "whole/report.json", "partial/report.json"}},
		{"partial-diff-allowed", []string{"diff", "--allow-partial", "--format", "line", "whole/report.json", "partial/report.json"}},
		{"history-first-run", []string{"analyze", "--vrps", "vrps.json", "--history", "h.db", "routes.mrt"}},
		{"vrp-drop-warns", []string{"analyze", "--vrps", "vrps-small.json", "--history", "h.db", "routes.mrt"}},
		{"history-first-run-b", []string{"analyze", "--vrps", "vrps.json", "--history", "h2.db", "routes.mrt"}},
		{"vrp-drop-fails", []string{"analyze", "--vrps", "vrps-small.json", "--history", "h2.db", "--fail-on-vrp-drop", "5", "routes.mrt"}},
		{"vrp-drop-below-fail", []string{"analyze", "--vrps", "vrps-small.json", "--history", "h2.db", "--fail-on-vrp-drop", "5", "routes.mrt"}},
		{"vrp-drop-needs-history", []string{"analyze", "--vrps", "vrps.json", "--fail-on-vrp-drop", "5", "routes.mrt"}},
		{"history-damaged", []string{"analyze", "--vrps", "vrps.json", "--history", "bad-history.db", "routes.mrt"}},
	}
	// The steps run in order: later ones read what earlier ones wrote
	// (the snapshot, the report directories, the history).
	for _, st := range steps {
		_, stderr, err := runCLI(t, st.args...)
		got := stderr
		if err != nil {
			got += "rovimpact: " + err.Error() + "\n"
		}
		got += "exit " + strconv.Itoa(codeOf(err)) + "\n"
		golden(st.name, got)
		if dir, ok := strings.CutSuffix(st.name, "-report-json"); ok {
			golden(st.name+".inputs", inputsOf(t, filepath.Join(dir, "report.json")))
		}
	}
	// The table's header and the HTML banner state the loss.
	txt, err := os.ReadFile("partial/report.txt")
	if err != nil {
		t.Fatal(err)
	}
	head := strings.SplitAfterN(string(txt), "\n", 3)
	golden("partial-report.txt.head", head[0]+head[1])
	html, err := os.ReadFile("partial/report.html")
	if err != nil {
		t.Fatal(err)
	}
	banner := `<div class="banner bad" role="alert">Partial input: head5000.gz: truncated at record 21 (byte 8155 of the decompressed data): 1654 routes read from 20 records`
	if !strings.Contains(string(html), banner) {
		t.Errorf("report.html has no partial-input banner %q", banner)
	}
	if whole, _ := os.ReadFile("whole/report.html"); strings.Contains(string(whole), `Partial input:`) {
		t.Error("report.html of whole input has a partial-input banner")
	}
	// The damaged history was refused before anything was written to it.
	if b, _ := os.ReadFile("bad-history.db"); string(b) != "this is not an SQLite history file\n" {
		t.Errorf("the damaged history was modified: %q", b)
	}
}

// inputsOf is the JSON report's summary.inputs and vrps, the parts that
// carry the loss and the VRP age.
func inputsOf(t *testing.T, path string) string {
	t.Helper()
	out, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rep reports.Report
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatal(err)
	}
	b, err := json.MarshalIndent(struct {
		Inputs []reports.Input    `json:"inputs"`
		VRPs   reports.VRPSummary `json:"vrps"`
	}{rep.Summary.Inputs, rep.Summary.VRPs}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b) + "\n"
}
