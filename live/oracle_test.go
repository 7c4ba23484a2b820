package live

import (
	"cmp"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/classify"
	bgp "github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/table"
)

var oracleSteps = flag.Int("oracle.steps", 200, "events per seed in TestOracle (more: a longer, slower soak)")

// model is the obviously-correct live table: every peer's paths in plain
// maps and the VRP set as a map, turned into a batch table.Table and
// classify.Analyze'd from scratch whenever asked.
type model struct {
	maxPaths int
	peers    map[bgp.PeerKey]map[pathKey]mpath
	vrps     map[vrpKey]rov.VRP
	ix       *rov.Index // of vrps; nil: to be rebuilt
}

type pathKey struct {
	prefix netip.Prefix
	id     uint32
}

type mpath struct {
	origin rov.Origin
	path   []rov.Segment
	nh     netip.Addr
	time   time.Time
	rpki   bgp.RPKIState
}

type vrpKey struct {
	prefix netip.Prefix
	maxLen uint8
	asn    uint32
}

func keyOfVRP(v rov.VRP) vrpKey { return vrpKey{v.Prefix, v.MaxLen, v.ASN} }

func (m *model) apply(r *bgp.Route) {
	k := bgp.PeerKey{AS: r.Peer.AS, IP: r.Peer.IP}
	ps := m.peers[k]
	if ps == nil {
		ps = map[pathKey]mpath{}
		m.peers[k] = ps
	}
	pk := pathKey{r.Prefix, r.PathID}
	switch r.Kind {
	case bgp.Announce:
		if _, ok := ps[pk]; !ok && m.maxPaths > 0 && len(ps) >= m.maxPaths {
			return
		}
		ps[pk] = mpath{r.Origin, clonePath(r.Path), r.NextHop, r.Time, r.RPKIState}
	case bgp.Withdraw:
		delete(ps, pk)
	case bgp.PeerDown:
		clear(ps)
	}
}

func clonePath(p []rov.Segment) []rov.Segment {
	out := make([]rov.Segment, len(p))
	for i, s := range p {
		out[i] = rov.Segment{Type: s.Type, ASNs: slices.Clone(s.ASNs)}
	}
	return out
}

func (m *model) vrpList() []rov.VRP {
	out := slices.Collect(maps.Values(m.vrps))
	slices.SortFunc(out, rov.CanonicalOrder)
	return out
}

// analyze is the batch answer: a table of the surviving paths, a fresh
// index of the current VRPs, classify.Analyze.
func (m *model) analyze(opt classify.Options) *classify.Analysis {
	tab := table.New()
	keys := slices.SortedFunc(maps.Keys(m.peers), func(a, b bgp.PeerKey) int {
		return cmp.Or(cmp.Compare(a.AS, b.AS), a.IP.Compare(b.IP))
	})
	for _, k := range keys {
		ps := m.peers[k]
		if len(ps) == 0 {
			continue
		}
		pi := tab.Peer(k)
		for pk, p := range ps {
			tab.Add(pk.prefix, p.origin, pi, rov.FinalASSet(p.path))
		}
	}
	if m.ix == nil {
		m.ix = rov.NewIndex(m.vrpList())
	}
	return classify.Analyze(tab, m.ix, opt)
}

type routeID struct {
	prefix netip.Prefix
	origin rov.Origin
}

// routeView is what one route of an Analysis says, in terms that do not
// depend on route ids or VRP numbering.
type routeView struct {
	Paths   uint32
	Peers   []bgp.PeerKey
	ASSet   []uint32
	Origin  rov.Origin
	State   rov.State
	Class   classify.Class
	AS0     bool
	Unval   bool
	Dropped bool
	VRPs    []rov.VRP
	Impact  classify.Impact
	Cover   netip.Prefix
	CoverBy []routeID
	Share   float64
}

