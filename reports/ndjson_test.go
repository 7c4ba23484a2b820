package reports

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
)

// ndjsonLines parses every line of out as one JSON object and returns
// them in a canonical form (keys sorted), each with its "change" member
// split off.
func ndjsonLines(t *testing.T, out string) (rows []string, tags []string) {
	t.Helper()
	if out != "" && !strings.HasSuffix(out, "\n") {
		t.Fatalf("output does not end in a newline: %q", out)
	}
	for i, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if l == "" && out == "" {
			break
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %d is not one JSON object: %v: %q", i+1, err, l)
		}
		tag, _ := m["change"].(string)
		delete(m, "change")
		rows, tags = append(rows, canon(t, m)), append(tags, tag)
	}
	return rows, tags
}

func canon(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// jsonRows returns the elements of the named lists of a JSON document in
// canonical form, tagged with the list's tag.
func jsonRows(t *testing.T, doc string, lists map[string]string) (rows, tags []string) {
	t.Helper()
	var m map[string][]any
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		// Documents with non-list members: decode those as raw and skip them.
		var raw map[string]json.RawMessage
		if err := json.Unmarshal([]byte(doc), &raw); err != nil {
			t.Fatal(err)
		}
		m = map[string][]any{}
		for name := range lists {
			var l []any
			if len(raw[name]) > 0 {
				if err := json.Unmarshal(raw[name], &l); err != nil {
					t.Fatal(err)
				}
			}
			m[name] = l
		}
	}
	for name, tag := range lists {
		for _, r := range m[name] {
			rows, tags = append(rows, canon(t, r)), append(tags, tag)
		}
	}
	return rows, tags
}

