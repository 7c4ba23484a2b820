package reports

import (
	"cmp"
	"encoding/csv"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/rov"
)

// ASPAOriginRow is one origin AS some of whose paths are ASPA-invalid or
// unverified: its paths by verdict and the routes ASPA alone loses, the
// ASPA counterpart of OriginRow (whom the loss lands on).
type ASPAOriginRow struct {
	Origin     *uint32 `json:"origin"` // null: AS_SET (origin NONE)
	Routes     int     `json:"routes"`
	Paths      int64   `json:"paths"`
	Valid      int64   `json:"valid"`
	Unknown    int64   `json:"unknown"`
	Invalid    int64   `json:"invalid"`
	Unverified int64   `json:"unverified"`
	// RoutesDroppedASPA counts its routes ROV keeps and ASPA loses on
	// every path; RoutesDroppedROV those ROV drops.
	RoutesDroppedASPA int `json:"routes_dropped_aspa_only"`
	RoutesDroppedROV  int `json:"routes_dropped_rov"`
}

// ASPAPeerRow is one peer's paths by ASPA verdict and the procedure its
// role chose: which session brings the invalid paths.
type ASPAPeerRow struct {
	PeerAS     uint32       `json:"peer_as"`
	PeerIP     netip.Addr   `json:"peer_ip"`
	Role       rov.PeerRole `json:"role"`
	Procedure  string       `json:"procedure"` // upstream (§5.4) or downstream (§5.5)
	Paths      int64        `json:"paths"`
	Valid      int64        `json:"valid"`
	Unknown    int64        `json:"unknown"`
	Invalid    int64        `json:"invalid"`
	Unverified int64        `json:"unverified"`
}

// aspaOrigins rolls the routes up by origin, keeping the origins with an
// invalid or unverified path, most invalid paths first.
func aspaOrigins(a *classify.Analysis, im *classify.ASPAImpact, tally *classify.ASPATally) []ASPAOriginRow {
	type key struct {
		asn  uint32
		none bool
	}
	ix := map[key]int{}
	out := []ASPAOriginRow{}
	for id, r := range a.Table.Routes() {
		c := tally.Counts(id)
		if c[rov.ASPAInvalid] == 0 && c[rov.ASPAUnverified] == 0 {
			continue
		}
		k := key{asn: r.Origin.ASN, none: r.Origin.Kind != rov.OriginAS}
		i, ok := ix[k]
		if !ok {
			i = len(out)
			ix[k] = i
			out = append(out, ASPAOriginRow{Origin: originPtr(r.Origin)})
		}
		o := &out[i]
		o.Routes++
		o.Valid += int64(c[rov.ASPAValid])
		o.Unknown += int64(c[rov.ASPAUnknown])
		o.Invalid += int64(c[rov.ASPAInvalid])
		o.Unverified += int64(c[rov.ASPAUnverified])
		o.Paths = o.Valid + o.Unknown + o.Invalid + o.Unverified
		if a.Outcomes[id].Dropped {
			o.RoutesDroppedROV++
		} else if im.ASPAOnly[id] {
			o.RoutesDroppedASPA++
		}
	}
	slices.SortFunc(out, func(x, y ASPAOriginRow) int {
		return cmp.Or(cmp.Compare(y.Invalid, x.Invalid), cmp.Compare(y.RoutesDroppedASPA, x.RoutesDroppedASPA), CompareOriginASN(x.Origin, y.Origin))
	})
	return out
}

// aspaPeers is every peer's row, most invalid paths first.
func aspaPeers(a *classify.Analysis, tally *classify.ASPATally, roles []rov.PeerRole) []ASPAPeerRow {
	out := make([]ASPAPeerRow, 0, len(roles))
	for i, p := range a.Table.Peers() {
		c := tally.PeerCounts(i)
		row := ASPAPeerRow{PeerAS: p.AS, PeerIP: p.IP, Role: roles[i], Procedure: "upstream",
			Valid: c[rov.ASPAValid], Unknown: c[rov.ASPAUnknown], Invalid: c[rov.ASPAInvalid], Unverified: c[rov.ASPAUnverified]}
		row.Paths = row.Valid + row.Unknown + row.Invalid + row.Unverified
		if roles[i].Downstream() {
			row.Procedure = "downstream"
		}
		out = append(out, row)
	}
	slices.SortFunc(out, func(x, y ASPAPeerRow) int {
		return cmp.Or(cmp.Compare(y.Invalid, x.Invalid), cmp.Compare(x.PeerAS, y.PeerAS), x.PeerIP.Compare(y.PeerIP))
	})
	return out
}