func viewOf(a *classify.Analysis) map[routeID]routeView {
	t := a.Table
	out := map[routeID]routeView{}
	for id, r := range t.Routes() {
		o := a.Outcomes[id]
		v := routeView{Paths: r.Paths, ASSet: t.ASSet(id), Origin: o.Origin, State: o.State, Class: o.Class,
			AS0: o.AS0, Unval: o.Unvalidated, Dropped: o.Dropped}
		for _, p := range t.RoutePeers(id, nil) {
			v.Peers = append(v.Peers, t.Peers()[p])
		}
		slices.SortFunc(v.Peers, func(a, b bgp.PeerKey) int { return cmp.Or(cmp.Compare(a.AS, b.AS), a.IP.Compare(b.IP)) })
		for _, i := range a.VRPs(id) {
			v.VRPs = append(v.VRPs, a.Index.VRPs()[i])
		}
		as := a.Assess(id, nil)
		v.Impact, v.Cover, v.Share = as.Impact, as.Cover, as.CoveredShare
		for _, e := range as.CoverEntries {
			v.CoverBy = append(v.CoverBy, routeID{t.Routes()[e].Prefix, t.Routes()[e].Origin})
		}
		slices.SortFunc(v.CoverBy, compareRouteID)
		out[routeID{r.Prefix, r.Origin}] = v
	}
	return out
}

func compareRouteID(a, b routeID) int {
	return cmp.Or(a.prefix.Addr().Compare(b.prefix.Addr()), cmp.Compare(a.prefix.Bits(), b.prefix.Bits()),
		cmp.Compare(a.origin.Kind, b.origin.Kind), cmp.Compare(a.origin.ASN, b.origin.ASN))
}

func peersOf(a *classify.Analysis) []bgp.PeerKey {
	out := slices.Clone(a.Table.Peers())
	slices.SortFunc(out, func(a, b bgp.PeerKey) int { return cmp.Or(cmp.Compare(a.AS, b.AS), a.IP.Compare(b.IP)) })
	return out
}

// gen draws events from a small universe so that routes collide: few
// prefixes (nested, IPv4 and IPv6), few origins, three peers with ADD-PATH
// ids, AS_SET and local (empty, confederation) paths.
type gen struct {
	r     *rand.Rand
	peers []bgp.Peer
}

func newGen(seed uint64) *gen {
	g := &gen{r: rand.New(rand.NewPCG(seed, seed^0x9e37)), peers: []bgp.Peer{
		{AS: 64501, IP: netip.MustParseAddr("192.0.2.1")},
		{AS: 64502, IP: netip.MustParseAddr("192.0.2.2")},
		{AS: 64502, IP: netip.MustParseAddr("2001:db8::2")},
	}}
	for i := range oracleExtraPeers {
		g.peers = append(g.peers, bgp.Peer{AS: uint32(65100 + i%5), IP: netip.AddrFrom4([4]byte{198, 51, 100, byte(i)})})
	}
	return g
}

// oracleExtraPeers adds peers to the three of gen (TestOracleManyPeers).
var oracleExtraPeers = 0

// TestOracleManyPeers is TestOracle with 100 peers: routes' peer bitsets
// take four 32-bit words (two of the table's 64-bit ones), and peers
// going down leave gaps that snapshots renumber.
func TestOracleManyPeers(t *testing.T) {
	oracleExtraPeers = 97
	defer func() { oracleExtraPeers = 0 }()
	for seed := range uint64(4) {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			st := runOracle(t, seed, int(seed%3), seed%2 == 1, *oracleSteps)
			if st.Peers <= 64 || st.Events["peer_down"] == 0 {
				t.Errorf("%d peers hold paths at the end, %d went down: want more than 64, and some", st.Peers, st.Events["peer_down"])
			}
		})
	}
}

func (g *gen) prefix() netip.Prefix {
	if g.r.IntN(5) == 0 {
		bits := []int{32, 40, 44, 48, 49}[g.r.IntN(5)]
		a := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, byte(g.r.IntN(2)), byte(g.r.IntN(2) << 4)})
		return netip.PrefixFrom(a, bits).Masked()
	}
	bits := []int{8, 12, 16, 20, 22, 23, 24, 25}[g.r.IntN(8)]
	a := netip.AddrFrom4([4]byte{10, byte(g.r.IntN(2) << 4), byte(g.r.IntN(4)), byte(g.r.IntN(2) << 7)})
	return netip.PrefixFrom(a, bits).Masked()
}

