package reports

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// sampleReport is analyze's JSON report on the shipped sample (every class
// and impact appears), read from the analyze golden file.
func sampleReport(t *testing.T) Report {
	t.Helper()
	b, err := os.ReadFile("../cmd/rovimpact/testdata/analyze/sample.json.golden")
	if err != nil {
		t.Fatal(err)
	}
	var rep Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	return rep
}

var sampleTrend = []TrendPoint{{"2025-07-18", 40, 38, 15}, {"2025-07-19", 45, 43, 20}, {"2025-07-20", 43, 43, 18}}

// TestHTMLSelfContained: the file references nothing outside itself and
// holds every row and chart.
func TestHTMLSelfContained(t *testing.T) {
	rep := sampleReport(t)
	var buf bytes.Buffer
	if err := WriteHTML(&buf, HTMLDoc{Report: rep, Trend: sampleTrend}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, bad := range []string{"http://", "https://", "<link", "src=", "@import", "url("} {
		if strings.Contains(out, bad) {
			t.Errorf("HTML contains %q: it must work offline", bad)
		}
	}
	if n, want := strings.Count(out, `<rect class="bar"`), 9; n != want {
		t.Errorf("%d bars, want %d (5 classes + 4 impacts)", n, want)
	}
	if n := strings.Count(out, `<polyline class="line"`); n != 3 {
		t.Errorf("%d trend lines, want 3", n)
	}
	if n := strings.Count(out, "<tr>"); n != 2+len(rep.Invalids)+len(rep.Origins) {
		t.Errorf("%d table rows, want %d", n, 2+len(rep.Invalids)+len(rep.Origins))
	}
	// No history: a note, not an empty chart.
	buf.Reset()
	WriteHTML(&buf, HTMLDoc{Report: rep})
	if !strings.Contains(buf.String(), "No history") {
		t.Error("no-trend note missing")
	}
}

// chromiumPath finds the Debian chromium; skips without it, fails under CI.
func chromiumPath(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium not found (Debian package chromium): required under CI=true")
	}
	t.Skip("chromium not found; install the Debian package chromium to run the browser test")
	return ""
}

// TestHTMLInChromium renders the report in headless Chromium and reads back
// the verdict of the page's own self-check (#selfcheck): charts have marks
// and a size, tables have rows, sorting by paths orders rows, filtering
// hides the non-matching ones. ROVIMPACT_HTML_SCREENSHOT=file.png also
// saves a screenshot to look at.
func TestHTMLInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	chromium := chromiumPath(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	f, err := os.Create(page)
	if err != nil {
		t.Fatal(err)
	}
	rep := sampleReport(t)
	if err := WriteHTML(f, HTMLDoc{Title: "rovimpact sample", Report: rep, Trend: sampleTrend}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	run := func(extra ...string) []byte {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync",
			"--user-data-dir=" + filepath.Join(dir, "profile"), "--window-size=1280,2000"}, extra...)
		cmd := exec.CommandContext(ctx, chromium, args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("chromium %v: %v\n%s", extra, err, stderr.String())
		}
		return out
	}
	dom := run("--virtual-time-budget=5000", "--dump-dom", "file://"+page+"#selfcheck")
	m := regexp.MustCompile(`<pre id="selfcheck" data-ok="(\w+)">([^<]*)</pre>`).FindSubmatch(dom)
	if m == nil {
		t.Fatalf("self-check did not run (no result in the DOM):\n%.2000s", dom)
	}
	var res struct {
		OK           bool     `json:"ok"`
		Errors       []string `json:"errors"`
		Classes      int      `json:"chart-classes"`
		Impact       int      `json:"chart-impact"`
		Trend        int      `json:"chart-trend"`
		InvalidRows  int      `json:"invalid_rows"`
		OriginRows   int      `json:"origin_rows"`
		FilteredRows int      `json:"filtered_rows"`
		Sorted       bool     `json:"sorted"`
	}
	if err := json.Unmarshal(m[2], &res); err != nil {
		t.Fatalf("self-check result %q: %v", m[2], err)
	}
	if !res.OK || string(m[1]) != "true" {
		t.Errorf("self-check failed: %v", res.Errors)
	}
	unreachable := 0
	for _, inv := range rep.Invalids {
		if inv.Impact == "unreachable" {
			unreachable++
		}
	}
	if res.Classes != 5 || res.Impact != 4 || res.Trend != 3+9 || res.InvalidRows != len(rep.Invalids) ||
		res.OriginRows != len(rep.Origins) || res.FilteredRows != unreachable || !res.Sorted {
		t.Errorf("self-check counts: %+v (want 5 class bars, 4 impact bars, 3 lines + 9 points, %d invalid rows, %d origin rows, %d unreachable)",
			res, len(rep.Invalids), len(rep.Origins), unreachable)
	}
	if shot := os.Getenv("ROVIMPACT_HTML_SCREENSHOT"); shot != "" {
		abs, _ := filepath.Abs(shot)
		run("--screenshot="+abs, "file://"+page)
		if st, err := os.Stat(abs); err != nil || st.Size() == 0 {
			t.Errorf("screenshot %s not written: %v", abs, err)
		}
	}
}
