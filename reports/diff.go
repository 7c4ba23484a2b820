package reports

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"

	"github.com/rovimpact/rovimpact/rov"

	"github.com/rovimpact/rovimpact/classify"
)

// Diff is what changed between two reports (two runs). An invalid route's
// identity is its prefix and origin (or AS_SET): the same pair in both runs
// is the same route, whatever else changed about it.
type Diff struct {
	From     string    `json:"from"` // labels of the two runs ("run 3 2025-07-20T02:00:00Z", a file name)
	To       string    `json:"to"`
	New      []Invalid `json:"new"`      // invalid in To only
	Resolved []Invalid `json:"resolved"` // invalid in From only
	Changed  []Change  `json:"changed"`  // in both, with another class, impact or drop decision
	Counts   []Delta   `json:"counts"`
	// NewUnreachable counts To's unreachable invalids that were not
	// unreachable in From: new ones plus those whose impact turned
	// unreachable. It is what --fail-on new-unreachable tests.
	NewUnreachable int `json:"new_unreachable"`
	// ASPA compares the runs' ASPA verdicts when either was made with
	// analyze --aspa (aspa_diff.go); absent otherwise.
	ASPA *ASPADiff `json:"aspa,omitempty"`
}

// Change is one route present in both runs whose verdict changed.
type Change struct {
	Prefix     netip.Prefix        `json:"prefix"`
	Origin     *uint32             `json:"origin"`
	ClassFrom  classify.Class      `json:"class_from"`
	ClassTo    classify.Class      `json:"class_to"`
	ImpactFrom classify.Impact     `json:"impact_from"`
	ImpactTo   classify.Impact     `json:"impact_to"`
	StateFrom  classify.RouteState `json:"state_from"`
	StateTo    classify.RouteState `json:"state_to"`
	Fields     []string            `json:"fields"` // which of class, impact, state, dropped changed
}

// Delta is one summary count in both runs.
type Delta struct {
	Name  string `json:"name"`
	From  int    `json:"from"`
	To    int    `json:"to"`
	Delta int    `json:"delta"`
}

type invKey struct {
	p netip.Prefix
	o int64
}

func keyOf(inv *Invalid) invKey { return invKey{inv.Prefix, originKey(inv.Origin)} }

// DiffReports compares two reports. Rows keep the reports' order (prefix,
// then origin); cost is linear in the rows plus a map of From's.
func DiffReports(from, to Report, fromLabel, toLabel string) Diff {
	d := Diff{From: fromLabel, To: toLabel, New: []Invalid{}, Resolved: []Invalid{}, Changed: []Change{}}
	before := make(map[invKey]*Invalid, len(from.Invalids))
	for i := range from.Invalids {
		before[keyOf(&from.Invalids[i])] = &from.Invalids[i]
	}
	seen := make(map[invKey]bool, len(to.Invalids))
	for i := range to.Invalids {
		b := &to.Invalids[i]
		k := keyOf(b)
		seen[k] = true
		a, ok := before[k]
		if !ok {
			d.New = append(d.New, *b)
			if b.Impact == classify.Unreachable {
				d.NewUnreachable++
			}
			continue
		}
		var fields []string
		if a.Class != b.Class {
			fields = append(fields, "class")
		}
		if a.Impact != b.Impact {
			fields = append(fields, "impact")
			if b.Impact == classify.Unreachable {
				d.NewUnreachable++
			}
		}
		if a.State != b.State {
			fields = append(fields, "state")
		}
		if a.Dropped != b.Dropped {
			fields = append(fields, "dropped")
		}
		if fields != nil {
			d.Changed = append(d.Changed, Change{Prefix: b.Prefix, Origin: b.Origin, ClassFrom: a.Class, ClassTo: b.Class,
				ImpactFrom: a.Impact, ImpactTo: b.Impact, StateFrom: a.State, StateTo: b.State, Fields: fields})
		}
	}
	for i := range from.Invalids {
		if !seen[keyOf(&from.Invalids[i])] {
			d.Resolved = append(d.Resolved, from.Invalids[i])
		}
	}
	sortInvalids(d.New)
	sortInvalids(d.Resolved)
	slices.SortFunc(d.Changed, func(x, y Change) int {
		if c := rov.ComparePrefix(x.Prefix, y.Prefix); c != 0 {
			return c
		}
		return cmp.Compare(originKey(x.Origin), originKey(y.Origin))
	})
	d.Counts = countDeltas(from.Summary, to.Summary)
	d.ASPA = diffASPA(from, to)
	return d
}

func sortInvalids(invs []Invalid) {
	slices.SortFunc(invs, func(x, y Invalid) int {
		if c := rov.ComparePrefix(x.Prefix, y.Prefix); c != 0 {
			return c
		}
		return cmp.Compare(originKey(x.Origin), originKey(y.Origin))
	})
}

// SummaryCounts lists a summary's counts by name in a fixed order: the
// rows of every delta table and the trend chart.
func SummaryCounts(s Summary) []struct {
	Name string
	N    int
} {
	return []struct {
		Name string
		N    int
	}{
		{"routes", s.Routes}, {"valid", s.Valid}, {"invalid", s.Invalid}, {"not_found", s.NotFound}, {"dropped", s.Dropped},
		{"too_specific", s.Classes.TooSpecific}, {"wrong_origin", s.Classes.WrongOrigin}, {"both", s.Classes.Both},
		{"too_short", s.Classes.TooShort}, {"as_set", s.Classes.ASSet},
		{"same_prefix", s.Impact.SamePrefix}, {"covered", s.Impact.Covered}, {"more_specifics", s.Impact.MoreSpecifics},
		{"unreachable", s.Impact.Unreachable}, {"vrps", s.VRPs.Loaded},
	}
}

