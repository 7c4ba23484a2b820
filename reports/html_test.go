package reports

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/rov"
)

var updateHTML = flag.Bool("update", false, "rewrite the golden files under testdata/ (html, golden)")

// sampleReport is analyze's JSON report on the shipped sample (every class
// and impact appears), read from the analyze golden file.
func sampleReport(t testing.TB) Report {
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

// syntheticReport is a seeded random report of n invalid routes shaped
// like a full table's worst cases: AS_SETs of up to 40 ASNs, too_short
// routes citing up to 45 VRPs, covers with several origins and the
// other-AS mark, routes kept by policy, IPv4 and IPv6, in the report's
// prefix order.
func syntheticReport(n int, seed uint64) Report {
	r := rand.New(rand.NewPCG(seed, 1))
	classes := []classify.Class{classify.TooSpecific, classify.WrongOrigin, classify.Both, classify.TooShort, classify.ASSet}
	impacts := []classify.Impact{classify.SamePrefix, classify.Covered, classify.MoreSpecifics, classify.Unreachable}
	prefix := func() netip.Prefix {
		if r.IntN(5) == 0 {
			var a [16]byte
			a[0], a[1], a[2], a[3], a[4] = 0x20, 0x01, byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))
			return netip.PrefixFrom(netip.AddrFrom16(a), 32+r.IntN(17)).Masked()
		}
		return netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(1 + r.IntN(222)), byte(r.IntN(256)), byte(r.IntN(256)), 0}), 8+r.IntN(17)).Masked()
	}
	asns := func(k int) []uint32 {
		s := make([]uint32, k)
		for i := range s {
			s[i] = uint32(1 + r.IntN(400000))
		}
		return s
	}
	seen := map[netip.Prefix]bool{}
	var rep Report
	for len(rep.Invalids) < n {
		p := prefix()
		if seen[p] {
			continue
		}
		seen[p] = true
		inv := Invalid{Prefix: p, ASSet: []uint32{}, State: classify.StateInvalid, Class: classes[r.IntN(len(classes))],
			Paths: uint32(1 + r.IntN(60)), Peers: 1 + r.IntN(35), Dropped: r.IntN(50) != 0, VRPs: []VRPRef{}}
		if inv.Class == classify.ASSet {
			inv.ASSet = asns(1 + r.IntN(40))
		} else {
			o := uint32(1 + r.IntN(400000))
			inv.Origin = &o
		}
		nv := 1 + r.IntN(3)
		if inv.Class == classify.TooShort {
			nv = 1 + r.IntN(45)
		}
		for range nv {
			inv.VRPs = append(inv.VRPs, VRPRef{Prefix: netip.PrefixFrom(p.Addr(), max(0, p.Bits()-r.IntN(3))).Masked(),
				MaxLength: uint8(p.Bits() - r.IntN(2)), ASN: uint32(r.IntN(400000))})
		}
		inv.AS0 = inv.VRPs[0].ASN == 0
		if inv.Dropped {
			inv.Impact = impacts[r.IntN(len(impacts))]
			switch inv.Impact {
			case classify.SamePrefix, classify.Covered:
				inv.Cover = &Cover{Prefix: netip.PrefixFrom(p.Addr(), max(0, p.Bits()-r.IntN(4))).Masked(), Origins: asns(1 + r.IntN(6)),
					State: []rov.State{rov.Valid, rov.NotFound}[r.IntN(2)], OtherOrigin: r.IntN(2) == 0}
			case classify.MoreSpecifics:
				inv.CoveredShare = []float64{1, 0.5, 0.25, 0.125, 0.375}[r.IntN(5)]
			case classify.Unreachable:
				if r.IntN(10) == 0 {
					inv.CoveredShare = 0.125
				}
			}
		}
		rep.Invalids = append(rep.Invalids, inv)
	}
	slices.SortFunc(rep.Invalids, func(x, y Invalid) int { return rov.ComparePrefix(x.Prefix, y.Prefix) })
	rep.Origins = originRows(rep.Invalids)
	rep.Summary.Invalid, rep.Summary.Routes, rep.Summary.VRPs.Loaded = n, 3*n, 1000
	rep.Summary.Families = []Family{{Family: "ipv4"}, {Family: "ipv6"}}
	rep.Peers = []PeerRow{{AS: 64500, IP: netip.MustParseAddr("192.0.2.1"), Routes: 3 * n, Dropped: n, Unreachable: n / 2},
		{AS: 64501, IP: netip.MustParseAddr("2001:db8::1"), Routes: n, Dropped: n / 3, Unreachable: 7}}
	return rep
}

