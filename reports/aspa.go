package reports

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/rov"
)

// ASPAReport is `rovimpact aspa`: what ASPA path verification
// (draft-ietf-sidrops-aspa-verification) would drop on top of ROV.
// `{"summary":{...,"aspa":{...}},"invalid_paths":[...],"lost_routes":[...]}`.
type ASPAReport struct {
	Summary      ASPAStudySummary `json:"summary"`
	InvalidPaths []ASPAPathRow    `json:"invalid_paths"`
	LostRoutes   []ASPALostRoute  `json:"lost_routes"`
	Customers    []ASPACustomer   `json:"aspa_customers"`
	Origins      []ASPAOriginRow  `json:"aspa_origins"`
	Peers        []ASPAPeerRow    `json:"aspa_peers"`
}

// ASPACustomer is one customer AS whose ASPA made paths invalid: the
// next ASes its ASPA does not list (a provider it forgot, or a leak) and
// what that costs. Whom to call, as OriginRow is for ROV.
type ASPACustomer struct {
	Customer   uint32   `json:"customer"`
	Providers  []uint32 `json:"aspa_providers"`
	Unlisted   []uint32 `json:"unlisted_next_ases"` // ASes above it on invalid paths
	Paths      int      `json:"invalid_paths"`
	RoutesLost int      `json:"routes_lost"` // routes with no surviving path among those
}

// ASPAStudySummary is the slide: the table, ROV's share, ASPA's share.
type ASPAStudySummary struct {
	Routes   int           `json:"routes"`
	Paths    int64         `json:"paths"`
	Peers    int           `json:"peers"`
	Prefixes int           `json:"prefixes"`
	ASPA     ASPASummary   `json:"aspa"`
	Policy   Policy        `json:"policy"`
	VRPs     VRPSummary    `json:"vrps"`
	Inputs   []Input       `json:"inputs"`
	Skipped  Skipped       `json:"skipped"`
	Notes    []string      `json:"notes"`
	Roles    ASPARoleCount `json:"roles"`
}

// ASPASummary counts paths by ASPA verdict and by ROV × ASPA, and what is
// lost when both filters run.
type ASPASummary struct {
	Draft      string `json:"draft"`     // the revision the rules follow
	ASPAs      int    `json:"aspas"`     // ASPA objects loaded (after expiry)
	Customers  int    `json:"customers"` // customer ASes with a U-SPAS entry
	Expired    int    `json:"expired"`
	Valid      int64  `json:"valid"`
	Invalid    int64  `json:"invalid"`
	Unknown    int64  `json:"unknown"`
	Unverified int64  `json:"unverified"` // AS_CONFED_SEQUENCE paths (draft §6.2)
	// InvalidBy counts invalid paths by the step that decided.
	InvalidBy map[string]int64 `json:"invalid_by"`
	// Matrix[rov_state][aspa_state] counts paths.
	Matrix map[string]map[string]int64 `json:"matrix"`
	// Routes dropped: by ROV (every path), by ASPA alone (ROV keeps the
	// route, every path is ASPA-invalid), and routes with some paths
	// ASPA-invalid but one surviving.
	RoutesDroppedROV  int `json:"routes_dropped_rov"`
	RoutesDroppedASPA int `json:"routes_dropped_aspa_only"`
	// DroppedASPABy counts those routes by the reasons of their paths
	// ("not_provider", "as_set", several joined by "+").
	DroppedASPABy      map[string]int `json:"routes_dropped_aspa_only_by"`
	RoutesPartlyASPA   int            `json:"routes_partly_aspa_invalid"`
	PrefixesLost       int            `json:"prefixes_without_surviving_route"`
	PrefixesLostByASPA int            `json:"prefixes_lost_because_of_aspa"`
	// Impact of the routes ASPA alone drops.
	Impact ImpactCounts `json:"impact_aspa_only"`
}

// ASPARoleCount says which procedure verified how many peers' paths.
type ASPARoleCount struct {
	Default    string         `json:"default"`
	Explicit   int            `json:"peers_named"`
	Defaulted  int            `json:"peers_defaulted"`
	Inferred   int            `json:"peers_inferred_ibgp"` // no path starts with the peer's AS
	ByRole     map[string]int `json:"by_role"`
	Upstream   int            `json:"peers_upstream"`
	Downstream int            `json:"peers_downstream"`
}

