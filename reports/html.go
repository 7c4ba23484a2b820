package reports

import (
	"cmp"
	_ "embed"
	"fmt"
	"html"
	"html/template"
	"io"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rovimpact/rovimpact/classify"
)

//go:embed html/report.html.tmpl
var htmlTemplate string

//go:embed html/report.css
var htmlCSS string

//go:embed html/report.js
var htmlJS string

var htmlTmpl = template.Must(template.New("report").Funcs(template.FuncMap{"pct": pct}).Parse(htmlTemplate))

// HTMLDoc is what the HTML report shows: one report, and optionally the
// trend and invalid lifetimes from the history.
type HTMLDoc struct {
	Title     string
	Generated time.Time // zero: not shown (golden tests)
	Report    Report
	Trend     []TrendPoint  // oldest first; fewer than two points: no line drawn
	Lifetimes []LifetimeRow // from the history; nil: no section
	// ASPA adds the ASPA section (aspa_html.go); nil: none.
	ASPA *ASPAReport
}

// TrendPoint is one day of the history's trend chart.
type TrendPoint struct {
	Date        string `json:"date"`
	Invalid     int    `json:"invalid"`
	Dropped     int    `json:"dropped"`
	Unreachable int    `json:"unreachable"`
}

// LifetimeRow is one invalid route's life in the history (history.Lifetime
// is this type).
type LifetimeRow struct {
	Prefix    netip.Prefix `json:"prefix"`
	Origin    *uint32      `json:"origin"` // null: AS_SET
	FirstSeen time.Time    `json:"first_seen"`
	LastSeen  time.Time    `json:"last_seen"`
	Runs      int          `json:"runs"`    // runs it appeared in
	Current   bool         `json:"current"` // present in the latest run
	Class     string       `json:"class"`   // as of its last appearance
	Impact    string       `json:"impact"`  // as of its last appearance
}

// htmlFallbackRows is how many rows of each table are rendered into the
// page itself: what a reader with scripts off sees, and the first paint
// before the script takes over the table.
const htmlFallbackRows = 100

// htmlFold is how many ASNs or VRPs a cell shows before folding the rest
// behind a "+N more" that opens.
const htmlFold = 3

type htmlBanner struct {
	Level string // "bad" or "warn"
	Text  string
}

type htmlOrigin struct {
	Origin               string
	Invalid, Unreachable int
	C                    ClassCounts
}

type htmlLifetime struct {
	Prefix, Origin, First, Last, Current, Class, Impact string
	Runs                                                int
}

type htmlInput struct {
	Name, Skipped, Error string
	Records, Events      int64
	First, Last          string // record time range
}

