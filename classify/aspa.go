package classify

import (
	"cmp"
	"net/netip"
	"slices"

	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/table"
)

// ASPA path verification's impact. ROV decides per route (prefix, origin);
// ASPA decides per path, since each peer's AS_PATH is verified on its own
// (draft-ietf-sidrops-aspa-verification-27 §5): a route ASPA-invalid from
// one peer survives from another. A route is gone only when every one of
// its paths is dropped, by ROV (all of them, it decides per route) or by
// ASPA (§5.6: an Invalid path "SHOULD be considered ineligible for route
// selection"; Unknown is "treated at the same preference level as ...
// Valid"). What then carries the traffic is the same question as for ROV,
// answered by the same Coverage (impact.go).

// RoleMap gives each peer its relationship to the verifying AS, as the user
// states it: by address (one session) before AS (every session with that
// AS). Peers it does not name get Default, which is rov.RolePeer for route
// collectors (a collector is every peer's peer: upstream verification).
type RoleMap struct {
	ByIP    map[netip.Addr]rov.PeerRole
	ByAS    map[uint32]rov.PeerRole
	Default rov.PeerRole
	// Inferred are roles rovimpact inferred for peers the user did not
	// name (InferIBGP); the user's ByIP and ByAS come first.
	Inferred map[route.PeerKey]rov.PeerRole
}

// Role returns k's role and whether the user named it.
func (m RoleMap) Role(k route.PeerKey) (rov.PeerRole, bool) {
	if r, ok := m.ByIP[k.IP]; ok && k.IP.IsValid() {
		return r, true
	}
	if r, ok := m.ByAS[k.AS]; ok {
		return r, true
	}
	if r, ok := m.Inferred[k]; ok {
		return r, false
	}
	return m.Default, false
}

// FirstASCensus counts, per peer, the announced paths whose first AS is
// the peer's own and all its paths with a first AS, to tell an eBGP
// session (the neighbour prepends its AS, RFC 4271 §5.1.2) from an iBGP
// feed or a transparent route server (neither does).
type FirstASCensus struct {
	counts map[route.PeerKey][2]int64 // [first AS is the peer's, paths]
}

// Add counts one announced path from peer.
func (c *FirstASCensus) Add(peer route.PeerKey, path []rov.Segment) {
	for _, s := range path {
		if len(s.ASNs) == 0 {
			continue
		}
		if s.Type != rov.ASSequence {
			return
		}
		if c.counts == nil {
			c.counts = map[route.PeerKey][2]int64{}
		}
		n := c.counts[peer]
		if s.ASNs[0] == peer.AS {
			n[0]++
		}
		n[1]++
		c.counts[peer] = n
		return
	}
}

// InferredPeer is a peer given RoleIBGP by InferIBGP, with its evidence.
type InferredPeer struct {
	Peer  route.PeerKey
	Paths int64
}

// InferIBGP gives RoleIBGP to every peer the user did not name none of
// whose paths starts with its own AS: its session does not prepend, so it
// is iBGP (a collector fed by a router of the peer's network) or a
// transparent route server, and step 2 of the draft would mark every one
// of its paths Invalid for a reason that says nothing about the path. The
// user's --peer-role overrides (rs for a route server). Returns the peers
// it inferred, sorted by AS and address.
func (m *RoleMap) InferIBGP(c *FirstASCensus) []InferredPeer {
	var out []InferredPeer
	for k, n := range c.counts {
		if _, named := m.Role(k); named || n[0] != 0 || n[1] == 0 {
			continue
		}
		if m.Inferred == nil {
			m.Inferred = map[route.PeerKey]rov.PeerRole{}
		}
		m.Inferred[k] = rov.RoleIBGP
		out = append(out, InferredPeer{Peer: k, Paths: n[1]})
	}
	slices.SortFunc(out, func(a, b InferredPeer) int {
		return cmp.Or(cmp.Compare(a.Peer.AS, b.Peer.AS), a.Peer.IP.Compare(b.Peer.IP))
	})
	return out
}

// ASPAPath is one path kept for reporting: an ASPA-invalid or unverified
// path, its route (an id of the table) and peer (a table peer index).
type ASPAPath struct {
	Route  uint32
	Peer   uint32
	Result rov.ASPAResult
}

// ASPATally collects the ASPA verdict of every path of a table, as a
// source yields them. Per route it keeps only counts (16 bytes a route);
// invalid and unverified paths are kept whole for the report. Not safe for
// concurrent use.
type ASPATally struct {
	counts [][4]uint32 // per route id, by rov.ASPAState
	peers  [][4]int64  // per table peer index, by rov.ASPAState
	// Kept are the invalid and unverified paths, in the order added.
	Kept []ASPAPath
}

// Add records the verdict on one path of route id from peer.
func (t *ASPATally) Add(route, peer int, res rov.ASPAResult) {
	for route >= len(t.counts) {
		t.counts = append(t.counts, [4]uint32{})
	}
	t.counts[route][res.State]++
	for peer >= len(t.peers) {
		t.peers = append(t.peers, [4]int64{})
	}
	t.peers[peer][res.State]++
	if res.State == rov.ASPAInvalid || res.State == rov.ASPAUnverified {
		t.Kept = append(t.Kept, ASPAPath{Route: uint32(route), Peer: uint32(peer), Result: res})
	}
}

// Counts returns route id's path counts by rov.ASPAState.
func (t *ASPATally) Counts(route int) [4]uint32 {
	if route < len(t.counts) {
		return t.counts[route]
	}
	return [4]uint32{}
}