func writeHTML(t testing.TB, doc HTMLDoc) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteHTML(&buf, doc); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestHTMLSelfContained: the file references nothing outside itself, holds
// every chart, the first rows of each table rendered for readers without
// scripts, and the per-peer section only when the report has peers.
func TestHTMLSelfContained(t *testing.T) {
	rep := sampleReport(t)
	out := string(writeHTML(t, HTMLDoc{Report: rep, Trend: sampleTrend}))
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
	inputs := len(rep.Summary.Inputs)
	markup, _, _ := strings.Cut(out, "<script")
	if n, want := strings.Count(markup, "<tr"), 3+inputs+len(rep.Invalids)+len(rep.Origins); n != want {
		t.Errorf("%d table rows, want %d (3 headers, %d inputs, %d invalids, %d origins)", n, want, inputs, len(rep.Invalids), len(rep.Origins))
	}
	if strings.Contains(out, `id="peers"`) {
		t.Error("per-peer section without peer rows")
	}
	if strings.Contains(out, `id="generated"`) {
		t.Error("generation time shown for a zero HTMLDoc.Generated")
	}
	// No history: a note, not an empty chart.
	if out := string(writeHTML(t, HTMLDoc{Report: rep})); !strings.Contains(out, "No history") {
		t.Error("no-trend note missing")
	}
	// --per-peer: one row per peer; a generation time when given.
	rep.Peers = []PeerRow{{AS: 64500, IP: netip.MustParseAddr("192.0.2.1"), Routes: 10, Dropped: 3, Unreachable: 1}}
	gen := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	out = string(writeHTML(t, HTMLDoc{Report: rep, Generated: gen}))
	if !regexp.MustCompile(`id="peers">\n.*\n<tbody>\n<tr><td class="num">64500</td><td>192.0.2.1</td><td class="num">10</td><td class="num">3</td><td class="num">1</td></tr>`).MatchString(out) {
		t.Error("per-peer section missing or wrong")
	}
	if !strings.Contains(out, `<time id="generated" datetime="2026-12-02T09:00:00Z">2026-12-02T09:00:00Z</time>`) {
		t.Error("generation time missing")
	}
}

// TestHTMLFallbackRows: a big report renders only the first rows into the
// page, worst impact first (the text report's order), and the size grows
// with the data, not with rendered markup.
func TestHTMLFallbackRows(t *testing.T) {
	rep := syntheticReport(5000, 1)
	out := string(writeHTML(t, HTMLDoc{Report: rep}))
	body := regexp.MustCompile(`(?s)<table class="paged" id="invalids"[^>]*>.*?<tbody>(.*?)</tbody>`).FindStringSubmatch(out)
	if body == nil {
		t.Fatal("no invalids table")
	}
	rows := strings.Count(body[1], "<tr>")
	if rows != htmlFallbackRows {
		t.Errorf("%d rendered rows, want %d", rows, htmlFallbackRows)
	}
	order := defaultOrder(rep.Invalids)
	for k := 1; k < len(order); k++ {
		x, y := rep.Invalids[order[k-1]], rep.Invalids[order[k]]
		if x.Impact.Severity() < y.Impact.Severity() || x.Impact == y.Impact && x.Paths < y.Paths {
			t.Fatalf("default order: row %d (%s %d paths) before %s %d paths", k, x.Impact, x.Paths, y.Impact, y.Paths)
		}
	}
	if first := rep.Invalids[order[0]]; !strings.HasPrefix(body[1], "\n<tr><td>"+first.Prefix.String()+"</td>") {
		t.Errorf("first rendered row is not %s", first.Prefix)
	}
	if n := strings.Count(out, `<tr><td>`); n > 2*htmlFallbackRows+10 {
		t.Errorf("%d rendered rows in all: the big tables must not be rendered whole", n)
	}
}

