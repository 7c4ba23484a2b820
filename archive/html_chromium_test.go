package archive

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/internal/testutil"
)

// checkPage loads merged/index.html in a frame of a test page and measures
// what the browser laid out: every timeline chart's polylines (their
// points inside the chart, a line with width where there are two or more
// times), the table rows, and whether the failed-units banner shows.
const checkPage = `<!DOCTYPE html><html><body>
<iframe id="f" src="index.html" width="1280" height="2000"></iframe><pre id="r">pending</pre>
<script>
document.getElementById('f').onload = function () {
  var out = {charts: [], rows: 0, banner: false, errors: []};
  try {
    var d = this.contentDocument;
    out.banner = !!d.querySelector('.banner') && d.querySelector('.banner').getBoundingClientRect().height > 0;
    d.querySelectorAll('svg').forEach(function (s) {
      var w = s.width.baseVal.value, h = s.height.baseVal.value, c = {label: s.getAttribute('aria-label'), lines: 0};
      if (!(s.getBoundingClientRect().width > 0)) out.errors.push(c.label + ': chart not laid out');
      s.querySelectorAll('polyline').forEach(function (p) {
        c.lines++;
        var n = p.points.numberOfItems;
        for (var i = 0; i < n; i++) {
          var q = p.points.getItem(i);
          if (!(q.x >= 0 && q.y >= 0 && q.x <= w && q.y <= h)) { out.errors.push(c.label + ': point ' + i + ' outside the chart'); break; }
        }
        if (n > 1 && !(p.getBBox().width > 0)) out.errors.push(c.label + ': a line of ' + n + ' points has no width');
      });
      out.charts.push(c);
    });
    out.rows = d.querySelectorAll('tr').length;
  } catch (e) { out.errors.push(String(e)); }
  document.getElementById('r').textContent = JSON.stringify(out);
};
</script></body></html>`

// TestMergeHTMLInChromium renders archive merge's page in headless
// Chromium: one chart per collector with both lines inside it, every
// persistence and origin row, and the banner for the failed unit.
func TestMergeHTMLInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	bin := testutil.NeedTool(t, "chromium", "chromium")
	out := t.TempDir()
	if _, err := Run(context.Background(), fixtureUnits(t), RunOptions{Out: out, Shard: All, Workers: 2}); !errors.Is(err, ErrUnitsFailed) {
		t.Fatal(err)
	}
	res, err := Merge(out)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(out, DirMerged)
	check := filepath.Join(dir, "check.html")
	if err := os.WriteFile(check, []byte(checkPage), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--allow-file-access-from-files", "--user-data-dir="+filepath.Join(t.TempDir(), "profile"),
		"--virtual-time-budget=10000", "--dump-dom", "file://"+check)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	dom, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	m := regexp.MustCompile(`<pre id="r">([^<]*)</pre>`).FindSubmatch(dom)
	if m == nil || string(m[1]) == "pending" {
		t.Fatalf("the check did not run:\n%.2000s", dom)
	}
	var got struct {
		Charts []struct {
			Label string
			Lines int
		}
		Rows   int
		Banner bool
		Errors []string
	}
	if err := json.Unmarshal([]byte(html.UnescapeString(string(m[1]))), &got); err != nil {
		t.Fatalf("check result %q: %v", m[1], err)
	}
	for _, e := range got.Errors {
		t.Error(e)
	}
	collectors := map[string]bool{}
	for _, r := range res.Timeline {
		collectors[r.Collector] = true
	}
	if len(got.Charts) != len(collectors) {
		t.Errorf("%d charts laid out, want one per collector (%d)", len(got.Charts), len(collectors))
	}
	for _, c := range got.Charts {
		if c.Lines != 2 {
			t.Errorf("%s: %d lines, want 2 (invalid, unreachable)", c.Label, c.Lines)
		}
	}
	// Two header rows, then at most the page's top rows of each table.
	persist, origins := min(len(res.Persistence), htmlTop), min(len(res.Origins), htmlTop)
	if want := 2 + persist + origins; got.Rows != want {
		t.Errorf("%d table rows, want %d (2 headers, %d persistence, %d origins)", got.Rows, want, persist, origins)
	}
	if res.Failed+res.Missing > 0 && !got.Banner {
		t.Errorf("%d failed and %d missing units, but no banner is shown", res.Failed, res.Missing)
	}
}