func (g *gen) path() []rov.Segment {
	first := uint32(64500 + g.r.IntN(3))
	switch g.r.IntN(12) {
	case 0:
		return []rov.Segment{{Type: rov.ASSequence, ASNs: []uint32{first}}, {Type: rov.ASSet, ASNs: []uint32{uint32(1 + g.r.IntN(3)), uint32(4 + g.r.IntN(3))}}}
	case 1:
		return nil // empty AS_PATH: the local AS (RFC 6811 §2)
	case 2:
		return []rov.Segment{{Type: rov.ASConfedSequence, ASNs: []uint32{65001}}}
	}
	return []rov.Segment{{Type: rov.ASSequence, ASNs: []uint32{first, uint32(g.r.IntN(6))}}}
}

// event draws a path event; x in [0, 90) picks its kind: announce (2/3),
// withdraw (held or not), peer down.
func (g *gen) event(x int) (bgp.Route, string) {
	switch {
	case x < 60:
		r := bgp.Route{Kind: bgp.Announce, Peer: g.peers[g.r.IntN(len(g.peers))], Prefix: g.prefix(), PathID: uint32(g.r.IntN(3)), Path: g.path(),
			NextHop: g.nextHop(), RPKIState: bgp.RPKIState(g.r.IntN(4) - 1)}
		if g.r.IntN(3) > 0 {
			r.Time = time.Unix(1445565660+int64(g.r.IntN(1000)), 0).UTC()
		}
		r.Origin = rov.OriginOf(r.Path)
		return r, "announce"
	case x < 87:
		return bgp.Route{Kind: bgp.Withdraw, Peer: g.peers[g.r.IntN(len(g.peers))], Prefix: g.prefix(), PathID: uint32(g.r.IntN(3))}, "withdraw"
	}
	return bgp.Route{Kind: bgp.PeerDown, Peer: g.peers[g.r.IntN(len(g.peers))]}, "peer_down"
}

func (g *gen) nextHop() netip.Addr {
	return []netip.Addr{{}, netip.MustParseAddr("192.0.2.254"), netip.MustParseAddr("2001:db8::fe")}[g.r.IntN(3)]
}

func (g *gen) vrp() rov.VRP {
	p := g.prefix()
	width := p.Addr().BitLen()
	return rov.VRP{Prefix: p, MaxLen: uint8(min(width, p.Bits()+g.r.IntN(5))), ASN: uint32(g.r.IntN(6)), TA: []string{"", "ripe"}[g.r.IntN(2)]}
}

func (g *gen) vrps(n int) []rov.VRP {
	out := make([]rov.VRP, n)
	for i := range out {
		out[i] = g.vrp()
	}
	return out
}

// TestOracle is the correctness test of the live table: random event
// sequences (announce, replace, withdraw of held and unknown paths, peer
// down, ADD-PATH ids, AS_SET and local origins, a prefix limit)
// interleaved with VRP changes (SetVRPs, UpdateVRPs) must leave Snapshot()
// equal to classify.Analyze of a batch table built from the surviving
// paths with a fresh index, and each VRP change must re-validate exactly
// the routes it can affect (and at least every route whose verdict
// changed).
func TestOracle(t *testing.T) {
	for seed := range uint64(6) {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			// Odd seeds find affected routes by walking the routes, even
			// ones through the VRPs' prefixes.
			st := runOracle(t, seed, int(seed%3), seed%2 == 1, *oracleSteps)
			if st.Events["announce"] == 0 || st.Events["withdraw"] == 0 || st.Events["peer_down"] == 0 || st.Skipped["withdraw_unknown"] == 0 || st.IndexBuilds == 0 {
				t.Errorf("random run did not exercise every kind: %+v", st)
			}
			if oracleOptions[seed%3].MaxPaths > 0 && st.Skipped["prefix_limit"] == 0 {
				t.Errorf("prefix limit %d never hit: %+v", oracleOptions[seed%3].MaxPaths, st)
			}
		})
	}
}

