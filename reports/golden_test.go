package reports

import (
	"bufio"
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/rov"
)

// TestGoldenDocuments renders every document of the fixed fixture
// (fixture_test.go) in every format of its table and compares the bytes
// with testdata/golden/<document>.<format>; go test ./reports -update
// rewrites them. The reports are thus pinned here, not only through the
// CLI's goldens.
func TestGoldenDocuments(t *testing.T) {
	from, to := fixtureReport(false, true), fixtureReport(true, false)
	generated := time.Date(2025, 7, 20, 3, 0, 0, 0, time.UTC)
	analyze := AnalyzeDoc{Report: from, Generated: generated, Trend: func() ([]TrendPoint, error) {
		return []TrendPoint{{Date: "2025-07-19", Invalid: 10, Dropped: 9, Unreachable: 3}, {Date: "2025-07-20", Invalid: 9, Dropped: 9, Unreachable: 4}}, nil
	}}
	golden(t, AnalyzeFormats, "analyze", analyze)
	wide := analyze
	wide.Wide = true
	goldenOne(t, "analyze.wide.table", func(w *bytes.Buffer) error { return AnalyzeFormats.Write(w, "table", wide) })

	var qs []Query
	for _, s := range []string{"192.0.2.0/24", "100.64.0.0/10", "172.16.1.1", "2001:db8:1::1", "AS64530", "AS64500", "AS64521"} {
		q, err := ParseQuery(s)
		if err != nil {
			t.Fatal(err)
		}
		qs = append(qs, q)
	}
	origin := uint32(64500)
	golden(t, LookupFormats, "lookup", LookupRequest{Analysis: fixtureAnalysis(false), Queries: qs, Origin: &origin})

	golden(t, DiffFormats, "diff", DiffReports(from, to, "monday", "tuesday"))
	// The same runs made with analyze --aspa: the diff's ASPA part (json
	// and table; the csv and ndjson rows are routes, unchanged).
	fromA, toA := fixtureASPA(from, 0), fixtureASPA(to, 1)
	dA := DiffReports(fromA, toA, "monday", "tuesday")
	for _, f := range []string{"json", "table"} {
		goldenOne(t, "diff-aspa."+f, func(w *bytes.Buffer) error { return DiffFormats.Write(w, f, dA) })
	}

	a, b := fixtureAnalysis(false), fixtureAnalysis(true)
	vd := VRPDiff{From: "monday.json", To: "tuesday.json", FromLen: a.Index.Len(), ToLen: b.Index.Len()}
	vd.OnlyA, vd.OnlyB = DiffVRPs(a.Index.VRPs(), b.Index.VRPs()[1:])
	n := a.Table.Len()
	vd.Routes, vd.Changed = &n, RouteChanges(a, b)
	golden(t, VRPDiffFormats, "vrps-diff", VRPDiffDoc{Diff: vd})

	hist := HistoryDoc{
		Days: []HistoryDay{
			{Date: "2025-07-19", Runs: 1, RunID: 1, Routes: 14, Valid: 5, Invalid: 8, NotFound: 1, Dropped: 8},
			{Date: "2025-07-20", Runs: 2, RunID: 3, Routes: 15, Valid: 5, Invalid: 9, NotFound: 1, Dropped: 9,
				Classes: ClassCounts{TooSpecific: 2, WrongOrigin: 4, Both: 1, TooShort: 1, ASSet: 1}},
		},
		Top: 3,
		Latest: func(id int64) (HistoryRun, error) {
			return HistoryRun{ID: id, At: generated, Report: from}, nil
		},
	}
	first := time.Date(2025, 7, 19, 2, 0, 0, 0, time.UTC)
	for i, inv := range from.Invalids {
		hist.Lifetimes = append(hist.Lifetimes, LifetimeRow{Prefix: inv.Prefix, Origin: inv.Origin, FirstSeen: first,
			LastSeen: first.AddDate(0, 0, i%2), Runs: 1 + i%2, Current: i%2 == 1, Class: inv.Class.String(), Impact: inv.Impact.String()})
	}
	golden(t, HistoryFormats, "history", hist)

	routes := fixtureRoutes()
	for _, f := range RoutesFormats() {
		goldenOne(t, "routes."+f, func(w *bytes.Buffer) error {
			bw := bufio.NewWriter(w)
			rw, err := NewRoutesWriter(bw, f)
			if err != nil {
				return err
			}
			for i := range routes {
				if err := rw.Write(&routes[i]); err != nil {
					return err
				}
			}
			return bw.Flush()
		})
	}
}

// golden checks d in every format of table f.
func golden[D any](t *testing.T, f Formats[D], doc string, d D) {
	t.Helper()
	for _, format := range f.Names() {
		goldenOne(t, doc+"."+format, func(w *bytes.Buffer) error { return f.Write(w, format, d) })
	}
}

func goldenOne(t *testing.T, name string, write func(*bytes.Buffer) error) {
	t.Helper()
	var b bytes.Buffer
	if err := write(&b); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	path := filepath.Join("testdata", "golden", name)
	if *updateHTML {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./reports -run TestGoldenDocuments -update writes it)", err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("%s differs from %s (go test ./reports -run TestGoldenDocuments -update rewrites it):\n%s", name, path, b.String())
	}
}

// fixtureASPA is rep as analyze --aspa would make it on day 0 or 1: a
// path leaked through AS64501 on both days, one through AS64502 on day 0
// only, an AS_SET path on day 0 that is a Not Provider+ hop on day 1, and
// a downstream path on day 1 only.
func fixtureASPA(rep Report, day int) Report {
	o := uint32(64500)
	pfx := netip.MustParsePrefix("192.0.2.0/24")
	hop := func(c, p uint32) *ASPAHop { return &ASPAHop{Customer: c, Provider: p, Providers: []uint32{64497}} }
	row := func(peer uint32, reason rov.ASPAReason, up, down *ASPAHop) ASPAPathRow {
		return ASPAPathRow{Prefix: pfx, Origin: &o, PeerAS: peer, PeerIP: netip.AddrFrom4([4]byte{192, 0, 2, byte(peer - 64500)}),
			Role: rov.RolePeer, State: rov.ASPAInvalid, Reason: reason, Up: up, Down: down, ROV: rov.Valid}
	}
	x := &ASPASummary{Draft: ASPADraft, ASPAs: 3, Customers: 3, Valid: 10, Unknown: 100, Invalid: 3, RoutesDroppedASPA: 1,
		InvalidBy: map[string]int64{}, Matrix: map[string]map[string]int64{}, DroppedASPABy: map[string]int{}}
	rep.ASPAPaths = []ASPAPathRow{row(64510, rov.ASPAReasonRamps, hop(64500, 64501), nil)}
	if day == 0 {
		rep.ASPAPaths = append(rep.ASPAPaths, row(64511, rov.ASPAReasonRamps, hop(64500, 64502), nil), row(64512, rov.ASPAReasonASSet, nil, nil))
	} else {
		x.Valid, x.Invalid, x.RoutesDroppedASPA = 12, 3, 2
		d := row(64513, rov.ASPAReasonRamps, hop(64500, 64503), hop(64520, 64521))
		d.Role = rov.RoleProvider
		rep.ASPAPaths = append(rep.ASPAPaths, row(64512, rov.ASPAReasonRamps, hop(64500, 64504), nil), d)
	}
	rep.Summary.ASPA = x
	return rep
}