// ASPAHop is a hop whose customer's ASPA does not list the next AS, with
// that ASPA (the customer's U-SPAS).
type ASPAHop struct {
	Customer  uint32   `json:"customer"`
	Provider  uint32   `json:"provider"`
	Providers []uint32 `json:"aspa_providers"`
}

// ASPAPathRow is one ASPA-invalid (or unverified) path.
type ASPAPathRow struct {
	Prefix   netip.Prefix   `json:"prefix"`
	Origin   *uint32        `json:"origin"`
	PeerAS   uint32         `json:"peer_as"`
	PeerIP   netip.Addr     `json:"peer_ip"`
	Role     rov.PeerRole   `json:"role"`
	State    rov.ASPAState  `json:"aspa"`
	Reason   rov.ASPAReason `json:"reason"`
	FirstAS  uint32         `json:"first_as,omitempty"`
	Up       *ASPAHop       `json:"up_hop"`
	Down     *ASPAHop       `json:"down_hop"`
	ROV      rov.State      `json:"rov"`
	Survives bool           `json:"route_survives"` // another path of the route survives ROV and ASPA
	peer     uint32         // table peer index, for grouping
}

// ASPALostRoute is a route ROV keeps but ASPA loses on every path.
type ASPALostRoute struct {
	Prefix       netip.Prefix  `json:"prefix"`
	Origin       *uint32       `json:"origin"`
	Paths        uint32        `json:"paths"`
	ROV          rov.State     `json:"rov"`
	Reasons      []string      `json:"reasons"` // why its paths are invalid (rov.ASPAReason names)
	Impact       string        `json:"impact"`
	Cover        *netip.Prefix `json:"cover"`
	CoveredShare float64       `json:"covered_share"`
	id           int
}

// ASPADraft names the draft revision the rules cite (rov/aspa_verify.go).
const ASPADraft = "draft-ietf-sidrops-aspa-verification-27"

// ASPAInput is what BuildASPA needs besides the analyses.
type ASPAInput struct {
	Set     *rov.ASPASet
	Expired int
	Roles   classify.RoleMap
	Meta    Meta
}

