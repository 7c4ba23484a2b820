package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"

	"github.com/rovimpact/rovimpact/reports"
)

var sample = []string{"../../testdata/sample/routes-v4.mrt", "../../testdata/sample/routes-v6.mrt"}

const sampleVRPs = "../../testdata/sample/vrps.json"

func checkGoldenIn(t *testing.T, dir, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", dir, name+".golden")
	if filepath.IsAbs(dir) {
		path = filepath.Join(dir, name+".golden")
	}
	if updateGolden() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
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

// TestAnalyzeGolden pins every output format on the shipped sample (real
// RouteViews routes and rpki-client VRPs, chosen so every class and impact
// appears).
func TestAnalyzeGolden(t *testing.T) {
	cases := []struct {
		name string
		args []string
	}{
		{"sample.table", []string{"--top", "10"}},
		{"sample.wide.table", []string{"--top", "10", "--wide"}},
		{"sample.all.table", []string{"--top", "0", "--per-peer"}},
		{"sample.json", []string{"--format", "json"}},
		{"sample.csv", []string{"--format", "csv"}},
		{"sample.per-peer.table", []string{"--per-peer", "--top", "5"}},
		{"sample.as-set-notfound.table", []string{"--as-set", "notfound", "--top", "3"}},
		{"sample.peer-filter.json", []string{"--peer", "AS7018", "--format", "json"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"analyze", "--vrps", sampleVRPs}, tc.args...)
			out, _, err := runCLI(t, append(args, sample...)...)
			if err != nil {
				t.Fatal(err)
			}
			checkGoldenIn(t, "analyze", tc.name, out)
		})
	}
}

// TestAnalyzeInvariants checks the arithmetic the JSON schema promises, and
// that every class and every impact appears in the sample (README promise).
func TestAnalyzeInvariants(t *testing.T) {
	for _, policy := range []string{"invalid", "notfound", "withdraw"} {
		out, _, err := runCLI(t, append([]string{"analyze", "--vrps", sampleVRPs, "--format", "json", "--as-set", policy}, sample...)...)
		if err != nil {
			t.Fatal(err)
		}
		var rep reports.Report
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatal(err)
		}
		s := rep.Summary
		if s.Valid+s.Invalid+s.NotFound != s.Routes {
			t.Errorf("%s: valid %d + invalid %d + not_found %d != routes %d", policy, s.Valid, s.Invalid, s.NotFound, s.Routes)
		}
		c := s.Classes
		if c.TooSpecific+c.WrongOrigin+c.Both+c.TooShort+c.ASSet != s.Invalid {
			t.Errorf("%s: classes %+v do not add up to invalid %d", policy, c, s.Invalid)
		}
		im := s.Impact
		if im.SamePrefix+im.Covered+im.MoreSpecifics+im.Unreachable != s.Dropped {
			t.Errorf("%s: impacts %+v do not add up to dropped %d", policy, im, s.Dropped)
		}
		dropped := 0
		for _, inv := range rep.Invalids {
			if inv.Dropped {
				dropped++
			}
		}
		if dropped != s.Dropped {
			t.Errorf("%s: %d dropped rows, summary says %d", policy, dropped, s.Dropped)
		}
		if policy == "invalid" {
			for name, n := range map[string]int{"too_specific": c.TooSpecific, "wrong_origin": c.WrongOrigin, "both": c.Both, "too_short": c.TooShort, "as_set": c.ASSet,
				"same_prefix": im.SamePrefix, "covered": im.Covered, "more_specifics": im.MoreSpecifics, "unreachable": im.Unreachable} {
				if n == 0 {
					t.Errorf("the sample has no %s route: regenerate it (go run ./testdata/sample/gen)", name)
				}
			}
		}
		if policy == "notfound" && s.Dropped != s.Invalid-c.ASSet {
			t.Errorf("notfound policy: dropped %d, want invalid %d - as_set %d", s.Dropped, s.Invalid, c.ASSet)
		}
	}
}

// TestAnalyzeFileOrder: the same routes in another file order give the same
// report.
func TestAnalyzeFileOrder(t *testing.T) {
	a, _, err := runCLI(t, "analyze", "--vrps", sampleVRPs, "--format", "json", sample[0], sample[1])
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := runCLI(t, "analyze", "--vrps", sampleVRPs, "--format", "json", sample[1], sample[0])
	if err != nil {
		t.Fatal(err)
	}
	// Only the inputs list may differ.
	var ra, rb reports.Report
	json.Unmarshal([]byte(a), &ra)
	json.Unmarshal([]byte(b), &rb)
	ra.Summary.Inputs, rb.Summary.Inputs = nil, nil
	ja, _ := json.Marshal(ra)
	jb, _ := json.Marshal(rb)
	if string(ja) != string(jb) {
		t.Error("reversing the input files changed the report")
	}
}