// FuzzOracle runs the oracle comparison on fuzzer-chosen seeds, options
// and lengths: every run must match the batch analysis at every step.
func FuzzOracle(f *testing.F) {
	f.Add(uint64(0), uint8(0), false, uint16(50))
	f.Add(uint64(1), uint8(1), true, uint16(120))
	f.Add(uint64(99), uint8(2), false, uint16(200))
	f.Fuzz(func(t *testing.T, seed uint64, opt uint8, walkRoutes bool, steps uint16) {
		runOracle(t, seed, int(opt)%len(oracleOptions), walkRoutes, int(steps%400))
	})
}

var oracleOptions = []Options{
	{},
	{Classify: classify.Options{ASSet: classify.ASSetWithdraw, LocalAS: 5}, MaxPaths: 12},
	{Classify: classify.Options{ASSet: classify.ASSetNotFound, Impact: classify.ImpactOptions{CountDefault: true}}},
}

// runOracle applies steps random events and VRP changes drawn from seed to
// a State and to the model, checking after each one (see TestOracle).
func runOracle(t *testing.T, seed uint64, optIndex int, walkRoutes bool, steps int) Stats {
	t.Helper()
	opt := oracleOptions[optIndex]
	g := newGen(seed)
	s := New(opt)
	s.attrSlack = 3 // compact interned AS paths and next hops often
	s.walkRoutesAbove = 1e9
	if walkRoutes {
		s.walkRoutesAbove = 0
	}
	var affected []routeID
	s.onRevalidate = func(ids []uint32) {
		affected = affected[:0]
		for _, id := range ids {
			rt := s.routes[id]
			affected = append(affected, routeID{s.pfx.keys.prefix(rt.prefix), rt.origin()})
		}
	}
	m := &model{maxPaths: opt.MaxPaths, peers: map[bgp.PeerKey]map[pathKey]mpath{}, vrps: map[vrpKey]rov.VRP{}}
	// Events may arrive while a VRP change builds its index (without the
	// lock); the change must then handle the routes they made too.
	var before map[routeID]routeView
	s.beforeInstall = func() {
		for range g.r.IntN(3) {
			r, _ := g.event(g.r.IntN(90))
			s.Apply(&r)
			m.apply(&r)
		}
		before = viewOf(m.analyze(opt.Classify))
	}
	var r bgp.Route
	for step := range steps {
		what := ""
		switch x := g.r.IntN(100); {
		case x < 90:
			r, what = g.event(x)
		default:
			before = viewOf(m.analyze(opt.Classify))
			oldSet := m.vrpList()
			var n int
			if x < 94 {
				vs := g.vrps(g.r.IntN(40))
				if g.r.IntN(3) == 0 && len(oldSet) > 0 {
					// A reload that mostly repeats the set.
					vs = append(slices.Clone(oldSet[:len(oldSet)/2]), vs[:len(vs)/4]...)
				}
				n = s.SetVRPs(vs)
				clear(m.vrps)
				m.ix = nil
				for _, v := range canonical(vs) {
					m.vrps[keyOfVRP(v)] = v
				}
				what = "SetVRPs"
			} else {
				ann := g.vrps(g.r.IntN(4))
				var wd []rov.VRP
				for range g.r.IntN(4) {
					if len(oldSet) > 0 && g.r.IntN(3) > 0 {
						wd = append(wd, oldSet[g.r.IntN(len(oldSet))])
					} else {
						wd = append(wd, g.vrp()) // absent: ignored
					}
				}
				affected = affected[:0]
				n = s.UpdateVRPs(ann, wd)
				m.ix = nil
				for _, v := range wd {
					delete(m.vrps, keyOfVRP(v))
				}
				for _, v := range canonical(ann) {
					if _, ok := m.vrps[keyOfVRP(v)]; !ok {
						m.vrps[keyOfVRP(v)] = v
					}
				}
				what = "UpdateVRPs"
			}
			checkRevalidated(t, step, n, affected, before, oldSet, m.vrpList(), viewOf(m.analyze(opt.Classify)))
		}
		if what != "SetVRPs" && what != "UpdateVRPs" {
			s.Apply(&r)
			m.apply(&r)
		}
		checkSnapshot(t, step, what, s, m, opt)
	}
	return s.Stats()
}