// sameRows compares two row sets (with their tags) as multisets.
func sameRows(t *testing.T, what string, gotRows, gotTags, wantRows, wantTags []string) {
	t.Helper()
	join := func(rows, tags []string) []string {
		out := make([]string, len(rows))
		for i := range rows {
			out[i] = tags[i] + " " + rows[i]
		}
		slices.Sort(out)
		return out
	}
	got, want := join(gotRows, gotTags), join(wantRows, wantTags)
	if len(want) == 0 {
		t.Fatalf("%s: the fixture gives no rows, the test would prove nothing", what)
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s: ndjson rows\n%s\nJSON rows\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// write renders d in format with table f.
func write[D any](t *testing.T, f Formats[D], format string, d D) string {
	t.Helper()
	var b bytes.Buffer
	if err := f.Write(&b, format, d); err != nil {
		t.Fatalf("%s %s: %v", f.Doc, format, err)
	}
	return b.String()
}

// TestNDJSONIsTheJSONRows: for every document, each --format ndjson line
// is one JSON object and the lines are exactly the JSON document's rows
// (same field names and values), tagged with "change" where a document
// has several kinds of rows.
func TestNDJSONIsTheJSONRows(t *testing.T) {
	t.Run("analyze", func(t *testing.T) {
		doc := AnalyzeDoc{Report: fixtureReport(false, true)}
		rows, tags := ndjsonLines(t, write(t, AnalyzeFormats, "ndjson", doc))
		wr, wt := jsonRows(t, write(t, AnalyzeFormats, "json", doc), map[string]string{"invalids": ""})
		sameRows(t, "analyze invalids", rows, tags, wr, wt)
	})
	t.Run("lookup", func(t *testing.T) {
		a := fixtureAnalysis(false)
		var qs []Query
		for _, s := range []string{"192.0.2.0/24", "0.0.0.0/0", "172.16.1.1", "AS64500", "AS64530", "2001:db8::/32"} {
			q, err := ParseQuery(s)
			if err != nil {
				t.Fatal(err)
			}
			qs = append(qs, q)
		}
		origin := uint32(64500)
		req := LookupRequest{Analysis: a, Queries: qs, Origin: &origin}
		rows, tags := ndjsonLines(t, write(t, LookupFormats, "ndjson", req))
		wr, wt := jsonRows(t, write(t, LookupFormats, "json", req), map[string]string{"answers": ""})
		sameRows(t, "lookup answers", rows, tags, wr, wt)
	})
	t.Run("diff", func(t *testing.T) {
		from, to := fixtureReport(false, false), fixtureReport(true, false)
		to.Invalids[0].Impact = classify.Covered // a changed route too
		if from.Invalids[0].Impact == classify.Covered {
			to.Invalids[0].Impact = classify.SamePrefix
		}
		d := DiffReports(from, to, "a", "b")
		rows, tags := ndjsonLines(t, write(t, DiffFormats, "ndjson", d))
		wr, wt := jsonRows(t, write(t, DiffFormats, "json", d), map[string]string{"new": "new", "resolved": "resolved", "changed": "changed"})
		sameRows(t, "diff entries", rows, tags, wr, wt)
		if !slices.Contains(tags, "changed") || !slices.Contains(tags, "resolved") {
			t.Errorf("fixture diff has no changed or resolved rows: %v", tags)
		}
	})
	t.Run("vrps diff", func(t *testing.T) {
		a, b := fixtureAnalysis(false), fixtureAnalysis(true)
		d := VRPDiff{From: "a.json", To: "b.json", FromLen: a.Index.Len(), ToLen: b.Index.Len()}
		d.OnlyA, d.OnlyB = DiffVRPs(b.Index.VRPs()[:3], a.Index.VRPs())
		d.Changed = RouteChanges(a, b)
		doc := VRPDiffDoc{Diff: d}
		rows, tags := ndjsonLines(t, write(t, VRPDiffFormats, "ndjson", doc))
		wr, wt := jsonRows(t, write(t, VRPDiffFormats, "json", doc), map[string]string{"only_from": "removed", "only_to": "added", "route_changes": "route"})
		sameRows(t, "vrps diff entries", rows, tags, wr, wt)
	})
	t.Run("history", func(t *testing.T) {
		first := time.Date(2025, 7, 1, 2, 0, 0, 0, time.UTC)
		doc := HistoryDoc{Days: []HistoryDay{{Date: "2025-07-01", Runs: 1, RunID: 1, Invalid: 2}}}
		for i, inv := range fixtureReport(false, false).Invalids {
			doc.Lifetimes = append(doc.Lifetimes, LifetimeRow{Prefix: inv.Prefix, Origin: inv.Origin, FirstSeen: first,
				LastSeen: first.AddDate(0, 0, i), Runs: i + 1, Current: i%2 == 0, Class: inv.Class.String(), Impact: inv.Impact.String()})
		}
		rows, tags := ndjsonLines(t, write(t, HistoryFormats, "ndjson", doc))
		wr, wt := jsonRows(t, write(t, HistoryFormats, "json", doc), map[string]string{"invalids": ""})
		sameRows(t, "history lifetimes", rows, tags, wr, wt)
	})
	t.Run("routes", func(t *testing.T) {
		routes := fixtureRoutes()
		out := map[string]string{}
		for _, f := range []string{"json", "ndjson", "csv"} {
			var b bytes.Buffer
			bw := bufio.NewWriter(&b)
			rw, err := NewRoutesWriter(bw, f)
			if err != nil {
				t.Fatal(err)
			}
			for i := range routes {
				if err := rw.Write(&routes[i]); err != nil {
					t.Fatal(err)
				}
			}
			bw.Flush()
			out[f] = b.String()
		}
		rows, _ := ndjsonLines(t, out["ndjson"])
		if out["ndjson"] != out["json"] {
			t.Errorf("routes ndjson differs from json (one object per line since it was written)")
		}
		if len(rows) != len(routes) || strings.Count(out["csv"], "\n") != len(routes)+1 {
			t.Errorf("%d ndjson rows, %d CSV lines, for %d routes", len(rows), strings.Count(out["csv"], "\n"), len(routes))
		}
	})
}

// fixtureRoutes are route events of every kind.
func fixtureRoutes() []route.Route {
	at := time.Date(2025, 7, 20, 2, 0, 0, 0, time.UTC)
	peer := route.Peer{AS: 65001, IP: netip.MustParseAddr("127.0.0.1")}
	path := []rov.Segment{{Type: rov.ASSequence, ASNs: []uint32{65001, 64500}}, {Type: rov.ASSet, ASNs: []uint32{64503, 64504}}}
	return []route.Route{
		{Time: at, Kind: route.Announce, Peer: peer, Prefix: netip.MustParsePrefix("192.0.2.0/24"), Path: path[:1],
			Origin: rov.Origin{Kind: rov.OriginAS, ASN: 64500}, NextHop: netip.MustParseAddr("127.0.0.1")},
		{Time: at, Kind: route.Announce, FromUpdate: true, Peer: peer, Prefix: netip.MustParsePrefix("2001:db8::/32"), Path: path,
			Origin: rov.Origin{Kind: rov.OriginNone}, PathID: 7, RPKIState: route.RPKIInvalid},
		{Time: at, Kind: route.Withdraw, FromUpdate: true, Peer: peer, Prefix: netip.MustParsePrefix("192.0.2.0/25")},
		{Time: at, Kind: route.PeerDown, FromUpdate: true, Peer: peer},
	}
}

// TestFormatTables: every document has ndjson, and a format a document
// lacks is a *FormatError listing the document's formats.
func TestFormatTables(t *testing.T) {
	for _, f := range []struct {
		names []string
		check func(string) error
	}{
		{AnalyzeFormats.Names(), AnalyzeFormats.Check},
		{LookupFormats.Names(), LookupFormats.Check},
		{DiffFormats.Names(), DiffFormats.Check},
		{VRPDiffFormats.Names(), VRPDiffFormats.Check},
		{HistoryFormats.Names(), HistoryFormats.Check},
		{RoutesFormats(), func(s string) error { _, err := NewRoutesWriter(bufio.NewWriter(&bytes.Buffer{}), s); return err }},
	} {
		if !slices.Contains(f.names, "ndjson") {
			t.Errorf("%v: no ndjson", f.names)
		}
		for _, n := range f.names {
			if err := f.check(n); err != nil {
				t.Errorf("%s: %v", n, err)
			}
		}
		var fe *FormatError
		err := f.check("xml")
		if !errors.As(err, &fe) || !slices.Equal(fe.Known, f.names) || !strings.Contains(err.Error(), `"xml"`) {
			t.Errorf("%v: unknown format gave %v", f.names, err)
		}
	}
}