// TestAnalyzeExitCodes pins the documented exit codes.
func TestAnalyzeExitCodes(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(bad, []byte("prefix,maxlen,asn\n192.0.2.1/24,24,64500\n"), 0o644)
	cases := []struct {
		name string
		args []string
		want int
		msg  string
	}{
		{"threshold crossed", []string{"--vrps", sampleVRPs, "--fail-on-unreachable", "0"}, exitThreshold, "would become unreachable"},
		{"threshold not crossed", []string{"--vrps", sampleVRPs, "--fail-on-unreachable", "1000"}, exitOK, ""},
		{"bad format", []string{"--vrps", sampleVRPs, "--format", "xml"}, exitUsage, "--format"},
		{"bad policy", []string{"--vrps", sampleVRPs, "--as-set", "drop"}, exitUsage, "AS_SET"},
		{"no VRPs", []string{}, exitUsage, "--vrps"},
		{"bad peer", []string{"--vrps", sampleVRPs, "--peer", "nonsense"}, exitUsage, "--peer"},
		{"unknown flag", []string{"--vrps", sampleVRPs, "--frobnicate"}, exitUsage, "unknown flag"},
		{"malformed VRP file", []string{"--vrps", bad}, exitError, "bad.csv"},
		{"missing route file", []string{"--vrps", sampleVRPs, "/nonexistent/rib.mrt"}, exitError, "/nonexistent/rib.mrt"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"analyze"}, tc.args...)
			if !strings.Contains(strings.Join(tc.args, " "), "nonexistent") {
				args = append(args, sample...)
			}
			_, _, err := runCLI(t, args...)
			if got := exitCodeOf(err); got != tc.want {
				t.Fatalf("exit code: got %d (%v), want %d", got, err, tc.want)
			}
			if tc.msg != "" && !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not mention %q", err, tc.msg)
			}
		})
	}
}

// exitCodeOf maps an error as main does (codeOf), without printing.
func exitCodeOf(err error) int { return codeOf(err) }

// sameGenerated blanks the HTML report's generation time: two runs a
// second apart write the same report otherwise.
func sameGenerated(page string) string {
	return regexp.MustCompile(`<time id="generated"[^<]*</time>`).ReplaceAllString(page, `<time id="generated"></time>`)
}

// TestAnalyzeOutputDir writes every report for cron.
func TestAnalyzeOutputDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "night")
	if _, _, err := runCLI(t, append([]string{"analyze", "--vrps", sampleVRPs, "--per-peer", "--output-dir", dir, "--format", "json"}, sample...)...); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"report.json", "report.txt", "report.html", "invalids.csv", "origins.csv", "peers.csv"} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil || st.Size() == 0 {
			t.Errorf("%s: %v (size %d)", f, err, sizeOf(st))
		}
	}
	// Each file is what the matching --format prints.
	for file, format := range map[string]string{"report.json": "json", "report.html": "html"} {
		out, _, err := runCLI(t, append([]string{"analyze", "--vrps", sampleVRPs, "--per-peer", "--format", format}, sample...)...)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		if sameGenerated(string(got)) != sameGenerated(out) {
			t.Errorf("%s differs from analyze --format %s", file, format)
		}
	}
	// With --history, report.html shows the trend including this run, as
	// --format html does; --output-dir writes files only, stdout stays
	// empty. The --format html run appends the same run to a copy of the
	// database as it was before, so both see the same trend.
	db := filepath.Join(t.TempDir(), "h.db")
	twin := filepath.Join(t.TempDir(), "twin.db")
	for day := range 2 {
		if day > 0 {
			b, err := os.ReadFile(db)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(twin, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		stdout, _, err := runCLI(t, append([]string{"analyze", "--vrps", sampleVRPs, "--history", db, "--output-dir", dir, "--format", "html"}, sample...)...)
		if err != nil {
			t.Fatal(err)
		}
		if stdout != "" {
			t.Errorf("run %d: --output-dir wrote %d bytes to stdout, want none", day+1, len(stdout))
		}
		out, _, err := runCLI(t, append([]string{"analyze", "--vrps", sampleVRPs, "--history", twin, "--format", "html"}, sample...)...)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(filepath.Join(dir, "report.html"))
		if !strings.Contains(out, `<time id="generated"`) {
			t.Errorf("run %d: the HTML report does not say when it was generated", day+1)
		}
		if sameGenerated(string(got)) != sameGenerated(out) {
			t.Errorf("run %d with --history: report.html differs from the --format html output", day+1)
		}
	}
	// Without --per-peer there is no peers.csv (a header-only file would
	// read as "no peer dropped anything"); files follow the umask (0644
	// under 022), not 0600, so a web server can publish them.
	bare := filepath.Join(t.TempDir(), "bare")
	old := syscall.Umask(0o022)
	_, _, err := runCLI(t, append([]string{"analyze", "--vrps", sampleVRPs, "--output-dir", bare}, sample...)...)
	syscall.Umask(old)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(bare, "peers.csv")); !os.IsNotExist(err) {
		t.Errorf("peers.csv without --per-peer: stat err %v, want not exist", err)
	}
	for _, f := range []string{"report.json", "report.txt", "report.html", "invalids.csv", "origins.csv"} {
		st, err := os.Stat(filepath.Join(bare, f))
		if err != nil {
			t.Fatal(err)
		}
		if m := st.Mode().Perm(); m != 0o644 {
			t.Errorf("%s: mode %03o, want 644", f, m)
		}
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
}

func sizeOf(st os.FileInfo) int64 {
	if st == nil {
		return -1
	}
	return st.Size()
}

// runCLIStdin is runCLI with standard input.
func runCLIStdin(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut strings.Builder
	root := newRootCommand()
	root.SetArgs(args)
	root.SetIn(strings.NewReader(stdin))
	root.SetOut(&out)
	root.SetErr(&errOut)
	err := root.Execute()
	return out.String(), errOut.String(), err
}

// TestVersion: `rovimpact version` and `--version` print the same build
// identity; --format json carries the fields a bug report needs.
func TestVersion(t *testing.T) {
	a, _, err := runCLI(t, "version")
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := runCLI(t, "--version")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a, "rovimpact ") || a != b {
		t.Errorf("version %q, --version %q: want the same line starting with \"rovimpact \"", a, b)
	}
	j, _, err := runCLI(t, "version", "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Version   string `json:"version"`
		GoVersion string `json:"go_version"`
	}
	if err := json.Unmarshal([]byte(j), &v); err != nil || v.Version == "" || v.GoVersion == "" {
		t.Errorf("version --format json = %q (%v): want version and go_version", j, err)
	}
}

