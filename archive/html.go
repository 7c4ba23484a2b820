package archive

import (
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"
)

// htmlTop bounds the persistence and origin tables of the page; the CSV and
// Parquet files hold every row.
const htmlTop = 25

type htmlChart struct {
	Collector          string
	Width, Height      int
	Invalid, Unreach   string // SVG polyline points
	MaxY               int64
	First, Last        string
	Points             int
	LastInv, LastUnrch int64
}

// WriteHTML writes merge's page: a banner for failed or missing units, one
// inline SVG chart per collector (invalid and unreachable routes over
// time), and the longest-lived invalid routes and the origins with the most
// unreachable time. One self-contained file, no scripts, nothing fetched.
func WriteHTML(w io.Writer, res MergeResult) error {
	byCollector := map[string][]TimelineRow{}
	var order []string
	for _, r := range res.Timeline {
		if _, ok := byCollector[r.Collector]; !ok {
			order = append(order, r.Collector)
		}
		byCollector[r.Collector] = append(byCollector[r.Collector], r)
	}
	var charts []htmlChart
	for _, c := range order {
		rows := byCollector[c]
		ch := htmlChart{Collector: c, Width: 560, Height: 140, Points: len(rows)}
		lo, hi := rows[0].Time, rows[len(rows)-1].Time
		for _, r := range rows {
			ch.MaxY = max(ch.MaxY, r.Invalid)
		}
		x := func(t int64) float64 {
			if hi == lo {
				return float64(ch.Width) / 2
			}
			return float64(t-lo) / float64(hi-lo) * float64(ch.Width-20)
		}
		y := func(v int64) float64 {
			if ch.MaxY == 0 {
				return float64(ch.Height - 10)
			}
			return float64(ch.Height-10) - float64(v)/float64(ch.MaxY)*float64(ch.Height-20)
		}
		var inv, un strings.Builder
		for _, r := range rows {
			fmt.Fprintf(&inv, "%.1f,%.1f ", 10+x(r.Time), y(r.Invalid))
			fmt.Fprintf(&un, "%.1f,%.1f ", 10+x(r.Time), y(r.Unreachable))
		}
		ch.Invalid, ch.Unreach = inv.String(), un.String()
		ch.First, ch.Last = fmtMillis(lo), fmtMillis(hi)
		ch.LastInv, ch.LastUnrch = rows[len(rows)-1].Invalid, rows[len(rows)-1].Unreachable
		charts = append(charts, ch)
	}
	var bad []UnitStatus
	for _, u := range res.Units {
		if u.Status == "failed" || u.Status == "missing" {
			bad = append(bad, u)
		}
	}
	pers := res.Persistence
	slicesTop := func(n int) int { return min(n, htmlTop) }
	return htmlPage.Execute(w, map[string]any{
		"Res": res, "Charts": charts, "Bad": bad,
		"Persistence": pers[:slicesTop(len(pers))], "Origins": res.Origins[:slicesTop(len(res.Origins))],
	})
}

func fmtMillis(ms int64) string { return time.UnixMilli(ms).UTC().Format("2006-01-02 15:04") }

var htmlPage = template.Must(template.New("archive").Funcs(template.FuncMap{
	"ms": fmtMillis,
	"origin": func(o *int64) string {
		if o == nil {
			return "AS_SET"
		}
		return fmt.Sprintf("AS%d", *o)
	},
	"hours": func(s int64) float64 { return float64(s) / 3600 },
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>rovimpact archive</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
.banner{background:#fde2e1;border:1px solid #e0a0a0;padding:.6em 1em;margin-bottom:1em}
.card{display:inline-block;border:1px solid #ddd;border-radius:6px;padding:.5em 1em;margin:0 1em 1em 0;vertical-align:top}
table{border-collapse:collapse;margin-bottom:2em}td,th{border-bottom:1px solid #eee;padding:.2em .6em;text-align:right}
td:first-child,th:first-child,td.l{text-align:left}.inv{stroke:#c0392b}.un{stroke:#7d3c98}
</style></head><body>
<h1>ROV impact over time</h1>
<p>{{.Res.Done}} units done{{if .Res.Partial}}, {{.Res.Partial}} partial{{end}}; {{len .Res.Timeline}} collector times.</p>
{{if .Bad}}<div class="banner"><b>{{len .Bad}} units failed or missing: these results do not cover them.</b><ul>
{{range .Bad}}<li>{{.Status}}: {{.Collector}} {{.Time}} {{.Reason}}</li>{{end}}</ul></div>{{end}}
{{if .Res.NoManifest}}<div class="banner">No manifest copy: missing units cannot be told.</div>{{end}}
<h2>Invalid (red) and unreachable (purple) routes per collector</h2>
{{range .Charts}}<div class="card"><b>{{.Collector}}</b> · {{.Points}} times, {{.First}} – {{.Last}} · last: {{.LastInv}} invalid, {{.LastUnrch}} unreachable<br>
<svg width="{{.Width}}" height="{{.Height}}" role="img" aria-label="{{.Collector}} timeline">
<polyline fill="none" class="inv" stroke-width="2" points="{{.Invalid}}"/><polyline fill="none" class="un" stroke-width="2" points="{{.Unreach}}"/>
<text x="2" y="12" font-size="10">{{.MaxY}}</text><text x="2" y="{{.Height}}" font-size="10">0</text></svg></div>{{end}}
<h2>Longest-lived invalid routes (top {{len .Persistence}})</h2>
<table><tr><th>Collector</th><th>Prefix</th><th>Origin</th><th>First seen</th><th>Last seen</th><th>Times seen</th><th>Longest run</th><th>Unreachable</th><th>Last class</th></tr>
{{range .Persistence}}<tr><td>{{.Collector}}</td><td class="l">{{.Prefix}}</td><td>{{origin .Origin}}</td><td>{{ms .FirstSeen}}</td><td>{{ms .LastSeen}}</td><td>{{.UnitsSeen}} of {{.TimesTotal}}</td><td>{{.LongestRun}}</td><td>{{.Unreachable}}</td><td class="l">{{.LastClass}}</td></tr>{{end}}</table>
<h2>Origins with the most unreachable time (top {{len .Origins}})</h2>
<table><tr><th>Origin</th><th>Unreachable route-hours</th><th>Unreachable route-units</th><th>Invalid route-units</th><th>Prefixes</th><th>Collectors</th></tr>
{{range .Origins}}<tr><td>{{origin .Origin}}</td><td>{{printf "%.1f" (hours .UnreachableSeconds)}}</td><td>{{.UnreachableUnits}}</td><td>{{.InvalidUnits}}</td><td>{{.Prefixes}}</td><td>{{.Collectors}}</td></tr>{{end}}</table>
<p>Every row: merged/*.csv and *.parquet beside this page.</p>
</body></html>
`))
