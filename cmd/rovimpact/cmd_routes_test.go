package main

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rovimpact/rovimpact/reports"
)

func init() {
	// -update rewrites golden files; another test file of this package may
	// already have defined the flag.
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files under testdata/")
	}
}

func updateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// runCLI runs the root command with args and returns stdout, stderr and the
// error RunE returned.
func runCLI(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCommand()
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errOut)
	err := root.Execute()
	return out.String(), errOut.String(), err
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "routes", name+".golden")
	if updateGolden() {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test -update rewrites it)\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

// TestRoutesGolden pins the output of every format on small real MRT files
// written by BIRD, BIRD6, OpenBGPD and Quagga (t2mune/mrtparse samples,
// RIPE bgpdump test data; see /work/shared/data/SOURCES.md).
func TestRoutesGolden(t *testing.T) {
	tests := []struct {
		file   string
		format string
	}{
		{"mrtparse.openbgpd_rib_table-v2.mrt", "text"}, // TABLE_DUMP_V2
		{"mrtparse.openbgpd_rib_table-v2.mrt", "json"},
		{"mrtparse.openbgpd_rib_table-v2.mrt", "csv"},
		{"mrtparse.openbgpd_rib_table.mrt", "text"},             // legacy TABLE_DUMP
		{"mrtparse.quagga_bgp.mrt", "text"},                     // BGP4MP updates, withdrawals, state changes
		{"mrtparse.quagga_bgp.mrt", "json"},                     //
		{"mrtparse.bird6-mrtdump_rib.mrt", "text"},              // IPv6 RIB
		{"bird-addpath.bview.ipv6_unicast_add_path.gz", "text"}, // RFC 8050 ADD-PATH RIB, gzip
		{"bird-addpath.bview.ipv6_unicast_add_path.gz", "csv"},  //
	}
	for _, tt := range tests {
		t.Run(tt.file+"."+tt.format, func(t *testing.T) {
			path := filepath.Join("testdata", "routes", tt.file)
			out, errOut, err := runCLI(t, "routes", "--format", tt.format, path)
			if err != nil {
				t.Fatalf("routes: %v\nstderr: %s", err, errOut)
			}
			checkGolden(t, tt.file+"."+tt.format, out+"--- stderr ---\n"+errOut)
			checkWellFormed(t, tt.format, out)
		})
	}
}

// checkWellFormed parses the output back: 11 fields per text line, valid
// JSON objects with the documented keys, CSV rows as wide as the header.
func checkWellFormed(t *testing.T, format, out string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) == 0 || lines[0] == "" {
		t.Fatal("no output")
	}
	switch format {
	case "text":
		for _, l := range lines {
			if n := strings.Count(l, "|") + 1; n != 11 {
				t.Errorf("%d fields, want 11: %q", n, l)
			}
		}
	case "json":
		want := strings.Split(strings.TrimSpace(reports.RoutesCSVHeader), ",")
		for _, l := range lines {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("invalid JSON %q: %v", l, err)
			}
			for _, k := range want {
				if _, ok := m[k]; !ok {
					t.Errorf("key %q missing in %s", k, l)
				}
			}
			if len(m) != len(want) {
				t.Errorf("%d keys, want %d: %s", len(m), len(want), l)
			}
		}
	case "csv":
		recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil {
			t.Fatalf("invalid CSV: %v", err)
		}
		if got := strings.Join(recs[0], ","); got+"\n" != reports.RoutesCSVHeader {
			t.Errorf("header %q", got)
		}
	}
}

// TestRoutesTruncated: a file cut short prints the routes before the cut,
// names the file and the cause in the summary, still reads later files,
// and fails the command (exit 1).
func TestRoutesTruncated(t *testing.T) {
	src := filepath.Join("testdata", "routes", "mrtparse.openbgpd_rib_table-v2.mrt")
	raw, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw)
	zw.Close()
	cut := filepath.Join(t.TempDir(), "cut.mrt.gz")
	if err := os.WriteFile(cut, gz.Bytes()[:gz.Len()*2/3], 0o644); err != nil {
		t.Fatal(err)
	}
	full, _, err := runCLI(t, "routes", src)
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, err := runCLI(t, "routes", cut, src)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("err = %v, want io.ErrUnexpectedEOF", err)
	}
	if exitCode(err) != exitError {
		t.Errorf("exit code %d, want %d", exitCode(err), exitError)
	}
	if !strings.HasSuffix(out, full) || len(out) == len(full) {
		t.Errorf("want some routes of the cut file, then all of the intact one; got %d bytes, intact alone %d", len(out), len(full))
	}
	if !strings.Contains(errOut, cut+": ") || !strings.Contains(errOut, "error: ") {
		t.Errorf("summary does not report the cut file's error:\n%s", errOut)
	}
}

func TestRoutesUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"unknown format", []string{"routes", "--format", "xml", "x.mrt"}},
		{"no file", []string{"routes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := runCLI(t, tt.args...)
			if got := exitCode(err); got != exitUsage {
				t.Errorf("exit code %d, want %d (err %v)", got, exitUsage, err)
			}
		})
	}
}

func TestRoutesMissingFile(t *testing.T) {
	_, errOut, err := runCLI(t, "routes", "testdata/routes/does-not-exist.mrt")
	if err == nil || exitCode(err) != exitError || !strings.Contains(err.Error(), "does-not-exist.mrt") {
		t.Errorf("err = %v (exit %d), want exit 1 naming the file; stderr %s", err, exitCode(err), errOut)
	}
}
