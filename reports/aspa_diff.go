package reports

import (
	"cmp"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"

	"github.com/rovimpact/rovimpact/rov"
)

// ASPADiff is what changed in ASPA between two runs of analyze --aspa
// (Diff.ASPA): the path counts, and the ASPA-invalid or unverified paths
// (prefix, origin, peer) that appeared, went away, or stayed with another
// verdict, reason or failing hop.
type ASPADiff struct {
	Counts   []Delta          `json:"counts"`
	New      []ASPAPathRow    `json:"new_invalid_paths"`
	Resolved []ASPAPathRow    `json:"resolved_invalid_paths"`
	Changed  []ASPAPathChange `json:"changed_invalid_paths"`
	// Note says why there is no path comparison: only one run verified
	// ASPA ("" when both did).
	Note string `json:"note,omitempty"`
}

// ASPAPathChange is a path invalid (or unverified) in both runs for
// another reason or at another hop.
type ASPAPathChange struct {
	Prefix     netip.Prefix   `json:"prefix"`
	Origin     *uint32        `json:"origin"`
	PeerAS     uint32         `json:"peer_as"`
	PeerIP     netip.Addr     `json:"peer_ip"`
	StateFrom  rov.ASPAState  `json:"aspa_from"`
	StateTo    rov.ASPAState  `json:"aspa_to"`
	ReasonFrom rov.ASPAReason `json:"reason_from"`
	ReasonTo   rov.ASPAReason `json:"reason_to"`
	HopFrom    string         `json:"hop_from"` // "AS64496>AS64501", two for downstream; "" for none
	HopTo      string         `json:"hop_to"`
}

type aspaPathKey struct {
	prefix netip.Prefix
	origin int64
	peerAS uint32
	peerIP netip.Addr
}

func aspaKeyOf(r *ASPAPathRow) aspaPathKey {
	return aspaPathKey{r.Prefix, originKey(r.Origin), r.PeerAS, r.PeerIP}
}

func aspaHopsText(r ASPAPathRow) string {
	var h []string
	for _, x := range []*ASPAHop{r.Up, r.Down} {
		if x != nil {
			h = append(h, aspaHopText(x))
		}
	}
	return strings.Join(h, " ")
}

// diffASPA compares the ASPA parts of two reports; nil when neither run
// verified ASPA.
func diffASPA(from, to Report) *ASPADiff {
	a, b := from.Summary.ASPA, to.Summary.ASPA
	switch {
	case a == nil && b == nil:
		return nil
	case a == nil || b == nil:
		which := "the first"
		if b == nil {
			which = "the second"
		}
		return &ASPADiff{Counts: []Delta{}, New: []ASPAPathRow{}, Resolved: []ASPAPathRow{}, Changed: []ASPAPathChange{},
			Note: "only " + which + " run verified ASPA (analyze --aspa): no ASPA comparison"}
	}
	d := &ASPADiff{New: []ASPAPathRow{}, Resolved: []ASPAPathRow{}, Changed: []ASPAPathChange{}}
	for _, c := range []struct {
		name     string
		from, to int64
	}{{"aspa_valid", a.Valid, b.Valid}, {"aspa_unknown", a.Unknown, b.Unknown}, {"aspa_invalid", a.Invalid, b.Invalid},
		{"aspa_unverified", a.Unverified, b.Unverified}, {"routes_dropped_aspa_only", int64(a.RoutesDroppedASPA), int64(b.RoutesDroppedASPA)},
		{"prefixes_lost_because_of_aspa", int64(a.PrefixesLostByASPA), int64(b.PrefixesLostByASPA)}} {
		d.Counts = append(d.Counts, Delta{Name: c.name, From: int(c.from), To: int(c.to), Delta: int(c.to - c.from)})
	}
	before := make(map[aspaPathKey]*ASPAPathRow, len(from.ASPAPaths))
	for i := range from.ASPAPaths {
		before[aspaKeyOf(&from.ASPAPaths[i])] = &from.ASPAPaths[i]
	}
	seen := make(map[aspaPathKey]bool, len(to.ASPAPaths))
	for i := range to.ASPAPaths {
		r := &to.ASPAPaths[i]
		k := aspaKeyOf(r)
		seen[k] = true
		p, ok := before[k]
		if !ok {
			d.New = append(d.New, *r)
			continue
		}
		if p.State != r.State || p.Reason != r.Reason || aspaHopsText(*p) != aspaHopsText(*r) {
			d.Changed = append(d.Changed, ASPAPathChange{Prefix: r.Prefix, Origin: r.Origin, PeerAS: r.PeerAS, PeerIP: r.PeerIP,
				StateFrom: p.State, StateTo: r.State, ReasonFrom: p.Reason, ReasonTo: r.Reason, HopFrom: aspaHopsText(*p), HopTo: aspaHopsText(*r)})
		}
	}
	for i := range from.ASPAPaths {
		if !seen[aspaKeyOf(&from.ASPAPaths[i])] {
			d.Resolved = append(d.Resolved, from.ASPAPaths[i])
		}
	}
	byKey := func(x, y aspaPathKey) int {
		return cmp.Or(rov.ComparePrefix(x.prefix, y.prefix), cmp.Compare(x.origin, y.origin), cmp.Compare(x.peerAS, y.peerAS), x.peerIP.Compare(y.peerIP))
	}
	rowOrder := func(x, y ASPAPathRow) int { return byKey(aspaKeyOf(&x), aspaKeyOf(&y)) }
	slices.SortFunc(d.New, rowOrder)
	slices.SortFunc(d.Resolved, rowOrder)
	slices.SortFunc(d.Changed, func(x, y ASPAPathChange) int {
		return byKey(aspaPathKey{x.Prefix, originKey(x.Origin), x.PeerAS, x.PeerIP}, aspaPathKey{y.Prefix, originKey(y.Origin), y.PeerAS, y.PeerIP})
	})
	return d
}