func countDeltas(a, b Summary) []Delta {
	ca, cb := SummaryCounts(a), SummaryCounts(b)
	out := make([]Delta, len(ca))
	for i := range ca {
		out[i] = Delta{Name: ca[i].Name, From: ca[i].N, To: cb[i].N, Delta: cb[i].N - ca[i].N}
	}
	return out
}

func (d Diff) count(name string) Delta {
	for _, c := range d.Counts {
		if c.Name == name {
			return c
		}
	}
	return Delta{Name: name}
}

// Line is the one-line summary for syslog or a mail subject:
// "rovimpact diff A -> B: invalid 43 -> 45 (+2); 3 new, 1 resolved, 2 changed; 1 newly unreachable; unreachable 18 -> 19 (+1)".
func (d Diff) Line() string {
	inv, un := d.count("invalid"), d.count("unreachable")
	return fmt.Sprintf("rovimpact diff %s -> %s: invalid %d -> %d (%+d); %d new, %d resolved, %d changed; %d newly unreachable; unreachable %d -> %d (%+d)",
		d.From, d.To, inv.From, inv.To, inv.Delta, len(d.New), len(d.Resolved), len(d.Changed), d.NewUnreachable, un.From, un.To, un.Delta)
}

// WriteDiffJSON writes the diff as one indented JSON object.
func WriteDiffJSON(w io.Writer, d Diff) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(d)
}

// DiffColumns are the CSV columns of a diff: one row per new, resolved or
// changed route.
var DiffColumns = []string{"change", "prefix", "origin", "as_set", "class_from", "class_to", "impact_from", "impact_to", "state_from", "state_to", "fields"}

// WriteDiffCSV writes one row per new, resolved or changed route.
func WriteDiffCSV(w io.Writer, d Diff) error {
	cw := csv.NewWriter(w)
	cw.Write(DiffColumns)
	for _, inv := range d.New {
		cw.Write([]string{"new", inv.Prefix.String(), originString(inv.Origin, ""), joinASNs(inv.ASSet, " ", ""), "", inv.Class.String(), "", inv.Impact.String(), "", inv.State.String(), ""})
	}
	for _, inv := range d.Resolved {
		cw.Write([]string{"resolved", inv.Prefix.String(), originString(inv.Origin, ""), joinASNs(inv.ASSet, " ", ""), inv.Class.String(), "", inv.Impact.String(), "", inv.State.String(), "", ""})
	}
	for _, c := range d.Changed {
		cw.Write([]string{"changed", c.Prefix.String(), originString(c.Origin, ""), "", c.ClassFrom.String(), c.ClassTo.String(), c.ImpactFrom.String(), c.ImpactTo.String(), c.StateFrom.String(), c.StateTo.String(), strings.Join(c.Fields, " ")})
	}
	cw.Flush()
	return cw.Error()
}

// writeDeltas writes the counts that moved between two runs as a table
// (the route diff's and the ASPA part's).
func writeDeltas(w io.Writer, counts []Delta) error {
	t := newTable(w, "Count", "From", "To", "Delta")
	for _, c := range counts {
		t.Append(c.Name, c.From, c.To, fmt.Sprintf("%+d", c.Delta))
	}
	return t.Render()
}

// WriteDiffTable writes the one-line summary, the count deltas that moved,
// and the new, resolved and changed routes.
func WriteDiffTable(w io.Writer, d Diff) error {
	fmt.Fprintln(w, d.Line())
	fmt.Fprintln(w)
	if err := writeDeltas(w, d.Counts); err != nil {
		return err
	}
	for _, sec := range []struct {
		title string
		rows  []Invalid
	}{{"New invalid routes", d.New}, {"Resolved invalid routes", d.Resolved}} {
		fmt.Fprintf(w, "\n%s: %d\n", sec.title, len(sec.rows))
		if len(sec.rows) == 0 {
			continue
		}
		t := newTable(w, "Prefix", "Origin", "Class", "Impact", "Paths", "Peers")
		for _, inv := range sec.rows {
			t.Append(inv.Prefix.String(), OriginLabel(inv.Origin, inv.ASSet), inv.Class.String(), inv.Impact.String(), inv.Paths, inv.Peers)
		}
		if err := t.Render(); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "\nChanged routes: %d\n", len(d.Changed))
	if len(d.Changed) > 0 {
		t := newTable(w, "Prefix", "Origin", "Class", "Impact", "State")
		for _, c := range d.Changed {
			t.Append(c.Prefix.String(), OriginLabel(c.Origin, nil), arrow(c.ClassFrom, c.ClassTo), arrow(c.ImpactFrom, c.ImpactTo), arrow(c.StateFrom, c.StateTo))
		}
		if err := t.Render(); err != nil {
			return err
		}
	}
	return writeASPADiffTable(w, d.ASPA)
}

// arrow is "from → to" of two typed values, or one when they are equal.
func arrow[T fmt.Stringer](a, b T) string { return arrowText(a.String(), b.String()) }

func arrowText(a, b string) string {
	if a == b {
		return a
	}
	if a == "" {
		a = "-"
	}
	if b == "" {
		b = "-"
	}
	return a + " -> " + b
}