// aspaOriginColumns and aspaPeerColumns fit TerminalWidth (9 + 109 + 1
// and 9 + 108 + 1) with 10-digit counts and ASNs; the peer's address
// breaks at ':' (peerCell), since tablewriter widens a column to its
// longest word.
var (
	aspaOriginColumns = []column{{"Origin", 16}, {"Routes", 12}, {"Paths", 12}, {"Valid", 12}, {"Unknown", 12},
		{"Invalid", 12}, {"Unverified", 12}, {"Routes lost to ASPA", 21}}
	aspaPeerColumns = []column{{"Peer", 26}, {"Role", 11}, {"Paths", 12}, {"Valid", 12}, {"Unknown", 12},
		{"Invalid", 12}, {"Invalid %", 11}, {"Unverified", 12}}
)

// peerCell is "AS64500 2001:db8::1", the address broken at ':' where it
// would pass the Peer column.
func peerCell(as uint32, ip netip.Addr) string {
	return peerCellWidth(as, ip, aspaPeerColumns[0].width-2)
}

// peerCellWidth is peerCell for a column of w runes.
func peerCellWidth(as uint32, ip netip.Addr, w int) string {
	s := rov.FormatASN(as)
	if !ip.IsValid() {
		return s
	}
	if len(s)+1+len(ip.String()) <= w {
		return s + " " + ip.String()
	}
	return s + "\n" + fitLines(strings.Split(ip.String(), ":"), ":", w)
}

func writeASPAOrigins(w io.Writer, rows []ASPAOriginRow, top int) error {
	fmt.Fprint(w, wrapText(fmt.Sprintf("Origins with ASPA-invalid or unverified paths (%s), most invalid paths first; "+
		"routes lost to ASPA: ROV keeps them, ASPA drops every path:", shown(len(rows), top)), TerminalWidth))
	t := compactTable(w, aspaOriginColumns)
	for _, o := range limit(rows, top) {
		t.Append([]string{foldedOrigin(o.Origin, nil), fmt.Sprint(o.Routes), fmt.Sprint(o.Paths), fmt.Sprint(o.Valid),
			fmt.Sprint(o.Unknown), fmt.Sprint(o.Invalid), fmt.Sprint(o.Unverified), fmt.Sprint(o.RoutesDroppedASPA)})
	}
	return t.Render()
}

func writeASPAPeers(w io.Writer, rows []ASPAPeerRow, top int) error {
	fmt.Fprint(w, wrapText(fmt.Sprintf("Peers (%s), most invalid paths first:", shown(len(rows), top)), TerminalWidth))
	t := compactTable(w, aspaPeerColumns)
	for _, p := range limit(rows, top) {
		t.Append([]string{peerCell(p.PeerAS, p.PeerIP), p.Role.String(), fmt.Sprint(p.Paths), fmt.Sprint(p.Valid), fmt.Sprint(p.Unknown),
			fmt.Sprint(p.Invalid), pct64(p.Invalid, p.Paths), fmt.Sprint(p.Unverified)})
	}
	return t.Render()
}

// ASPAPathColumns are the CSV columns of the ASPA-invalid and unverified
// paths (the JSON report's invalid_paths; a hop's ASPA providers are
// space-separated, "0" for an AS0 ASPA).
var ASPAPathColumns = []string{"prefix", "origin", "peer_as", "peer_ip", "role", "aspa", "reason", "first_as",
	"up_customer", "up_provider", "up_aspa_providers", "down_customer", "down_provider", "down_aspa_providers", "rov", "route_survives"}

// WriteASPAPathsCSV writes the invalid and unverified paths, one a line.
func WriteASPAPathsCSV(w io.Writer, rows []ASPAPathRow) error {
	cw := csv.NewWriter(w)
	cw.Write(ASPAPathColumns)
	hop := func(h *ASPAHop) (string, string, string) {
		if h == nil {
			return "", "", ""
		}
		ps := h.Providers
		if len(ps) == 0 {
			ps = []uint32{0}
		}
		return strconv.FormatUint(uint64(h.Customer), 10), strconv.FormatUint(uint64(h.Provider), 10), joinASNs(ps, " ", "")
	}
	for _, r := range rows {
		first := ""
		if r.FirstAS != 0 {
			first = strconv.FormatUint(uint64(r.FirstAS), 10)
		}
		uc, up, ua := hop(r.Up)
		dc, dp, da := hop(r.Down)
		cw.Write([]string{r.Prefix.String(), originString(r.Origin, ""), strconv.FormatUint(uint64(r.PeerAS), 10), addrString(r.PeerIP),
			r.Role.String(), r.State.String(), r.Reason.String(), first, uc, up, ua, dc, dp, da, r.ROV.String(), strconv.FormatBool(r.Survives)})
	}
	cw.Flush()
	return cw.Error()
}

// WriteASPAPathsNDJSON writes the invalid and unverified paths, one JSON
// object (an element of invalid_paths) a line.
func WriteASPAPathsNDJSON(w io.Writer, rows []ASPAPathRow) error {
	n := newNDJSON(w)
	ndjsonRows(n, "", rows)
	return n.close()
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}