func checkSnapshot(t *testing.T, step int, what string, s *State, m *model, opt Options) {
	t.Helper()
	snap := s.Snapshot()
	want := m.analyze(opt.Classify)
	got, exp := viewOf(snap.Analysis), viewOf(want)
	if len(got) != len(exp) {
		t.Fatalf("step %d (%s): %d routes, batch %d", step, what, len(got), len(exp))
	}
	for k, w := range exp {
		g, ok := got[k]
		if !ok {
			t.Fatalf("step %d (%s): route %v missing, batch has %+v", step, what, k, w)
		}
		if fmt.Sprint(g) != fmt.Sprint(w) {
			t.Fatalf("step %d (%s): route %v:\n got %+v\nwant %+v", step, what, k, g, w)
		}
	}
	if g, w := peersOf(snap.Analysis), peersOf(want); !slices.Equal(g, w) {
		t.Fatalf("step %d (%s): peers %v, batch %v", step, what, g, w)
	}
	if g, w := snap.Analysis.Table.Paths(), want.Table.Paths(); g != w {
		t.Fatalf("step %d (%s): %d paths, batch %d", step, what, g, w)
	}
	st := s.Stats()
	if st.Routes != int64(len(exp)) || st.Paths != want.Table.Paths() || st.Peers != len(want.Table.Peers()) || st.VRPs != len(m.vrps) || snap.VRPs != len(m.vrps) {
		t.Fatalf("step %d (%s): stats %+v, batch %d routes %d paths %d peers %d VRPs", step, what, st, len(exp), want.Table.Paths(), len(want.Table.Peers()), len(m.vrps))
	}
	for k, ps := range m.peers {
		if st.PeerPaths[k] != int64(len(ps)) {
			t.Fatalf("step %d (%s): peer %v holds %d paths, model %d", step, what, k, st.PeerPaths[k], len(ps))
		}
	}
	// The summary counts, of the snapshot and of its DiffBase, against
	// the batch analysis counted route by route as watch's summary line
	// once did.
	if g, w := snap.Counts(), countsOf(want); g != w {
		t.Fatalf("step %d (%s): counts %+v, batch %+v", step, what, g, w)
	}
	if g, w := snap.DiffBase().Counts(), snap.Counts(); g != w {
		t.Fatalf("step %d (%s): DiffBase counts %+v, snapshot's %+v", step, what, g, w)
	}
	checkPaths(t, step, what, s, m)
}

// countsOf counts a batch analysis's routes by verdict, assessing the
// impact of every dropped route.
func countsOf(a *classify.Analysis) Counts {
	c := Counts{Paths: int(a.Table.Paths()), Routes: len(a.Table.Routes())}
	for id := range a.Table.Routes() {
		o := a.Outcomes[id]
		switch {
		case o.Unvalidated:
			c.Unvalidated++
		case o.State == rov.Valid:
			c.Valid++
		case o.State == rov.Invalid:
			c.Invalid++
		default:
			c.NotFound++
		}
		if o.Dropped {
			c.Dropped++
			if a.Assess(id, nil).Impact == classify.Unreachable {
				c.Unreachable++
			}
		}
	}
	return c
}

// checkPaths holds the dump view to the model: every held path with the
// attributes of its last announcement, in (prefix, peer, path id) order.
func checkPaths(t *testing.T, step int, what string, s *State, m *model) {
	t.Helper()
	var want []string
	for k, ps := range m.peers {
		for pk, p := range ps {
			want = append(want, fmt.Sprintf("%s AS%d %s id=%d %v %v nh=%v t=%v rpki=%d", pk.prefix, k.AS, k.IP, pk.id, p.path, p.origin, p.nh, p.time, p.rpki))
		}
	}
	slices.Sort(want)
	peers, all := s.Paths()
	var got []string
	var prev *routeOrder
	for r := range all {
		k := peers[r.Peer.Index]
		got = append(got, fmt.Sprintf("%s AS%d %s id=%d %v %v nh=%v t=%v rpki=%d", r.Prefix, k.AS, k.IP, r.PathID, r.Path, r.Origin, r.NextHop, r.Time, r.RPKIState))
		cur := routeOrder{r.Prefix, k, r.PathID}
		if prev != nil && prev.compare(cur) >= 0 {
			t.Fatalf("step %d (%s): dump order: %v after %v", step, what, cur, *prev)
		}
		prev = &cur
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("step %d (%s): dump\n got %q\nwant %q", step, what, got, want)
	}
}