// PeerCounts returns the path counts by rov.ASPAState of table peer
// index peer: the per-peer rollup (which session sends the invalid paths).
func (t *ASPATally) PeerCounts(peer int) [4]int64 {
	if peer < len(t.peers) {
		return t.peers[peer]
	}
	return [4]int64{}
}

// ASPAImpact is the combined verdict of ROV and ASPA on a table.
type ASPAImpact struct {
	// Paths counts paths by ASPA state; Matrix by ROV state (rov.State)
	// and ASPA state.
	Paths  [4]int64
	Matrix [3][4]int64
	// Dropped[id]: no path of route id survives ROV and ASPA together.
	Dropped []bool
	// ASPAOnly[id]: route id survives ROV but every path is ASPA-invalid.
	ASPAOnly []bool
	// Coverage answers what carries each dropped route's traffic (entries
	// indexed by route id, Dropped as above).
	Coverage *Coverage
}

// AnalyzeASPA combines a's ROV verdicts with the tally's ASPA verdicts: per
// path (the matrix), then per route (does any path survive both?), and
// indexes the survivors for impact questions exactly as Analyze does for
// ROV alone.
func AnalyzeASPA(a *Analysis, tally *ASPATally) *ASPAImpact {
	routes := a.Table.Routes()
	im := &ASPAImpact{Dropped: make([]bool, len(routes)), ASPAOnly: make([]bool, len(routes))}
	entries := make([]Entry, len(routes))
	for id, r := range routes {
		out := a.Outcomes[id]
		c := tally.Counts(id)
		var total uint32
		for s, n := range c {
			im.Paths[s] += int64(n)
			im.Matrix[out.State][s] += int64(n)
			total += n
		}
		// A route none of whose paths were verified (total 0) cannot be
		// judged by ASPA: it is left to ROV.
		allInvalid := total > 0 && c[rov.ASPAInvalid] == total
		im.Dropped[id] = out.Dropped || allInvalid
		im.ASPAOnly[id] = !out.Dropped && allInvalid
		entries[id] = Entry{Prefix: r.Prefix, State: out.State, Dropped: im.Dropped[id]}
	}
	im.Coverage = NewCoverage(entries, a.Options.Impact)
	return im
}

// Assess is the impact of losing route id once ROV and ASPA drop what they
// drop (ImpactNone when some path of it survives).
func (im *ASPAImpact) Assess(id int) Assessment { return im.Coverage.Assess(id, nil) }

// PrefixLost reports whether no route of p survives ROV and ASPA.
func (im *ASPAImpact) PrefixLost(p netip.Prefix) bool {
	ids := im.Coverage.At(p)
	for _, id := range ids {
		if !im.Dropped[id] {
			return false
		}
	}
	return len(ids) > 0
}

// PrefixLostByASPA reports whether prefix p is lost and ASPA is why: ROV
// alone would have kept one of its routes (a route whose ROV outcome is
// not dropped), so the loss is on top of what ROV costs.
func (im *ASPAImpact) PrefixLostByASPA(a *Analysis, p netip.Prefix) bool {
	if !im.PrefixLost(p) {
		return false
	}
	for _, id := range im.Coverage.At(p) {
		if !a.Outcomes[id].Dropped {
			return true
		}
	}
	return false
}

// ASPABuilder fills a table from held paths (each with its AS_PATH, as a
// RIB replay yields them) and verifies each path as it is added, so the
// paths themselves need not be kept: per path only the verdict's count
// remains (and the invalid ones, for the report).
type ASPABuilder struct {
	t      *table.Table
	v      *rov.ASPAVerifier
	roles  *RoleMap
	tally  ASPATally
	peerIx map[route.PeerKey]int
	role   []rov.PeerRole // by table peer index
}

// NewASPABuilder returns a builder adding to t and verifying against set,
// with each peer's role from roles, read when the peer's first path is
// added (so InferIBGP may run after NewASPABuilder, before Add).
func NewASPABuilder(t *table.Table, set *rov.ASPASet, roles *RoleMap) *ASPABuilder {
	return &ASPABuilder{t: t, v: rov.NewASPAVerifier(set), roles: roles, peerIx: map[route.PeerKey]int{}}
}

// Add adds the path to prefix from peer, whose AS_PATH is path (not
// retained), and verifies it with peer.AS as the neighbour AS.
func (b *ASPABuilder) Add(prefix netip.Prefix, peer route.PeerKey, path []rov.Segment) {
	pi, ok := b.peerIx[peer]
	if !ok {
		pi = b.t.Peer(peer)
		b.peerIx[peer] = pi
		for len(b.role) <= pi {
			b.role = append(b.role, 0)
		}
		b.role[pi], _ = b.roles.Role(peer)
	}
	o := rov.OriginOf(path)
	var asSet []uint32
	if o.Kind == rov.OriginNone {
		for i := len(path) - 1; i >= 0; i-- {
			if len(path[i].ASNs) > 0 {
				asSet = path[i].ASNs
				break
			}
		}
	}
	b.t.Add(prefix, o, pi, asSet)
	id, _ := b.t.Lookup(prefix, o)
	b.tally.Add(id, pi, b.v.Verify(path, peer.AS, b.role[pi]))
}

// Tally returns the verdicts collected so far.
func (b *ASPABuilder) Tally() *ASPATally { return &b.tally }
