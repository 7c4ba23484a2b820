package reports

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/rovimpact/rovimpact/rov"
)

// ASPA in lookup: a prefix or address answer lists each path of its
// routes with its ASPA verdict and failing hop (when the VRP input held
// ASPAs and route files were read), and an AS path query ("AS3 AS2 AS1")
// is answered hop by hop as rovimpact aspa --path answers it
// (ASPAPathReport, BuildASPAPath). The verdicts are rov's, computed by
// study before the answer is written; this file lays them out.

// LookupASPAPath is one path of a route an answer lists: where it came
// from, its AS_PATH and rov's ASPA verdict on it.
type LookupASPAPath struct {
	Prefix  netip.Prefix   `json:"prefix"`
	Origin  *uint32        `json:"origin"` // null: AS_SET
	PeerAS  uint32         `json:"peer_as"`
	PeerIP  netip.Addr     `json:"peer_ip"`
	Role    rov.PeerRole   `json:"role"`
	Path    string         `json:"as_path"`
	State   rov.ASPAState  `json:"aspa"`
	Reason  rov.ASPAReason `json:"reason"`
	FirstAS uint32         `json:"first_as,omitempty"`
	Up      *ASPAHop       `json:"up_hop"`
	Down    *ASPAHop       `json:"down_hop"`
}

// NewLookupASPAPath lays out rov's verdict res on path (received from
// peer in role) for a lookup answer; set gives the failing hops' ASPAs.
func NewLookupASPAPath(set *rov.ASPASet, prefix netip.Prefix, peerAS uint32, peerIP netip.Addr, role rov.PeerRole, path []rov.Segment, res rov.ASPAResult) LookupASPAPath {
	p := LookupASPAPath{Prefix: prefix, Origin: originPtr(rov.OriginOf(path)), PeerAS: peerAS, PeerIP: peerIP, Role: role,
		Path: FormatASPath(path), State: res.State, Reason: res.Reason, FirstAS: res.FirstAS}
	if res.Reason == rov.ASPAReasonRamps {
		p.Up = aspaHop(set, res.Up)
		if res.Downstream {
			p.Down = aspaHop(set, res.Down)
		}
	}
	return p
}

// FormatASPath writes an AS_PATH as aspa --path reads it: "AS3 AS2 AS1",
// an AS_SET as {AS1,AS2}, a confederation segment in parentheses.
func FormatASPath(path []rov.Segment) string {
	parts := make([]string, 0, len(path))
	for _, s := range path {
		asns := make([]string, len(s.ASNs))
		for i, a := range s.ASNs {
			asns[i] = rov.FormatASN(a)
		}
		switch s.Type {
		case rov.ASSet, rov.ASConfedSet:
			parts = append(parts, "{"+strings.Join(asns, ",")+"}")
		case rov.ASConfedSequence:
			parts = append(parts, "("+strings.Join(asns, " ")+")")
		default:
			parts = append(parts, strings.Join(asns, " "))
		}
	}
	return strings.Join(parts, " ")
}

// lookupASPAColumns fit TerminalWidth (6 + 112 + 1).
var lookupASPAColumns = []column{{"Peer", 24}, {"AS path", 34}, {"ASPA", 16}, {"Failing hop", 19}, {"Customer's ASPA", 19}}

// writeLookupASPAPaths writes an answer's paths with their ASPA verdicts.
func writeLookupASPAPaths(w io.Writer, a Answer, top int) error {
	if a.ASPAPaths == nil {
		return nil
	}
	what := "this prefix"
	if a.Kind == "address" {
		what = "the routes containing it"
	}
	fmt.Fprintf(w, "\nASPA (%s), each path of %s: %d\n", ASPADraft, what, len(a.ASPAPaths))
	if len(a.ASPAPaths) == 0 {
		return nil
	}
	t := compactTable(w, lookupASPAColumns)
	for _, p := range limit(a.ASPAPaths, top) {
		verdict := p.State.String()
		if p.State == rov.ASPAInvalid || p.State == rov.ASPAUnverified {
			verdict += "\n" + p.Reason.String()
		}
		verdict += "\n(" + p.Role.String() + ")"
		hop, provs := "", ""
		switch {
		case p.Up != nil:
			hop, provs = alignLines(fitLines([]string{fmt.Sprintf("AS%d>", p.Up.Customer), fmt.Sprintf("AS%d", p.Up.Provider)}, "", lookupASPAColumns[3].width-2),
				asnCell(p.Up.Providers, 3, lookupASPAColumns[4].width-2))
			if p.Down != nil {
				h, pr := alignLines(fitLines([]string{fmt.Sprintf("AS%d>", p.Down.Customer), fmt.Sprintf("AS%d", p.Down.Provider)}, "", lookupASPAColumns[3].width-2),
					asnCell(p.Down.Providers, 3, lookupASPAColumns[4].width-2))
				hop, provs = hop+"\n"+h, provs+"\n"+pr
			}
		case p.Reason == rov.ASPAReasonFirstAS:
			hop = fmt.Sprintf("first AS%d", p.FirstAS)
		}
		t.Append([]string{peerCellWidth(p.PeerAS, p.PeerIP, lookupASPAColumns[0].width-2), p.Path, verdict, hop, provs})
	}
	return renderTop(w, t, len(a.ASPAPaths), top)
}

// errASPAPathCSV: an AS path answer has no route rows for the CSV.
var errASPAPathCSV = errors.New("lookup: an AS path query is answered in table, json or ndjson, not csv (its hops are not route rows)")