// TestHTMLRoundTrip: the rows embedded in the page are the report's rows,
// every field (what ReadHTMLRows gives a parity test), on the sample and on
// a synthetic report with every shape of row.
func TestHTMLRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		rep  Report
	}{
		{"sample", sampleReport(t)},
		{"synthetic", syntheticReport(3000, 2)},
		{"empty", Report{Invalids: []Invalid{}, Origins: []OriginRow{}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page := writeHTML(t, HTMLDoc{Report: tc.rep})
			got, err := ReadHTMLRows(bytes.NewReader(page))
			if err != nil {
				t.Fatal(err)
			}
			want, _ := json.Marshal(tc.rep.Invalids)
			have, _ := json.Marshal(got)
			if !bytes.Equal(want, have) {
				t.Errorf("rows read back differ from the report's:\ngot  %.600s\nwant %.600s", have, want)
			}
			if len(got) != len(tc.rep.Invalids) {
				t.Errorf("%d rows, want %d", len(got), len(tc.rep.Invalids))
			}
		})
	}
}

// TestReadHTMLRowsErrors: a page that is not a rovimpact report, or whose
// data is damaged or refers to entries that are not there, is an error
// naming what is wrong, never a panic or a short list.
func TestReadHTMLRowsErrors(t *testing.T) {
	good := string(writeHTML(t, HTMLDoc{Report: sampleReport(t)}))
	block := func(d htmlData) string {
		var b strings.Builder
		if err := encodeHTMLData(&b, d); err != nil {
			t.Fatal(err)
		}
		return htmlDataRE.ReplaceAllLiteralString(good, `<script type="application/octet-stream" id="rovimpact-data" data-encoding="gzip+base64" data-version="1">`+b.String()+`</script>`)
	}
	d := newHTMLData(sampleReport(t), nil, nil)
	badVRP := d
	badVRP.Invalids.VRPs = slices.Clone(d.Invalids.VRPs)
	badVRP.Invalids.VRPs[0] = []int{len(d.VRPs.Prefix)}
	badCover := d
	badCover.Invalids.Cover = slices.Clone(d.Invalids.Cover)
	badCover.Invalids.Cover[0] = len(d.Covers.Prefix)
	badClass := d
	badClass.Invalids.Class = slices.Clone(d.Invalids.Class)
	badClass.Invalids.Class[1] = 99
	short := d
	short.Invalids.Paths = d.Invalids.Paths[1:]
	for _, tc := range []struct {
		name, page, want string
	}{
		{"not a report", "<html><body>hello</body></html>", "no <script"},
		{"other version", strings.Replace(good, `data-version="1"`, `data-version="2"`, 1), "data version 2"},
		{"bad base64", htmlDataRE.ReplaceAllLiteralString(good, `<script type="application/octet-stream" id="rovimpact-data" data-encoding="gzip+base64" data-version="1">!!!!</script>`), "illegal base64"},
		{"not gzip", htmlDataRE.ReplaceAllLiteralString(good, `<script type="application/octet-stream" id="rovimpact-data" data-encoding="gzip+base64" data-version="1">aGVsbG8gd29ybGQ=</script>`), "gzip"},
		{"vrp out of range", block(badVRP), "invalids row 0: vrp"},
		{"cover out of range", block(badCover), "invalids row 0: cover"},
		{"class out of range", block(badClass), "invalids row 1: class 99"},
		{"column too short", block(short), "invalids.paths has"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := ReadHTMLRows(strings.NewReader(tc.page))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v (%d rows), want one containing %q", err, len(rows), tc.want)
			}
		})
	}
}

// FuzzReadHTMLRows: whatever the page, ReadHTMLRows returns rows or an
// error without panicking; rows it accepts survive WriteHTML unchanged.
func FuzzReadHTMLRows(f *testing.F) {
	f.Add(writeHTML(f, HTMLDoc{Report: sampleReport(f)}))        // the shipped sample
	f.Add(writeHTML(f, HTMLDoc{Report: syntheticReport(20, 3)})) // AS_SETs, long VRP lists
	f.Add([]byte(`<script type="application/octet-stream" id="rovimpact-data" data-encoding="gzip+base64" data-version="1">H4sIAAAAAAAA/w==</script>`))
	f.Fuzz(func(t *testing.T, page []byte) {
		rows, err := ReadHTMLRows(bytes.NewReader(page))
		if err != nil {
			return
		}
		again, err := ReadHTMLRows(bytes.NewReader(writeHTML(t, HTMLDoc{Report: Report{Invalids: rows}})))
		if err != nil {
			t.Fatalf("rows read from a page do not survive WriteHTML: %v", err)
		}
		a, _ := json.Marshal(rows)
		b, _ := json.Marshal(again)
		if !bytes.Equal(a, b) {
			t.Fatalf("round trip changed the rows:\n%s\n%s", a, b)
		}
	})
}