// BuildASPA makes the ASPA report. Rows are sorted (prefix, origin, peer),
// so the same input gives the same bytes.
func BuildASPA(a *classify.Analysis, im *classify.ASPAImpact, tally *classify.ASPATally, in ASPAInput) ASPAReport {
	rep := ASPAReport{InvalidPaths: []ASPAPathRow{}, LostRoutes: []ASPALostRoute{}}
	s := &rep.Summary
	s.Policy, s.VRPs, s.Inputs = in.Meta.Policy, in.Meta.VRPs, in.Meta.Inputs
	s.Skipped = Skipped{Reasons: map[string]int64{}}
	for _, inp := range in.Meta.Inputs {
		for k, v := range inp.Skipped {
			s.Skipped.Reasons[k] += v
			s.Skipped.Total += v
		}
	}
	for k, v := range in.Meta.Skipped {
		s.Skipped.Reasons[k] += v
		s.Skipped.Total += v
	}
	routes := a.Table.Routes()
	s.Routes, s.Paths, s.Peers = len(routes), a.Table.Paths(), len(a.Table.Peers())
	x := &s.ASPA
	x.Draft, x.ASPAs, x.Customers, x.Expired = ASPADraft, in.Set.ASPAs(), in.Set.Len(), in.Expired
	x.Valid, x.Invalid = im.Paths[rov.ASPAValid], im.Paths[rov.ASPAInvalid]
	x.Unknown, x.Unverified = im.Paths[rov.ASPAUnknown], im.Paths[rov.ASPAUnverified]
	x.InvalidBy = map[string]int64{}
	x.Matrix = map[string]map[string]int64{}
	for rs := range im.Matrix {
		row := map[string]int64{}
		for as := range im.Matrix[rs] {
			row[rov.ASPAState(as).String()] = im.Matrix[rs][as]
		}
		x.Matrix[rov.State(rs).String()] = row
	}
	// Roles.
	rc := &s.Roles
	rc.Default, rc.ByRole = in.Roles.Default.String(), map[string]int{}
	roles := make([]rov.PeerRole, len(a.Table.Peers()))
	for i, p := range a.Table.Peers() {
		r, named := in.Roles.Role(p)
		roles[i] = r
		rc.ByRole[r.String()]++
		_, inferred := in.Roles.Inferred[p]
		switch {
		case named:
			rc.Explicit++
		case inferred:
			rc.Inferred++
		default:
			rc.Defaulted++
		}
		if r.Downstream() {
			rc.Downstream++
		} else {
			rc.Upstream++
		}
	}
	if rc.Defaulted > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("%d of %d peers have no --peer-role and are verified as %s (upstream, draft §5.4): a route collector is every peer's peer",
			rc.Defaulted, len(roles), in.Roles.Default))
	}
	if rc.Inferred > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("%d peers send no path that starts with their own AS (an iBGP feed or a transparent route server): "+
			"verified as ibgp, upstream without the first-AS check (the draft does not recommend verifying on iBGP, §6.2; --peer-role overrides)", rc.Inferred))
	}
	// Routes and prefixes.
	prefixes := map[netip.Prefix]struct{}{}
	for id, r := range routes {
		prefixes[r.Prefix] = struct{}{}
		c := tally.Counts(id)
		switch {
		case a.Outcomes[id].Dropped:
			x.RoutesDroppedROV++
		case im.ASPAOnly[id]:
			x.RoutesDroppedASPA++
			as := im.Assess(id)
			countImpact(&x.Impact, as.Impact)
			lr := ASPALostRoute{Prefix: r.Prefix, Origin: originPtr(r.Origin), Paths: r.Paths, ROV: a.Outcomes[id].State,
				Impact: as.Impact.String(), CoveredShare: as.CoveredShare, id: id}
			if as.Cover.IsValid() {
				cv := as.Cover
				lr.Cover = &cv
			}
			rep.LostRoutes = append(rep.LostRoutes, lr)
		case c[rov.ASPAInvalid] > 0:
			x.RoutesPartlyASPA++
		}
	}
	s.Prefixes = len(prefixes)
	for p := range prefixes {
		if !im.PrefixLost(p) {
			continue
		}
		x.PrefixesLost++
		if im.PrefixLostByASPA(a, p) {
			x.PrefixesLostByASPA++
		}
	}
	// Paths.
	peers := a.Table.Peers()
	for _, k := range tally.Kept {
		if k.Result.State == rov.ASPAInvalid {
			x.InvalidBy[k.Result.Reason.String()]++
		}
		r := routes[k.Route]
		p := peers[k.Peer]
		row := ASPAPathRow{Prefix: r.Prefix, Origin: originPtr(r.Origin), PeerAS: p.AS, PeerIP: p.IP, Role: roles[k.Peer],
			State: k.Result.State, Reason: k.Result.Reason, FirstAS: k.Result.FirstAS, ROV: a.Outcomes[k.Route].State,
			Survives: !im.Dropped[k.Route], peer: k.Peer}
		if k.Result.Reason == rov.ASPAReasonRamps {
			row.Up = aspaHop(in.Set, k.Result.Up)
			if k.Result.Downstream {
				row.Down = aspaHop(in.Set, k.Result.Down)
			}
		}
		rep.InvalidPaths = append(rep.InvalidPaths, row)
	}
	slices.SortFunc(rep.InvalidPaths, func(a, b ASPAPathRow) int {
		return cmp.Or(rov.ComparePrefix(a.Prefix, b.Prefix), CompareOriginASN(a.Origin, b.Origin), cmp.Compare(a.PeerAS, b.PeerAS), a.PeerIP.Compare(b.PeerIP))
	})
	// Why each lost route was lost: the distinct reasons of its paths.
	reasons := map[uint32][]string{}
	for _, k := range tally.Kept {
		if !im.ASPAOnly[k.Route] || k.Result.State != rov.ASPAInvalid {
			continue
		}
		if r := k.Result.Reason.String(); !slices.Contains(reasons[k.Route], r) {
			reasons[k.Route] = append(reasons[k.Route], r)
		}
	}
	x.DroppedASPABy = map[string]int{}
	for i := range rep.LostRoutes {
		rs := reasons[uint32(rep.LostRoutes[i].id)]
		slices.Sort(rs)
		rep.LostRoutes[i].Reasons = rs
		x.DroppedASPABy[strings.Join(rs, "+")]++
	}
	rep.Customers = aspaCustomers(rep.InvalidPaths)
	rep.Origins = aspaOrigins(a, im, tally)
	rep.Peers = aspaPeers(a, tally, roles)
	slices.SortFunc(rep.LostRoutes, func(a, b ASPALostRoute) int {
		return cmp.Or(rov.ComparePrefix(a.Prefix, b.Prefix), CompareOriginASN(a.Origin, b.Origin))
	})
	return rep
}