// WriteHTML writes one self-contained HTML file: banners for partial, empty
// or stale input, summary cards, inline SVG charts drawn here (so they show
// even with scripts off), the inputs, and the invalid route, origin, peer
// and lifetime tables. The rows are embedded once as compressed column data
// (see html_data.go) that a small script pages, sorts and filters across
// all rows; the first htmlFallbackRows rows of each big table are also
// rendered here for readers without scripts. Nothing is fetched from the
// network: it works offline and as a mail attachment.
func WriteHTML(w io.Writer, doc HTMLDoc) error {
	s := doc.Report.Summary
	data := struct {
		Title, Generated, MadeBy            string
		VRPSources, RecordSpan              string
		S                                   Summary
		CSS                                 template.CSS
		JS                                  template.JS
		Data                                template.HTML
		ClassChart, ImpactChart, TrendChart template.HTML
		Banners                             []htmlBanner
		Inputs                              []htmlInput
		VRPFiles                            []string
		Invalids                            []template.HTML
		Origins                             []htmlOrigin
		Peers                               []PeerRow
		Lifetimes                           []htmlLifetime
		VRPAge                              string
		HasLifetimes                        bool
		NInvalids, NOrigins, NLifetimes     int
		ASPA                                *htmlASPA
	}{
		Title: doc.Title, S: s, CSS: template.CSS(htmlCSS), JS: template.JS(htmlJS),
		VRPAge: VRPAge(s.VRPs), VRPSources: VRPSourceTimes(s.VRPs), RecordSpan: RecordSpan(s.Inputs),
		ClassChart: barChart("chart-classes", []bar{
			{"too_specific", s.Classes.TooSpecific, "#1f6feb"}, {"wrong_origin", s.Classes.WrongOrigin, "#8250df"},
			{"both", s.Classes.Both, "#bf3989"}, {"too_short", s.Classes.TooShort, "#9a6700"}, {"as_set", s.Classes.ASSet, "#57606a"}}),
		ImpactChart: barChart("chart-impact", []bar{
			{"same_prefix", s.Impact.SamePrefix, "#1a7f37"}, {"covered", s.Impact.Covered, "#2da44e"},
			{"more_specifics", s.Impact.MoreSpecifics, "#bf8700"}, {"unreachable", s.Impact.Unreachable, "#b42318"}}),
		TrendChart: trendChart("chart-trend", doc.Trend),
		Banners:    htmlBanners(s), VRPFiles: s.VRPs.Files, Peers: doc.Report.Peers,
		HasLifetimes: doc.Lifetimes != nil, ASPA: newHTMLASPA(doc.ASPA),
		NInvalids: len(doc.Report.Invalids), NOrigins: len(doc.Report.Origins), NLifetimes: len(doc.Lifetimes),
	}
	if data.Title == "" {
		data.Title = "rovimpact: what ROV would drop"
	}
	if s.Generated.Tool != "" {
		data.MadeBy = s.Generated.Tool + " " + s.Generated.Version
		if s.Generated.Revision != "" {
			data.MadeBy += " (" + s.Generated.Revision + ")"
		}
	}
	if !doc.Generated.IsZero() {
		data.Generated = doc.Generated.UTC().Format(time.RFC3339)
	}
	for _, in := range s.Inputs {
		data.Inputs = append(data.Inputs, htmlInput{Name: in.Name, Records: in.Records, Events: in.Routes, Skipped: reasonList(in.Skipped), Error: in.Error,
			First: timeText(in.FirstRecord), Last: timeText(in.LastRecord)})
	}
	for _, i := range defaultOrder(doc.Report.Invalids)[:min(htmlFallbackRows, len(doc.Report.Invalids))] {
		data.Invalids = append(data.Invalids, invalidRowHTML(doc.Report.Invalids[i]))
	}
	for _, o := range doc.Report.Origins[:min(htmlFallbackRows, len(doc.Report.Origins))] {
		data.Origins = append(data.Origins, htmlOrigin{Origin: asLabel(o.Origin), Invalid: o.Invalid, Unreachable: o.Unreachable, C: o.Classes})
	}
	for _, l := range doc.Lifetimes[:min(htmlFallbackRows, len(doc.Lifetimes))] {
		cur := "no"
		if l.Current {
			cur = "yes"
		}
		data.Lifetimes = append(data.Lifetimes, htmlLifetime{Prefix: l.Prefix.String(),
			Origin: asLabel(l.Origin), First: l.FirstSeen.UTC().Format(time.RFC3339), Last: l.LastSeen.UTC().Format(time.RFC3339),
			Current: cur, Class: l.Class, Impact: l.Impact, Runs: l.Runs})
	}
	var enc strings.Builder
	if err := encodeHTMLData(&enc, newHTMLData(doc.Report, doc.Lifetimes, doc.ASPA)); err != nil {
		return err
	}
	data.Data = template.HTML(enc.String()) // base64 and newlines only
	return htmlTmpl.Execute(w, data)
}

// htmlBanners says loudly, at the top of the page, what makes the figures
// partial or doubtful: an input that ended in an error (inputs[].error),
// no routes, no VRPs, expired VRPs, unvalidated local routes.
func htmlBanners(s Summary) []htmlBanner {
	var b []htmlBanner
	for _, in := range s.Inputs {
		if l := LossOf(in); l != nil {
			b = append(b, htmlBanner{"bad", "Partial input: " + l.Describe(in.Name) + ". The figures cover only what was read before the damage."})
		} else if in.Error != "" {
			b = append(b, htmlBanner{"bad", fmt.Sprintf("Partial input: %s: %s. The figures cover only what was read before the error.", in.Name, in.Error)})
		}
	}
	if s.Routes == 0 {
		b = append(b, htmlBanner{"bad", "No routes were read: there is nothing to judge. Check the route inputs below."})
	}
	if s.VRPs.Loaded == 0 {
		b = append(b, htmlBanner{"bad", "No VRPs loaded: every route is not_found and ROV would drop nothing. Check the VRP source."})
	}
	if v := s.VRPs; v.Expired > 0 {
		what := "kept, as the export had them (--drop-expired drops them)"
		if v.DroppedExpired > 0 {
			what = "dropped (--drop-expired)"
		}
		b = append(b, htmlBanner{"warn", fmt.Sprintf("Stale VRPs: %d of %d VRPs had expired before this analysis and were %s. "+
			"A current export may give a different answer.", v.Expired, v.Read, what)})
	}
	if s.Unvalidated > 0 {
		b = append(b, htmlBanner{"warn", fmt.Sprintf("%d routes not validated: their origin is the local AS (give --local-as).", s.Unvalidated)})
	}
	return b
}