// TestAnalyzeTableWidth: the table report fits a 120-column terminal
// (reports.TerminalWidth) whatever the rows, every route and peer of the
// sample listed; --wide may exceed it.
func TestAnalyzeTableWidth(t *testing.T) {
	out, _, err := runCLI(t, append([]string{"analyze", "--vrps", sampleVRPs, "--top", "0", "--per-peer"}, sample...)...)
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(out, "\n") {
		if n := utf8.RuneCountInString(line); n > reports.TerminalWidth {
			t.Errorf("line %d is %d columns wide, want at most %d: %q", i+1, n, reports.TerminalWidth, line)
		}
	}
	wide, _, err := runCLI(t, append([]string{"analyze", "--vrps", sampleVRPs, "--top", "0", "--wide"}, sample...)...)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(wide, "2001:4c8:1012::/48 AS15290") {
		t.Error("--wide does not list the deciding VRPs beyond the first")
	}
}

// TestLookupTableWidth: lookup's table output fits 120 columns too (route
// tables wrap, VRP lists break after a comma); --wide keeps whole columns.
func TestLookupTableWidth(t *testing.T) {
	out, _, err := runCLI(t, append([]string{"lookup", "--vrps", sampleVRPs, "--top", "0", "1.1.1.1", "AS18101", "AS15169", "2001:4c8::/33", "0.0.0.0/0", "::/0"}, sample...)...)
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(out, "\n") {
		if n := utf8.RuneCountInString(line); n > reports.TerminalWidth {
			t.Errorf("line %d is %d columns wide, want at most %d: %q", i+1, n, reports.TerminalWidth, line)
		}
	}
}

// TestAnalyzeNDJSON: --format ndjson reaches the format table and writes
// the JSON report's invalid routes, one a line (reports' TestNDJSON* pins
// the rows themselves).
func TestAnalyzeNDJSON(t *testing.T) {
	out, _, err := runCLI(t, append([]string{"analyze", "--vrps", sampleVRPs, "--format", "ndjson"}, sample...)...)
	if err != nil {
		t.Fatal(err)
	}
	var rep reports.Report
	if err := json.Unmarshal([]byte(analyzeJSON(t)), &rep); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(rep.Invalids) == 0 || len(lines) != len(rep.Invalids) {
		t.Fatalf("%d lines, %d invalids in the JSON report", len(lines), len(rep.Invalids))
	}
	for i, l := range lines {
		var inv reports.Invalid
		if err := json.Unmarshal([]byte(l), &inv); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if inv.Prefix != rep.Invalids[i].Prefix || inv.Class != rep.Invalids[i].Class || inv.Impact != rep.Invalids[i].Impact {
			t.Errorf("line %d: %+v, JSON row %+v", i+1, inv, rep.Invalids[i])
		}
	}
}