// aspaDiffColumns fit TerminalWidth (6 + 110 + 1).
var aspaDiffColumns = []column{{"Prefix", 26}, {"Origin", 14}, {"Peer", 26}, {"ASPA (reason)", 24}, {"Failing hop", 20}}

// writeASPADiffTable writes the ASPA counts that moved and the paths
// that changed verdict.
func writeASPADiffTable(w io.Writer, d *ASPADiff) error {
	if d == nil {
		return nil
	}
	fmt.Fprintln(w, "\nASPA (analyze --aspa):")
	if d.Note != "" {
		fmt.Fprint(w, wrapText(d.Note, TerminalWidth))
		return nil
	}
	if err := writeDeltas(w, d.Counts); err != nil {
		return err
	}
	for _, sec := range []struct {
		title string
		rows  []ASPAPathRow
	}{{"New ASPA-invalid paths", d.New}, {"Resolved ASPA-invalid paths", d.Resolved}} {
		fmt.Fprintf(w, "\n%s: %d\n", sec.title, len(sec.rows))
		if len(sec.rows) == 0 {
			continue
		}
		t := compactTable(w, aspaDiffColumns)
		for _, r := range sec.rows {
			hop := aspaHopsText(r)
			if r.Reason == rov.ASPAReasonFirstAS {
				hop = fmt.Sprintf("first AS%d", r.FirstAS)
			}
			t.Append([]string{r.Prefix.String(), foldedOrigin(r.Origin, nil), peerCellWidth(r.PeerAS, r.PeerIP, aspaDiffColumns[2].width-2),
				r.State.String() + " (" + r.Reason.String() + ")", hop})
		}
		if err := t.Render(); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "\nASPA-invalid paths with another reason or hop: %d\n", len(d.Changed))
	if len(d.Changed) == 0 {
		return nil
	}
	t := compactTable(w, aspaDiffColumns)
	for _, c := range d.Changed {
		t.Append([]string{c.Prefix.String(), foldedOrigin(c.Origin, nil), peerCellWidth(c.PeerAS, c.PeerIP, aspaDiffColumns[2].width-2),
			arrowText(c.StateFrom.String()+" ("+c.ReasonFrom.String()+")", c.StateTo.String()+" ("+c.ReasonTo.String()+")"), arrowText(c.HopFrom, c.HopTo)})
	}
	return t.Render()
}