// asLabel is "AS64500", or "AS_SET" for origin NONE.
func asLabel(o *uint32) string {
	if o == nil {
		return "AS_SET"
	}
	return "AS" + originString(o, "")
}

func reasonList(m map[string]int64) string {
	parts := make([]string, 0, len(m))
	for k, v := range m {
		parts = append(parts, fmt.Sprintf("%s %d", k, v))
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

// defaultOrder is the order the invalid routes table opens in, as the
// text report's: worst impact first, then most paths, then report order.
// report.js sorts the same way (rovimpact.defaultOrder).
//
// It sorts one packed key per row, the row index breaking ties (so the
// order is the stable sort's), instead of comparing the rows themselves:
// a full table has ~100k invalid rows of ~170 bytes, and a stable sort
// that moves or copies them was a twentieth of analyze's CPU time.
func defaultOrder(invs []Invalid) []int {
	type ranked struct {
		k uint64 // severity descending, then paths descending
		i int
	}
	rs := make([]ranked, len(invs))
	for i := range invs {
		inv := &invs[i]
		sev := uint64(min(max(inv.Impact.Severity(), 0), 255))
		rs[i] = ranked{k: (255-sev)<<32 | uint64(^inv.Paths), i: i}
	}
	slices.SortFunc(rs, func(a, b ranked) int {
		if a.k != b.k {
			return cmp.Compare(a.k, b.k)
		}
		return cmp.Compare(a.i, b.i)
	})
	idx := make([]int, len(rs))
	for j, r := range rs {
		idx[j] = r.i
	}
	return idx
}

// invalidRowHTML renders one row of the invalid routes table. report.js
// renders the same cells (invalidRow) for every other page; the browser
// test checks that both give the same text.
func invalidRowHTML(inv Invalid) template.HTML {
	var b strings.Builder
	e := html.EscapeString
	b.WriteString("<tr><td>" + e(inv.Prefix.String()) + "</td><td>")
	if inv.Origin == nil {
		strs := make([]string, len(inv.ASSet))
		for i, a := range inv.ASSet {
			strs[i] = strconv.FormatUint(uint64(a), 10)
		}
		b.WriteString("AS_SET {")
		foldHTML(&b, strs, ", ", "}")
	} else {
		b.WriteString("AS" + originString(inv.Origin, ""))
	}
	b.WriteString(`</td><td><span class="tag c-` + e(inv.Class.String()) + `">` + e(inv.Class.String()) + "</span>")
	if inv.AS0 {
		b.WriteString(` <span class="mark">AS0</span>`)
	}
	b.WriteString("</td><td>")
	switch {
	case !inv.Dropped:
		b.WriteString(`<span class="tag i-kept">kept (policy)</span>`)
	case inv.Impact != classify.ImpactNone:
		b.WriteString(`<span class="tag i-` + e(inv.Impact.String()) + `">` + e(inv.Impact.String()) + "</span>")
	}
	fmt.Fprintf(&b, `</td><td class="num">%d</td><td class="num">%d</td><td>`, inv.Paths, inv.Peers)
	if c := inv.Cover; c != nil {
		strs := make([]string, len(c.Origins))
		for i, a := range c.Origins {
			strs[i] = "AS" + strconv.FormatUint(uint64(a), 10)
		}
		b.WriteString(e(c.Prefix.String()) + " ")
		foldHTML(&b, strs, " ", "")
		b.WriteString(" (" + e(c.State.String()) + ")")
		if c.OtherOrigin {
			b.WriteString(` <span class="mark other" title="no route at the cover has this route's origin AS">other AS</span>`)
		}
	}
	b.WriteString(`</td><td class="num">`)
	if inv.CoveredShare > 0 {
		fmt.Fprintf(&b, "%d%%", int(math.Floor(100*inv.CoveredShare+0.5)))
	}
	b.WriteString(`</td><td class="vrps">`)
	strs := make([]string, len(inv.VRPs))
	for i, v := range inv.VRPs {
		strs[i] = vrpList([]VRPRef{v}, "")
	}
	foldHTML(&b, strs, "<br>", "")
	b.WriteString("</td></tr>\n")
	return template.HTML(b.String())
}

// foldHTML writes the first htmlFold items joined by sep, then end (after
// ", …" when items are folded), and folds the rest behind a <details> that
// opens ("+38 more"): a long AS_SET or VRP list no longer widens its column
// or makes a row hundreds of pixels tall. When only one item would be
// folded it is shown instead.
func foldHTML(b *strings.Builder, items []string, sep, end string) {
	shown := items
	if len(items) > htmlFold+1 {
		shown = items[:htmlFold]
	}
	for i, s := range shown {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(html.EscapeString(s))
	}
	if len(shown) == len(items) {
		b.WriteString(end)
		return
	}
	if end != "" {
		b.WriteString(", …" + end)
	}
	fmt.Fprintf(b, `<details class="more"><summary>+%d more</summary>`, len(items)-len(shown))
	for i, s := range items[len(shown):] {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(html.EscapeString(s))
	}
	b.WriteString("</details>")
}

type bar struct {
	label string
	n     int
	color string
}

const chartW, chartH = 420, 220

// barChart draws labelled vertical bars as inline SVG.
func barChart(id string, bars []bar) template.HTML {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" id="%s" viewBox="0 0 %d %d" role="img">`, id, chartW, chartH)
	maxN := 0
	for _, x := range bars {
		maxN = max(maxN, x.n)
	}
	left, bottom, top := 10, chartH-30, 20
	slot := (chartW - 2*left) / len(bars)
	fmt.Fprintf(&b, `<line class="axis" x1="%d" y1="%d" x2="%d" y2="%d"/>`, left, bottom, chartW-left, bottom)
	for i, x := range bars {
		h := 0
		if maxN > 0 {
			h = x.n * (bottom - top) / maxN
		}
		if x.n > 0 && h < 1 {
			h = 1
		}
		bx := left + i*slot + slot/6
		bw := slot * 2 / 3
		fmt.Fprintf(&b, `<rect class="bar" x="%d" y="%d" width="%d" height="%d" fill="%s"><title>%s: %d</title></rect>`,
			bx, bottom-h, bw, h, x.color, html.EscapeString(x.label), x.n)
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">%d</text>`, bx+bw/2, bottom-h-4, x.n)
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">%s</text>`, bx+bw/2, bottom+16, html.EscapeString(x.label))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// trendChart draws invalid, dropped and unreachable counts per day as
// lines. With no history it says so instead of drawing an empty frame.
func trendChart(id string, pts []TrendPoint) template.HTML {
	var b strings.Builder
	if len(pts) == 0 {
		fmt.Fprintf(&b, `<div class="nodata" id="%s">No history: run analyze --history FILE.db nightly, then history --format html.</div>`, id)
		return template.HTML(b.String())
	}
	fmt.Fprintf(&b, `<svg class="chart" id="%s" viewBox="0 0 %d %d" role="img">`, id, chartW, chartH)
	left, right, top, bottom := 40, chartW-10, 20, chartH-40
	maxN := 1
	for _, p := range pts {
		maxN = max(maxN, p.Invalid, p.Dropped, p.Unreachable)
	}
	x := func(i int) int {
		if len(pts) == 1 {
			return (left + right) / 2
		}
		return left + i*(right-left)/(len(pts)-1)
	}
	y := func(n int) int { return bottom - n*(bottom-top)/maxN }
	fmt.Fprintf(&b, `<line class="axis" x1="%d" y1="%d" x2="%d" y2="%d"/>`, left, bottom, right, bottom)
	fmt.Fprintf(&b, `<line class="axis" x1="%d" y1="%d" x2="%d" y2="%d"/>`, left, top, left, bottom)
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%d</text><text x="%d" y="%d" text-anchor="end">0</text>`, left-4, top+4, maxN, left-4, bottom)
	series := []struct {
		name  string
		color string
		get   func(TrendPoint) int
	}{
		{"invalid", "#8250df", func(p TrendPoint) int { return p.Invalid }},
		{"dropped", "#bf8700", func(p TrendPoint) int { return p.Dropped }},
		{"unreachable", "#b42318", func(p TrendPoint) int { return p.Unreachable }},
	}
	for si, s := range series {
		var coords []string
		for i, p := range pts {
			coords = append(coords, strconv.Itoa(x(i))+","+strconv.Itoa(y(s.get(p))))
		}
		fmt.Fprintf(&b, `<polyline class="line" fill="none" stroke="%s" stroke-width="2" points="%s"/>`, s.color, strings.Join(coords, " "))
		for i, p := range pts {
			fmt.Fprintf(&b, `<circle class="pt" cx="%d" cy="%d" r="3" fill="%s"><title>%s %s: %d</title></circle>`,
				x(i), y(s.get(p)), s.color, html.EscapeString(p.Date), s.name, s.get(p))
		}
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="10" height="10" fill="%s"/><text x="%d" y="%d">%s</text>`,
			left+si*110, chartH-14, s.color, left+si*110+14, chartH-5, s.name)
	}
	// Date labels: first and last, so they never overlap.
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="start">%s</text>`, x(0), bottom+14, html.EscapeString(pts[0].Date))
	if len(pts) > 1 {
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`, x(len(pts)-1), bottom+14, html.EscapeString(pts[len(pts)-1].Date))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// timeText is t in RFC 3339, or "" for nil.
func timeText(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
