package reports

import (
	_ "embed"
	"encoding/hex"
	"fmt"
	"html"
	"html/template"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"
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
}

// TrendPoint is one day of the history's trend chart.
type TrendPoint struct {
	Date        string `json:"date"`
	Invalid     int    `json:"invalid"`
	Dropped     int    `json:"dropped"`
	Unreachable int    `json:"unreachable"`
}

// LifetimeRow is one invalid route's life in the history.
type LifetimeRow struct {
	Prefix    netip.Prefix
	Origin    *uint32
	FirstSeen time.Time
	LastSeen  time.Time
	Runs      int
	Current   bool
	Class     string
	Impact    string
}

type htmlInvalid struct {
	SortKey, Prefix, Origin, Class, Impact, Cover, ShareText, VRPs string
	Paths                                                          uint32
	Peers                                                          int
	Share                                                          float64
}

type htmlOrigin struct {
	Origin               string
	Invalid, Unreachable int
	C                    ClassCounts
}

type htmlLifetime struct {
	SortKey, Prefix, Origin, First, Last, Current, Class, Impact string
	Runs                                                         int
}

// WriteHTML writes one self-contained HTML file: summary cards, inline SVG
// charts drawn here (so they show even with scripts off), and the invalid
// and origin tables, which a few lines of embedded JavaScript make sortable
// and filterable. Nothing is fetched from the network: it works offline and
// as a mail attachment.
func WriteHTML(w io.Writer, doc HTMLDoc) error {
	s := doc.Report.Summary
	data := struct {
		Title, Generated                    string
		S                                   Summary
		CSS                                 template.CSS
		JS                                  template.JS
		ClassChart, ImpactChart, TrendChart template.HTML
		Invalids                            []htmlInvalid
		Origins                             []htmlOrigin
		Lifetimes                           []htmlLifetime
		Losses                              []string
		VRPAge                              string
	}{
		Title: doc.Title, S: s, CSS: template.CSS(htmlCSS), JS: template.JS(htmlJS),
		Losses: Losses(s), VRPAge: VRPAge(s.VRPs),
		ClassChart: barChart("chart-classes", []bar{
			{"too_specific", s.Classes.TooSpecific, "#1f6feb"}, {"wrong_origin", s.Classes.WrongOrigin, "#8250df"},
			{"both", s.Classes.Both, "#bf3989"}, {"too_short", s.Classes.TooShort, "#9a6700"}, {"as_set", s.Classes.ASSet, "#57606a"}}),
		ImpactChart: barChart("chart-impact", []bar{
			{"same_prefix", s.Impact.SamePrefix, "#1a7f37"}, {"covered", s.Impact.Covered, "#2da44e"},
			{"more_specifics", s.Impact.MoreSpecifics, "#bf8700"}, {"unreachable", s.Impact.Unreachable, "#b42318"}}),
		TrendChart: trendChart("chart-trend", doc.Trend),
	}
	if data.Title == "" {
		data.Title = "rovimpact: what ROV would drop"
	}
	if !doc.Generated.IsZero() {
		data.Generated = doc.Generated.UTC().Format(time.RFC3339)
	}
	for _, inv := range doc.Report.Invalids {
		h := htmlInvalid{SortKey: prefixSortKey(inv.Prefix), Prefix: inv.Prefix.String(), Origin: OriginLabel(inv.Origin, inv.ASSet), Class: inv.Class,
			Impact: inv.Impact, Paths: inv.Paths, Peers: inv.Peers, Share: inv.CoveredShare, VRPs: vrpList(inv.VRPs, "; ")}
		if inv.Impact == "more_specifics" { // share of the prefix its more-specifics still carry
			h.ShareText = fmt.Sprintf("%.0f%%", 100*inv.CoveredShare)
		}
		if c := inv.Cover; c != nil {
			h.Cover = fmt.Sprintf("%s %s (%s)", c.Prefix, joinASNs(c.Origins, " ", "AS"), c.State)
		}
		data.Invalids = append(data.Invalids, h)
	}
	for _, o := range doc.Report.Origins {
		data.Origins = append(data.Origins, htmlOrigin{Origin: OriginLabel(o.Origin, nil), Invalid: o.Invalid, Unreachable: o.Unreachable, C: o.Classes})
	}
	for _, l := range doc.Lifetimes {
		cur := "no"
		if l.Current {
			cur = "yes"
		}
		data.Lifetimes = append(data.Lifetimes, htmlLifetime{SortKey: prefixSortKey(l.Prefix), Prefix: l.Prefix.String(),
			Origin: OriginLabel(l.Origin, nil), First: l.FirstSeen.UTC().Format(time.RFC3339), Last: l.LastSeen.UTC().Format(time.RFC3339),
			Current: cur, Class: l.Class, Impact: l.Impact, Runs: l.Runs})
	}
	return htmlTmpl.Execute(w, data)
}

// prefixSortKey orders prefixes numerically when compared as strings:
// family, address bytes in hex, then length.
func prefixSortKey(p netip.Prefix) string {
	a := p.Addr().As16()
	fam := "6"
	if p.Addr().Is4() {
		fam = "4"
	}
	return fmt.Sprintf("%s%s/%03d", fam, hex.EncodeToString(a[:]), p.Bits())
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