func aspaHop(set *rov.ASPASet, h rov.Hop) *ASPAHop {
	ps, _ := set.Providers(h.Customer)
	return &ASPAHop{Customer: h.Customer, Provider: h.Provider, Providers: slices.Clone(ps)}
}

func originPtr(o rov.Origin) *uint32 {
	if o.Kind != rov.OriginAS {
		return nil
	}
	n := o.ASN
	return &n
}

// CompareOriginASN orders rows' origin ASNs, nil (no single origin AS:
// AS_SET or none) first; the ASPA rows of aspa and lookup sort by it.
func CompareOriginASN(a, b *uint32) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	return cmp.Compare(*a, *b)
}

// WriteASPAJSON writes the report as indented JSON.
func WriteASPAJSON(w io.Writer, rep ASPAReport) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// WriteASPATable writes the human report within TerminalWidth columns:
// the verdicts, the ROV × ASPA matrix, what is lost, then the top invalid
// paths with their failing hop and deciding ASPA.
func WriteASPATable(w io.Writer, rep ASPAReport, top int) error {
	s, x := rep.Summary, rep.Summary.ASPA
	for _, l := range Losses(Summary{Inputs: s.Inputs}) {
		fmt.Fprintf(w, "PARTIAL INPUT: %s\n", l)
	}
	fmt.Fprintf(w, "Routes: %d unique (prefix, origin) from %d paths, %d peers, %d prefixes\n", s.Routes, s.Paths, s.Peers, s.Prefixes)
	fmt.Fprintf(w, "ASPAs: %d objects, %d customer ASes, %d expired; rules of %s\n", x.ASPAs, x.Customers, x.Expired, x.Draft)
	r := s.Roles
	fmt.Fprintf(w, "Peers: %d verified upstream, %d downstream (%d named by --peer-role, %d inferred ibgp, %d default %s)\n",
		r.Upstream, r.Downstream, r.Explicit, r.Inferred, r.Defaulted, r.Default)
	for _, n := range s.Notes {
		fmt.Fprint(w, wrapText("Note: "+n, TerminalWidth))
	}
	fmt.Fprintln(w)
	total := x.Valid + x.Invalid + x.Unknown + x.Unverified
	t := newTable(w, "ASPA", "Paths", "Share")
	for _, row := range []struct {
		name string
		n    int64
	}{{"valid", x.Valid}, {"unknown", x.Unknown}, {"invalid", x.Invalid}, {"unverified", x.Unverified}, {"total", total}} {
		t.Append([]string{row.name, fmt.Sprint(row.n), pct64(row.n, total)})
	}
	if err := t.Render(); err != nil {
		return err
	}
	if x.Invalid > 0 {
		var why []string
		for _, k := range []string{"not_provider", "first_as", "as_set", "empty_path"} {
			if n := x.InvalidBy[k]; n > 0 {
				why = append(why, fmt.Sprintf("%s %d", k, n))
			}
		}
		fmt.Fprintf(w, "Invalid because: %s\n", strings.Join(why, ", "))
	}
	fmt.Fprintln(w)
	t = newTable(w, "ROV \\ ASPA", "valid", "unknown", "invalid", "unverified")
	for _, rs := range []string{"valid", "not_found", "invalid"} {
		m := x.Matrix[rs]
		t.Append([]string{rs, fmt.Sprint(m["valid"]), fmt.Sprint(m["unknown"]), fmt.Sprint(m["invalid"]), fmt.Sprint(m["unverified"])})
	}
	if err := t.Render(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nRoutes dropped by ROV: %d; by ASPA alone (every path invalid): %d; with some paths ASPA-invalid but one surviving: %d\n",
		x.RoutesDroppedROV, x.RoutesDroppedASPA, x.RoutesPartlyASPA)
	if len(x.DroppedASPABy) > 0 {
		var by []string
		for _, k := range slices.Sorted(maps.Keys(x.DroppedASPABy)) {
			by = append(by, fmt.Sprintf("%s %d", k, x.DroppedASPABy[k]))
		}
		fmt.Fprintf(w, "Routes ASPA alone drops, by why their paths are invalid: %s\n", strings.Join(by, ", "))
	}
	fmt.Fprintf(w, "Prefixes with no surviving route under ROV+ASPA: %d (%d of them because of ASPA)\n", x.PrefixesLost, x.PrefixesLostByASPA)
	i := x.Impact
	fmt.Fprintf(w, "Routes ASPA alone drops: same_prefix %d, covered %d, more_specifics %d, unreachable %d\n\n",
		i.SamePrefix, i.Covered, i.MoreSpecifics, i.Unreachable)
	if len(rep.Peers) > 0 {
		if err := writeASPAPeers(w, rep.Peers, top); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	if len(rep.InvalidPaths) == 0 {
		return nil
	}
	if len(rep.Origins) > 0 {
		if err := writeASPAOrigins(w, rep.Origins, top); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	if len(rep.Customers) > 0 {
		if err := writeASPACustomers(w, rep.Customers, top); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	groups := groupASPAPaths(rep.InvalidPaths)
	fmt.Fprint(w, wrapText(fmt.Sprintf("ASPA-invalid and unverified paths: %d, as %s groups of the same route, reason and hops "+
		"(most paths first). Paths: paths (peers); failing hop: customer>provider, with the customer's ASPA providers; "+
		"route: kept (another path survives) or lost:", len(rep.InvalidPaths), shown(len(groups), top)), TerminalWidth))
	t = compactTable(w, aspaColumns)
	for _, g := range limit(groups, top) {
		p := g.row
		hop, provs := "", ""
		switch {
		case p.Up != nil:
			hop, provs = alignLines(hopCell(p.Up), provCell(p.Up.Providers))
			if p.Down != nil {
				h, pr := alignLines(hopCell(p.Down), provCell(p.Down.Providers))
				hop, provs = hop+"\n"+h, provs+"\n"+pr
			}
		case p.Reason == rov.ASPAReasonFirstAS:
			hop = fmt.Sprintf("first AS%d", p.FirstAS) // wraps at the space
		}
		left := "lost"
		if p.Survives {
			left = "kept"
		}
		why := p.Reason.String()
		if p.State == rov.ASPAUnverified {
			why = "unverified: " + why
		}
		t.Append([]string{p.Prefix.String(), foldedOrigin(p.Origin, nil), fmt.Sprintf("%d (%d)", g.paths, g.peers),
			why, hop, provs, left})
	}
	return t.Render()
}

// aspaColumns are the invalid paths table's columns within TerminalWidth
// (widths include padding; 7 + 112 + 1 = 120): what is longer wraps.
var aspaColumns = []column{{"Prefix", 26}, {"Origin", 14}, {"Paths", 9}, {"Why", 14},
	{"Failing hop", 19}, {"Customer's ASPA", 21}, {"Route", 9}}

// aspaGroup is the invalid paths of one route that failed the same way.
type aspaGroup struct {
	row          ASPAPathRow
	paths, peers int
}

// groupASPAPaths folds rows (sorted by prefix, origin, peer) that differ
// only in the peer, most paths first.
func groupASPAPaths(rows []ASPAPathRow) []aspaGroup {
	type key struct {
		prefix   netip.Prefix
		origin   uint32
		hasOrig  bool
		state    rov.ASPAState
		reason   rov.ASPAReason
		first    uint32
		up, down rov.Hop
	}
	keyOf := func(r ASPAPathRow) key {
		k := key{prefix: r.Prefix, state: r.State, reason: r.Reason, first: r.FirstAS}
		if r.Origin != nil {
			k.origin, k.hasOrig = *r.Origin, true
		}
		if r.Up != nil {
			k.up = rov.Hop{Customer: r.Up.Customer, Provider: r.Up.Provider}
		}
		if r.Down != nil {
			k.down = rov.Hop{Customer: r.Down.Customer, Provider: r.Down.Provider}
		}
		return k
	}
	ix := map[key]int{}
	var out []aspaGroup
	lastPeer := map[key]uint32{}
	for _, r := range rows {
		k := keyOf(r)
		i, ok := ix[k]
		if !ok {
			i = len(out)
			ix[k] = i
			out = append(out, aspaGroup{row: r})
		}
		out[i].paths++
		if lp, seen := lastPeer[k]; !seen || lp != r.peer {
			lastPeer[k] = r.peer
			out[i].peers++
		}
	}
	// Most paths first; among equals, hops that failed before structural
	// reasons (what ASPA itself finds).
	slices.SortStableFunc(out, func(a, b aspaGroup) int {
		return cmp.Or(cmp.Compare(b.paths, a.paths), cmp.Compare(hopFirst(b.row), hopFirst(a.row)))
	})
	return out
}

// hopCell is "ASc>ASp", on two lines when that does not fit its column.
func hopCell(h *ASPAHop) string {
	return fitLines([]string{fmt.Sprintf("AS%d>", h.Customer), fmt.Sprintf("AS%d", h.Provider)}, "", aspaColumns[4].width-2)
}

// fitLines joins parts with sep, starting a new line where the next part
// would pass width runes (tablewriter wraps only at spaces).
func fitLines(parts []string, sep string, width int) string {
	var b strings.Builder
	line := 0
	for i, p := range parts {
		if i < len(parts)-1 {
			p += sep
		}
		n := utf8.RuneCountInString(p)
		if line > 0 && line+n > width {
			b.WriteString("\n")
			line = 0
		}
		b.WriteString(p)
		line += n
	}
	return b.String()
}

// provCell lists an ASPA's providers, at most two and a count.
func provCell(ps []uint32) string {
	if len(ps) == 0 {
		return "none (AS0)"
	}
	parts := make([]string, 0, 3)
	for _, p := range ps[:min(2, len(ps))] {
		parts = append(parts, fmt.Sprintf("AS%d", p))
	}
	if len(ps) > 2 {
		parts[len(parts)-1] += fmt.Sprintf(" +%d", len(ps)-2)
	}
	return fitLines(parts, ",", aspaColumns[5].width-2)
}

func pct64(n, of int64) string {
	if of == 0 {
		return "0.0%"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(of))
}

// hopFirst ranks a group failed by a Not Provider+ hop above structural
// reasons.
func hopFirst(r ASPAPathRow) int {
	if r.Reason == rov.ASPAReasonRamps {
		return 1
	}
	return 0
}

// wrapText breaks s into lines of at most width runes at spaces (a word
// longer than width stands alone), each ending in a newline.
func wrapText(s string, width int) string {
	var b strings.Builder
	line := 0
	for i, word := range strings.Fields(s) {
		n := utf8.RuneCountInString(word)
		if i > 0 && line+1+n > width {
			b.WriteString("\n")
			line = 0
		} else if i > 0 {
			b.WriteString(" ")
			line++
		}
		b.WriteString(word)
		line += n
	}
	b.WriteString("\n")
	return b.String()
}

// alignLines pads the shorter of two cells with empty lines, so that a
// hop and its ASPA stay side by side when a second hop follows.
func alignLines(a, b string) (string, string) {
	na, nb := strings.Count(a, "\n"), strings.Count(b, "\n")
	return a + strings.Repeat("\n ", max(0, nb-na)), b + strings.Repeat("\n ", max(0, na-nb))
}

// aspaCustomers rolls the invalid paths up by the customer whose ASPA
// decided them (both hops of a downstream path count), most paths first.
func aspaCustomers(rows []ASPAPathRow) []ASPACustomer {
	ix := map[uint32]int{}
	var out []ASPACustomer
	lost := map[uint32]map[string]bool{}
	for _, r := range rows {
		for _, h := range []*ASPAHop{r.Up, r.Down} {
			if h == nil {
				continue
			}
			i, ok := ix[h.Customer]
			if !ok {
				i = len(out)
				ix[h.Customer] = i
				out = append(out, ASPACustomer{Customer: h.Customer, Providers: h.Providers})
				lost[h.Customer] = map[string]bool{}
			}
			c := &out[i]
			c.Paths++
			if !slices.Contains(c.Unlisted, h.Provider) {
				c.Unlisted = append(c.Unlisted, h.Provider)
			}
			if !r.Survives {
				lost[h.Customer][r.Prefix.String()+" "+OriginLabel(r.Origin, nil)] = true
			}
		}
	}
	for i := range out {
		slices.Sort(out[i].Unlisted)
		out[i].RoutesLost = len(lost[out[i].Customer])
	}
	slices.SortFunc(out, func(a, b ASPACustomer) int {
		return cmp.Or(cmp.Compare(b.Paths, a.Paths), cmp.Compare(a.Customer, b.Customer))
	})
	return out
}

// aspaCustomerColumns fit TerminalWidth (5 + 114 + 1 = 120).
var aspaCustomerColumns = []column{{"Customer AS", 14}, {"Invalid paths", 15}, {"Routes lost", 13},
	{"Next ASes its ASPA does not list", 38}, {"Its ASPA providers", 34}}

func writeASPACustomers(w io.Writer, cs []ASPACustomer, top int) error {
	fmt.Fprint(w, wrapText(fmt.Sprintf("Customers whose ASPA decided invalid paths (%s), most paths first: "+
		"each unlisted AS is a provider missing from the ASPA, or a leak:", shown(len(cs), top)), TerminalWidth))
	t := compactTable(w, aspaCustomerColumns)
	for _, c := range limit(cs, top) {
		t.Append([]string{fmt.Sprintf("AS%d", c.Customer), fmt.Sprint(c.Paths), fmt.Sprint(c.RoutesLost),
			asnCell(c.Unlisted, 6, aspaCustomerColumns[3].width-2), asnCell(c.Providers, 5, aspaCustomerColumns[4].width-2)})
	}
	return t.Render()
}

// asnCell lists at most n ASNs and a count, broken into lines of width.
func asnCell(asns []uint32, n, width int) string {
	if len(asns) == 0 {
		return "none (AS0)"
	}
	parts := make([]string, 0, n)
	for _, a := range asns[:min(n, len(asns))] {
		parts = append(parts, fmt.Sprintf("AS%d", a))
	}
	if len(asns) > n {
		parts[len(parts)-1] += fmt.Sprintf(" +%d", len(asns)-n)
	}
	return fitLines(parts, ",", width)
}

// ASPADoc is the aspa report with the table's row limit and, for the
// html format, the ROV report of the same table (ROV, called only by the
// html writer) and when it was made (zero: not shown).
type ASPADoc struct {
	Report    ASPAReport
	Top       int
	ROV       func() Report
	Generated time.Time
}

// ASPAFormats is rovimpact aspa's format table.
var ASPAFormats = newFormats("aspa",
	Format[ASPADoc]{"table", func(w io.Writer, d ASPADoc) error { return WriteASPATable(w, d.Report, d.Top) }},
	Format[ASPADoc]{"json", func(w io.Writer, d ASPADoc) error { return WriteASPAJSON(w, d.Report) }},
	Format[ASPADoc]{"csv", func(w io.Writer, d ASPADoc) error { return WriteASPAPathsCSV(w, d.Report.InvalidPaths) }},
	Format[ASPADoc]{"ndjson", func(w io.Writer, d ASPADoc) error { return WriteASPAPathsNDJSON(w, d.Report.InvalidPaths) }},
	Format[ASPADoc]{"html", func(w io.Writer, d ASPADoc) error { return writeASPAHTML(w, d) }},
)