// TestHTMLBanners: partial, empty or stale input is said at the top of the
// page, one banner per problem (inputs[].error is the partial-input field
// of the JSON report).
func TestHTMLBanners(t *testing.T) {
	ok := Summary{Routes: 10, VRPs: VRPSummary{Loaded: 5, Read: 5}}
	for _, tc := range []struct {
		name string
		edit func(*Summary)
		want []string
	}{
		{"clean input: no banner", func(*Summary) {}, nil},
		{"truncated MRT file", func(s *Summary) {
			s.Inputs = []Input{{Name: "a.mrt"}, {Name: "rib.bz2", Error: "record 12 at offset 4096: unexpected EOF"}}
		}, []string{"bad: Partial input: rib.bz2: truncated: 0 routes read from 0 records; what followed the cut is unknown (record 12 at offset 4096: unexpected EOF)."}},
		{"no routes", func(s *Summary) { s.Routes = 0 }, []string{"bad: No routes were read"}},
		{"no VRPs", func(s *Summary) { s.VRPs.Loaded, s.VRPs.Read = 0, 0 }, []string{"bad: No VRPs loaded"}},
		{"expired VRPs kept", func(s *Summary) { s.VRPs.Expired = 5 }, []string{"warn: Stale VRPs: 5 of 5 VRPs had expired before this analysis and were kept"}},
		{"expired VRPs dropped", func(s *Summary) { s.VRPs.Expired, s.VRPs.DroppedExpired, s.VRPs.Loaded = 2, 2, 3 },
			[]string{"warn: Stale VRPs: 2 of 5 VRPs had expired before this analysis and were dropped"}},
		{"local origin", func(s *Summary) { s.Unvalidated = 2 }, []string{"warn: 2 routes not validated"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := ok
			tc.edit(&s)
			got := htmlBanners(s)
			if len(got) != len(tc.want) {
				t.Fatalf("banners %+v, want %d", got, len(tc.want))
			}
			for i, b := range got {
				if line := b.Level + ": " + b.Text; !strings.HasPrefix(line, tc.want[i]) {
					t.Errorf("banner %q, want it to start with %q", line, tc.want[i])
				}
			}
			out := string(writeHTML(t, HTMLDoc{Report: Report{Summary: s}}))
			if n := strings.Count(out, `<div class="banner `); n != len(tc.want) {
				t.Errorf("%d banners in the page, want %d", n, len(tc.want))
			}
		})
	}
}

// TestFoldHTML: a long list shows its first items and "+N more" that
// opens to the rest; folding a single item would save nothing.
func TestFoldHTML(t *testing.T) {
	items := func(n int) []string {
		s := make([]string, n)
		for i := range s {
			s[i] = fmt.Sprint(64500 + i)
		}
		return s
	}
	for _, tc := range []struct {
		n    int
		want string
	}{
		{0, ``},
		{3, `64500, 64501, 64502`},
		{4, `64500, 64501, 64502, 64503`},
		{5, `64500, 64501, 64502<details class="more"><summary>+2 more</summary>64503, 64504</details>`},
		{41, `64500, 64501, 64502<details class="more"><summary>+38 more</summary>64503, `},
	} {
		var b strings.Builder
		foldHTML(&b, items(tc.n), ", ", "")
		if !strings.HasPrefix(b.String(), tc.want) || tc.n < 41 && b.String() != tc.want {
			t.Errorf("%d items: %q, want %q", tc.n, b.String(), tc.want)
		}
	}
	// The other-AS mark and the AS_SET fold in a rendered row.
	o := uint32(64500)
	row := string(invalidRowHTML(Invalid{Prefix: netip.MustParsePrefix("192.0.2.0/24"), Origin: &o, Class: classify.WrongOrigin, Dropped: true, Impact: classify.Covered,
		Cover: &Cover{Prefix: netip.MustParsePrefix("192.0.0.0/16"), Origins: []uint32{64501}, State: rov.Valid, OtherOrigin: true}}))
	if !strings.Contains(row, `192.0.0.0/16 AS64501 (valid) <span class="mark other"`) {
		t.Errorf("cover cell lacks the other-AS mark: %s", row)
	}
	row = string(invalidRowHTML(Invalid{Prefix: netip.MustParsePrefix("192.0.2.0/24"), ASSet: []uint32{1, 2, 3, 4, 5, 6}, Class: classify.ASSet, Dropped: true, Impact: classify.Unreachable}))
	if !strings.Contains(row, `<td>AS_SET {1, 2, 3, …}<details class="more"><summary>+3 more</summary>4, 5, 6</details></td>`) {
		t.Errorf("AS_SET cell not folded: %s", row)
	}
}