type routeOrder struct {
	prefix netip.Prefix
	peer   bgp.PeerKey
	id     uint32
}

func (a routeOrder) compare(b routeOrder) int {
	return cmp.Or(a.prefix.Addr().Compare(b.prefix.Addr()), cmp.Compare(a.prefix.Bits(), b.prefix.Bits()),
		cmp.Compare(a.peer.AS, b.peer.AS), a.peer.IP.Compare(b.peer.IP), cmp.Compare(a.id, b.id))
}

// checkRevalidated holds a VRP change to its contract: the routes
// re-validated are exactly those inside a VRP that entered or left, plus
// the Invalid routes strictly containing a changed VRP of their origin
// (brute force over both sets), and they include every route whose verdict
// changed.
func checkRevalidated(t *testing.T, step, n int, affected []routeID, before map[routeID]routeView, oldSet, newSet []rov.VRP, after map[routeID]routeView) {
	t.Helper()
	var changed []rov.VRP
	inOld := map[rov.VRP]bool{}
	for _, v := range oldSet {
		inOld[v] = true
	}
	inNew := map[rov.VRP]bool{}
	for _, v := range newSet {
		inNew[v] = true
		if !inOld[v] {
			changed = append(changed, v)
		}
	}
	for _, v := range oldSet {
		if !inNew[v] {
			changed = append(changed, v)
		}
	}
	want := map[routeID]bool{}
	for k, v := range before {
		for _, c := range changed {
			if c.Prefix.Bits() <= k.prefix.Bits() && c.Prefix.Contains(k.prefix.Addr()) {
				want[k] = true
			}
			if c.ASN != 0 && v.State == rov.Invalid && v.Origin == (rov.Origin{Kind: rov.OriginAS, ASN: c.ASN}) &&
				c.Prefix.Bits() > k.prefix.Bits() && k.prefix.Contains(c.Prefix.Addr()) {
				want[k] = true
			}
		}
	}
	if len(changed) == 0 {
		if n != 0 {
			t.Fatalf("step %d: no VRP changed, yet %d routes re-validated", step, n)
		}
		return
	}
	if n != len(want) || len(affected) != n {
		t.Fatalf("step %d: re-validated %d (%d listed), want %d (changed VRPs %v)", step, n, len(affected), len(want), changed)
	}
	for _, k := range affected {
		if !want[k] {
			t.Fatalf("step %d: re-validated %v, which no changed VRP %v affects", step, k, changed)
		}
	}
	for k, b := range before {
		a := after[k]
		b.Impact, b.Cover, b.CoverBy, b.Share = 0, netip.Prefix{}, nil, 0
		a.Impact, a.Cover, a.CoverBy, a.Share = 0, netip.Prefix{}, nil, 0
		if fmt.Sprint(a) != fmt.Sprint(b) && !want[k] {
			t.Fatalf("step %d: verdict of %v changed (%+v -> %+v) but it is outside every changed VRP %v", step, k, b, a, changed)
		}
	}
}

func (k routeID) String() string {
	switch k.origin.Kind {
	case rov.OriginNone:
		return k.prefix.String() + " NONE"
	case rov.OriginLocal:
		return k.prefix.String() + " LOCAL"
	}
	return fmt.Sprintf("%s AS%d", k.prefix, k.origin.ASN)
}

func (a routeOrder) String() string {
	return fmt.Sprintf("%s AS%d %s id=%d", a.prefix, a.peer.AS, a.peer.IP, a.id)
}
