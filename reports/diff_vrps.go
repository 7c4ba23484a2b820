package reports

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/rov"
)

// VRPDiff is what changed between two VRP sets (two caches' exports, or two
// snapshots of one), and what that does to a routing table.
type VRPDiff struct {
	From    string         `json:"from"`
	To      string         `json:"to"`
	FromLen int            `json:"from_vrps"`
	ToLen   int            `json:"to_vrps"`
	OnlyA   []VRPRef       `json:"only_from"` // removed
	OnlyB   []VRPRef       `json:"only_to"`   // added
	Routes  *int           `json:"routes,omitempty"`
	Changed []RouteChanged `json:"route_changes,omitempty"` // only when routes were given
}

// RouteChanged is a route whose ROV verdict differs between the two sets.
type RouteChanged struct {
	Prefix      netip.Prefix   `json:"prefix"`
	Origin      *uint32        `json:"origin"`
	StateFrom   rov.State      `json:"state_from"`
	StateTo     rov.State      `json:"state_to"`
	ClassFrom   classify.Class `json:"class_from"`
	ClassTo     classify.Class `json:"class_to"`
	DroppedFrom bool           `json:"dropped_from"`
	DroppedTo   bool           `json:"dropped_to"`
}

// DiffVRPs compares two VRP sets by what RFC 6811 looks at (prefix,
// maxLength, ASN); the trust anchor is ignored. Inputs need not be sorted
// or unique; each side is deduplicated first. O(n log n).
func DiffVRPs(a, b []rov.VRP) (onlyA, onlyB []VRPRef) {
	ra, rb := vrpRefs(a), vrpRefs(b)
	onlyA, onlyB = []VRPRef{}, []VRPRef{}
	i, j := 0, 0
	for i < len(ra) || j < len(rb) {
		var c int
		switch {
		case i == len(ra):
			c = 1
		case j == len(rb):
			c = -1
		default:
			c = compareVRPRef(ra[i], rb[j])
		}
		switch {
		case c < 0:
			onlyA = append(onlyA, ra[i])
			i++
		case c > 0:
			onlyB = append(onlyB, rb[j])
			j++
		default:
			i++
			j++
		}
	}
	return onlyA, onlyB
}

func vrpRefs(vs []rov.VRP) []VRPRef {
	out := make([]VRPRef, len(vs))
	for i, v := range vs {
		out[i] = VRPRef{Prefix: v.Prefix, MaxLength: v.MaxLen, ASN: v.ASN}
	}
	slices.SortFunc(out, compareVRPRef)
	return slices.Compact(out)
}

// RouteChanges lists the routes whose state, class or drop decision
// differs between two analyses of the same table (same route ids) against
// two VRP sets. Unvalidated routes (local origin) are skipped in both.
func RouteChanges(from, to *classify.Analysis) []RouteChanged {
	out := []RouteChanged{}
	for id, r := range from.Table.Routes() {
		a, b := from.Outcomes[id], to.Outcomes[id]
		if a.Unvalidated || (a.State == b.State && a.Class == b.Class && a.Dropped == b.Dropped) {
			continue
		}
		rc := RouteChanged{Prefix: r.Prefix, StateFrom: a.State, StateTo: b.State,
			ClassFrom: a.Class, ClassTo: b.Class, DroppedFrom: a.Dropped, DroppedTo: b.Dropped}
		if a.Origin.Kind == rov.OriginAS {
			asn := a.Origin.ASN
			rc.Origin = &asn
		}
		out = append(out, rc)
	}
	slices.SortFunc(out, func(x, y RouteChanged) int {
		if c := rov.ComparePrefix(x.Prefix, y.Prefix); c != 0 {
			return c
		}
		return cmp.Compare(originKey(x.Origin), originKey(y.Origin))
	})
	return out
}

// Line is the one-line summary of a VRP diff.
func (d VRPDiff) Line() string {
	s := fmt.Sprintf("rovimpact vrps diff %s -> %s: %d -> %d VRPs, %d removed, %d added", d.From, d.To, d.FromLen, d.ToLen, len(d.OnlyA), len(d.OnlyB))
	if d.Routes != nil {
		s += fmt.Sprintf("; %d of %d routes change verdict", len(d.Changed), *d.Routes)
	}
	return s
}

// WriteVRPDiffJSON writes the diff as one indented JSON object.
func WriteVRPDiffJSON(w io.Writer, d VRPDiff) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(d)
}

// WriteVRPDiffCSV writes one row per removed or added VRP, then one per
// route whose verdict changes.
func WriteVRPDiffCSV(w io.Writer, d VRPDiff) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"change", "prefix", "max_length", "asn", "origin", "state_from", "state_to", "class_from", "class_to"})
	for _, v := range d.OnlyA {
		cw.Write([]string{"removed", v.Prefix.String(), strconv.Itoa(int(v.MaxLength)), strconv.FormatUint(uint64(v.ASN), 10), "", "", "", "", ""})
	}
	for _, v := range d.OnlyB {
		cw.Write([]string{"added", v.Prefix.String(), strconv.Itoa(int(v.MaxLength)), strconv.FormatUint(uint64(v.ASN), 10), "", "", "", "", ""})
	}
	for _, r := range d.Changed {
		cw.Write([]string{"route", r.Prefix.String(), "", "", originString(r.Origin, "AS_SET"), r.StateFrom.String(), r.StateTo.String(), r.ClassFrom.String(), r.ClassTo.String()})
	}
	cw.Flush()
	return cw.Error()
}

// WriteVRPDiffTable writes the summary line and the removed, added and
// changed-route tables; top limits each table (0: all).
func WriteVRPDiffTable(w io.Writer, d VRPDiff, top int) error {
	fmt.Fprintln(w, d.Line())
	for _, sec := range []struct {
		title string
		rows  []VRPRef
	}{{"Only in " + d.From + " (removed)", d.OnlyA}, {"Only in " + d.To + " (added)", d.OnlyB}} {
		fmt.Fprintf(w, "\n%s: %d\n", sec.title, len(sec.rows))
		if len(sec.rows) == 0 {
			continue
		}
		t := newTable(w, "VRP", "Prefix", "Max length", "ASN")
		for _, v := range vdLimit(sec.rows, top) {
			t.Append(vrpList([]VRPRef{v}, ""), v.Prefix.String(), v.MaxLength, v.ASN)
		}
		if err := t.Render(); err != nil {
			return err
		}
		vdMore(w, len(sec.rows), top)
	}
	if d.Routes == nil {
		return nil
	}
	fmt.Fprintf(w, "\nRoutes whose verdict changes: %d of %d\n", len(d.Changed), *d.Routes)
	if len(d.Changed) == 0 {
		return nil
	}
	t := newTable(w, "Prefix", "Origin", "State", "Class", "Dropped")
	for _, r := range vdLimit(d.Changed, top) {
		t.Append(r.Prefix.String(), OriginLabel(r.Origin, nil), arrow(r.StateFrom, r.StateTo), arrow(r.ClassFrom, r.ClassTo),
			arrowText(strconv.FormatBool(r.DroppedFrom), strconv.FormatBool(r.DroppedTo)))
	}
	if err := t.Render(); err != nil {
		return err
	}
	vdMore(w, len(d.Changed), top)
	return nil
}

func vdLimit[T any](rows []T, top int) []T {
	if top > 0 && len(rows) > top {
		return rows[:top]
	}
	return rows
}

func vdMore(w io.Writer, n, top int) {
	if top > 0 && n > top {
		fmt.Fprintf(w, "(%d more; --top 0 shows all)\n", n-top)
	}
}