// TestHTMLGolden pins the page Go writes for the sample (go test -update
// rewrites testdata/html/sample.html.golden).
func TestHTMLGolden(t *testing.T) {
	rep := sampleReport(t)
	rep.Summary.Inputs = append(rep.Summary.Inputs, Input{Name: "cut.mrt", Records: 3, Routes: 5, Error: "record 4 at offset 180: unexpected EOF"})
	got := writeHTML(t, HTMLDoc{Title: "rovimpact sample", Report: rep, Trend: sampleTrend})
	path := filepath.Join("testdata", "html", "sample.html.golden")
	if *updateHTML {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("HTML differs from %s (go test -update rewrites it)", path)
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

type selfCheck struct {
	OK            bool     `json:"ok"`
	Errors        []string `json:"errors"`
	Classes       int      `json:"chart-classes"`
	Impact        int      `json:"chart-impact"`
	Trend         int      `json:"chart-trend"`
	Banners       []string `json:"banners"`
	PrintRules    int      `json:"print_rules"`
	InvalidRows   int      `json:"invalid_rows"`
	FallbackRows  int      `json:"fallback_rows"`
	FallbackSame  bool     `json:"fallback_same"`
	Pages         int      `json:"pages"`
	PagedRows     int      `json:"paged_rows"`
	Sorted        bool     `json:"sorted"`
	SortedPrefix  bool     `json:"sorted_prefix"`
	FilteredRows  int      `json:"filtered_rows"`
	FilterLastRow bool     `json:"filter_last_row"`
	OtherASRows   int      `json:"other_as_rows"`
	MostVRPs      int      `json:"most_vrps"`
	FoldSummary   string   `json:"fold_summary"`
	FoldOpens     bool     `json:"fold_opens"`
	PrintOpens    bool     `json:"print_opens"`
	OriginRows    int      `json:"origin_rows"`
	LifetimeRows  int      `json:"lifetime_rows"`
	ASPAPathRows  int      `json:"aspa_path_rows"`
	ASPALost      int      `json:"aspa_lost"`
}

// runSelfCheck opens page#selfcheck in headless Chromium and returns the
// verdict the page's own script wrote into the DOM.
func runSelfCheck(t *testing.T, chromium, page string) selfCheck {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+filepath.Join(t.TempDir(), "profile"), "--window-size=1280,2000",
		"--virtual-time-budget=30000", "--dump-dom", "file://"+page+"#selfcheck")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	dom, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	m := regexp.MustCompile(`<pre id="selfcheck" data-ok="(\w+)">([^<]*)</pre>`).FindSubmatch(dom)
	if m == nil {
		t.Fatalf("self-check did not run (no result in the DOM):\n%.2000s", dom)
	}
	var res selfCheck
	if err := json.Unmarshal(m[2], &res); err != nil {
		t.Fatalf("self-check result %q: %v", m[2], err)
	}
	if !res.OK || string(m[1]) != "true" {
		t.Errorf("self-check failed: %v", res.Errors)
	}
	return res
}

// TestHTMLInChromium renders reports in headless Chromium and reads back
// the verdict of the page's own self-check (#selfcheck): charts have marks
// and a size; the script's first page is the page Go rendered; paging
// shows every row once; sorting and filtering work across all rows; a long
// VRP list is folded behind "+N more" that opens; the banners and the print
// stylesheet are there. ROVIMPACT_HTML_SCREENSHOT=file.png also saves a
// screenshot of the sample to look at.
func TestHTMLInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	chromium := chromiumPath(t)
	dir := t.TempDir()
	count := func(rep Report, f func(Invalid) bool) int {
		n := 0
		for _, inv := range rep.Invalids {
			if f(inv) {
				n++
			}
		}
		return n
	}
	synth := syntheticReport(2500, 4)
	var lifetimes []LifetimeRow
	for i, inv := range synth.Invalids[:250] {
		first := time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)
		lifetimes = append(lifetimes, LifetimeRow{Prefix: inv.Prefix, Origin: inv.Origin, FirstSeen: first, LastSeen: first.AddDate(0, 0, i%20),
			Runs: 1 + i%20, Current: i%3 == 0, Class: inv.Class.String(), Impact: inv.Impact.String()})
	}
	for _, tc := range []struct {
		name      string
		rep       Report
		lifetimes []LifetimeRow
		banners   int
	}{
		{"sample", sampleReport(t), nil, 0},
		{"synthetic 2500 rows, truncated input, history", func() Report {
			synth.Summary.Inputs = []Input{{Name: "rib.bz2", Error: "record 7 at offset 99: unexpected EOF"}}
			return synth
		}(), lifetimes, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page := filepath.Join(dir, strings.Fields(tc.name)[0]+".html")
			if err := os.WriteFile(page, writeHTML(t, HTMLDoc{Title: "rovimpact " + tc.name, Report: tc.rep, Trend: sampleTrend, Lifetimes: tc.lifetimes}), 0o644); err != nil {
				t.Fatal(err)
			}
			res := runSelfCheck(t, chromium, page)
			n := len(tc.rep.Invalids)
			unreachable := count(tc.rep, func(i Invalid) bool { return i.Dropped && i.Impact == classify.Unreachable })
			other := count(tc.rep, func(i Invalid) bool { return i.Cover != nil && i.Cover.OtherOrigin })
			most := 0
			for _, inv := range tc.rep.Invalids {
				most = max(most, len(inv.VRPs))
			}
			want := selfCheck{OK: true, Errors: []string{}, Classes: 5, Impact: 4, Trend: 3 + 9, PrintRules: 1, InvalidRows: n,
				FallbackRows: min(n, htmlFallbackRows), FallbackSame: true, Pages: (n + 99) / 100, PagedRows: n, Sorted: true, SortedPrefix: true,
				FilteredRows: unreachable, FilterLastRow: true, OtherASRows: other, MostVRPs: most,
				FoldSummary: fmt.Sprintf("+%d more", most-htmlFold), FoldOpens: true, PrintOpens: true, OriginRows: len(tc.rep.Origins), LifetimeRows: len(tc.lifetimes)}
			got := res
			got.Banners = nil
			if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
				t.Errorf("self-check:\ngot  %+v\nwant %+v", got, want)
			}
			if len(res.Banners) != tc.banners {
				t.Errorf("banners %q, want %d", res.Banners, tc.banners)
			}
			if tc.banners > 0 && !strings.Contains(res.Banners[0], "Partial input: rib.bz2") {
				t.Errorf("banner %q does not name the partial input", res.Banners[0])
			}
		})
	}
	// Scripts off: the summary, banners, charts and the first rows still
	// show. (Chromium's --dump-dom needs scripts itself, so the page is
	// loaded with its scripts cut out instead of with scripting disabled.)
	t.Run("scripts off", func(t *testing.T) {
		src, err := os.ReadFile(filepath.Join(dir, "synthetic.html"))
		if err != nil {
			t.Fatal(err)
		}
		noJS := filepath.Join(dir, "nojs.html")
		cut := regexp.MustCompile(`(?s)<script.*?</script>`).ReplaceAll(src, nil)
		if err := os.WriteFile(noJS, cut, 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync",
			"--user-data-dir="+filepath.Join(t.TempDir(), "profile"), "--dump-dom", "file://"+noJS)
		dom, err := cmd.Output()
		if err != nil {
			t.Fatalf("chromium: %v", err)
		}
		page := string(dom)
		body := regexp.MustCompile(`(?s)id="invalids"[^>]*>.*?<tbody>(.*?)</tbody>`).FindStringSubmatch(page)
		if body == nil || strings.Count(body[1], "<tr>") != htmlFallbackRows {
			t.Errorf("scripts off: the invalids table does not show its first %d rows", htmlFallbackRows)
		}
		for _, want := range []string{`<svg class="chart" id="chart-classes"`, `<svg class="chart" id="chart-impact"`, `class="banner bad"`,
			`<noscript><p class="note">Scripts are off: the first 100 of 2500 rows`, `id="summary"`, `<details class="more"><summary>+`} {
			if !strings.Contains(page, want) {
				t.Errorf("scripts off: page lacks %q", want)
			}
		}
	})
	if shot := os.Getenv("ROVIMPACT_HTML_SCREENSHOT"); shot != "" {
		abs, _ := filepath.Abs(shot)
		cmd := exec.Command(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir="+filepath.Join(dir, "shot"),
			"--window-size=1280,2000", "--virtual-time-budget=5000", "--screenshot="+abs, "file://"+filepath.Join(dir, "synthetic.html"))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("screenshot: %v\n%s", err, out)
		}
	}
}
