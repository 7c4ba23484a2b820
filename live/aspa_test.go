package live

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/reports"
	bgp "github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/table"
)

// aspaPool is the ASes random ASPA paths and sets are drawn from.
var aspaPool = []uint32{64501, 64502, 10, 11, 12, 13, 14, 15}

func aspaPath(r *rand.Rand, first uint32) []rov.Segment {
	if r.IntN(15) == 0 {
		return []rov.Segment{{Type: rov.ASSequence, ASNs: []uint32{first}}, {Type: rov.ASSet, ASNs: []uint32{12, 13}}}
	}
	if r.IntN(10) == 0 {
		first = aspaPool[r.IntN(len(aspaPool))] // not the neighbour: step 2
	}
	asns := []uint32{first}
	for range r.IntN(5) {
		a := aspaPool[2+r.IntN(len(aspaPool)-2)]
		asns = append(asns, a)
		if r.IntN(4) == 0 {
			asns = append(asns, a) // a prepend
		}
	}
	return []rov.Segment{{Type: rov.ASSequence, ASNs: asns}}
}

func aspaSetOf(r *rand.Rand) []rov.ASPA {
	var out []rov.ASPA
	for _, c := range aspaPool {
		if r.IntN(3) == 0 {
			continue
		}
		var prov []uint32
		for _, p := range aspaPool {
			if p != c && r.IntN(3) == 0 {
				prov = append(prov, p)
			}
		}
		if len(prov) == 0 {
			prov = []uint32{0}
		}
		out = append(out, rov.ASPA{CustomerASID: c, Providers: prov})
	}
	return out
}

var aspaTestRoles = classify.RoleMap{
	ByIP: map[netip.Addr]rov.PeerRole{netip.MustParseAddr("192.0.2.1"): rov.RoleCustomer},
	ByAS: map[uint32]rov.PeerRole{64502: rov.RoleProvider},
}

// recountASPA verifies every held path from scratch (the oracle): counts by
// state, and the paths containing one of the ASes in changed.
func recountASPA(s *State, set *rov.ASPASet, roles classify.RoleMap, changed []uint32) (counts [4]int64, containing int) {
	v := rov.NewASPAVerifier(set)
	_, paths := s.Paths()
	for r := range paths {
		k := bgp.PeerKey{AS: r.Peer.AS, IP: r.Peer.IP}
		role, _ := roles.Role(k)
		counts[v.Verify(r.Path, k.AS, role).State]++
		found := false
		for _, sg := range r.Path {
			for _, a := range sg.ASNs {
				if _, ok := slices.BinarySearch(changed, a); ok {
					found = true
				}
			}
		}
		if found {
			containing++
		}
	}
	return counts, containing
}

// batchASPA is what `rovimpact aspa` (classify.ASPABuilder, AnalyzeASPA,
// reports.BuildASPA) says of the State's paths.
func batchASPA(s *State, set *rov.ASPASet, roles classify.RoleMap, opt classify.Options) reports.ASPASummary {
	t := table.New()
	b := classify.NewASPABuilder(t, set, &roles)
	_, paths := s.Paths()
	for r := range paths {
		b.Add(r.Prefix, bgp.PeerKey{AS: r.Peer.AS, IP: r.Peer.IP}, r.Path)
	}
	a := classify.Analyze(t, s.Snapshot().Analysis.Index, opt)
	im := classify.AnalyzeASPA(a, b.Tally())
	return reports.BuildASPA(a, im, b.Tally(), reports.ASPAInput{Set: set, Roles: roles}).Summary.ASPA
}

// sameASPASummary compares a snapshot's sums with the batch summary.
func sameASPASummary(x *SnapshotASPA, w reports.ASPASummary) string {
	got := fmt.Sprint(x.Paths[rov.ASPAValid], x.Paths[rov.ASPAInvalid], x.Paths[rov.ASPAUnknown], x.Paths[rov.ASPAUnverified],
		x.RoutesDroppedROV, x.RoutesDroppedASPA, x.RoutesPartlyASPA, x.PrefixesLost, x.PrefixesLostByASPA,
		x.Impact[classify.SamePrefix], x.Impact[classify.Covered], x.Impact[classify.MoreSpecifics], x.Impact[classify.Unreachable], x.Customers, x.ASPAs)
	want := fmt.Sprint(w.Valid, w.Invalid, w.Unknown, w.Unverified, w.RoutesDroppedROV, w.RoutesDroppedASPA, w.RoutesPartlyASPA,
		w.PrefixesLost, w.PrefixesLostByASPA, w.Impact.SamePrefix, w.Impact.Covered, w.Impact.MoreSpecifics, w.Impact.Unreachable, w.Customers, w.ASPAs)
	for r := range 8 {
		got += fmt.Sprint(" ", x.InvalidBy[rov.ASPAReason(r)])
		want += fmt.Sprint(" ", w.InvalidBy[rov.ASPAReason(r).String()])
	}
	for rs := range x.Matrix {
		for as := range x.Matrix[rs] {
			got += fmt.Sprint(" ", x.Matrix[rs][as])
			want += fmt.Sprint(" ", w.Matrix[rov.State(rs).String()][rov.ASPAState(as).String()])
		}
	}
	if got != want {
		return fmt.Sprintf("snapshot %s, batch %s", got, want)
	}
	return ""
}

// TestASPAOracle: random path events (announce, replace, withdraw, peer
// down) interleaved with ASPA set changes keep the State's ASPA counts equal
// to verifying every held path from scratch, the snapshot's per-route
// verdicts equal to the batch builder's (`rovimpact aspa`), and each set
// change re-verifies exactly the held paths that contain a changed
// customer.
func TestASPAOracle(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			g := newGen(seed)
			r := rand.New(rand.NewPCG(seed, 7))
			opt := Options{}
			s := New(opt)
			s.attrSlack = 3
			s.SetVRPs(g.vrps(20))
			var set *rov.ASPASet
			var sets, reverified int
			for step := range 400 {
				x := g.r.IntN(100)
				switch {
				case x < 8 || step == 30:
					next := rov.NewASPASet(aspaSetOf(r))
					changed := rov.ChangedCustomers(set, next)
					_, want := recountASPA(s, next, aspaTestRoles, changed)
					up := s.SetASPA(next, aspaTestRoles)
					if set == nil {
						want = int(s.Stats().Paths)
					}
					if up.Reverified != want {
						t.Fatalf("step %d: set change re-verified %d paths, %d hold a changed customer (%v)", step, up.Reverified, want, changed)
					}
					set = next
					sets++
					reverified += up.Reverified
				default:
					ev, _ := g.event(x % 90)
					if ev.Kind == bgp.Announce {
						ev.Path = aspaPath(r, ev.Peer.AS)
						ev.Origin = rov.OriginOf(ev.Path)
					}
					s.Apply(&ev)
				}
				if set == nil {
					continue
				}
				want, _ := recountASPA(s, set, aspaTestRoles, nil)
				if got := s.ASPAStats().Paths; got != want {
					t.Fatalf("step %d: ASPA counts %v, recount %v", step, got, want)
				}
				if step%10 != 0 {
					continue
				}
				if d := sameASPASummary(s.Snapshot().ASPA, batchASPA(s, set, aspaTestRoles, opt.Classify)); d != "" {
					t.Fatalf("step %d: %s", step, d)
				}
			}
			if sets < 3 || reverified == 0 {
				t.Errorf("%d set changes re-verifying %d paths: the run did not exercise them", sets, reverified)
			}
		})
	}
}

// TestASPAReverifyOnlyAffected: of 300 held paths (3 peers × 100
// prefixes), a change to one customer's ASPA re-verifies only the paths
// that contain it, and reports the paths entering and leaving Invalid.
func TestASPAReverifyOnlyAffected(t *testing.T) {
	s := New(Options{})
	peers := []bgp.Peer{{AS: 64501, IP: netip.MustParseAddr("192.0.2.1")}, {AS: 64502, IP: netip.MustParseAddr("192.0.2.2")},
		{AS: 64503, IP: netip.MustParseAddr("192.0.2.3")}}
	for i := range 100 {
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i), 0, 0}), 16)
		for _, pe := range peers {
			// Every tenth prefix is originated by AS 65010 behind AS 65001;
			// the others by 65020 behind 65002.
			path := []uint32{pe.AS, 65002, 65020}
			if i%10 == 0 {
				path = []uint32{pe.AS, 65001, 65010}
			}
			r := bgp.Route{Kind: bgp.Announce, Peer: pe, Prefix: p, Path: []rov.Segment{{Type: rov.ASSequence, ASNs: path}}}
			r.Origin = rov.OriginOf(r.Path)
			s.Apply(&r)
		}
	}
	roles := classify.RoleMap{} // every peer upstream (RolePeer)
	first := s.SetASPA(rov.NewASPASet([]rov.ASPA{{CustomerASID: 65020, Providers: []uint32{65002}}}), roles)
	if !first.First || first.Reverified != 300 {
		t.Fatalf("first set: %+v, want every one of the 300 paths verified", first)
	}
	if got := s.ASPAStats().Paths; got[rov.ASPAInvalid] != 0 {
		t.Fatalf("first set: %v invalid", got)
	}
	// AS65010 now says its only provider is 65009: the 30 paths through
	// 65010 → 65001 become Invalid (upstream: 65001 is Not Provider+ of
	// 65010); the 270 others are not looked at.
	up := s.SetASPA(rov.NewASPASet([]rov.ASPA{{CustomerASID: 65020, Providers: []uint32{65002}}, {CustomerASID: 65010, Providers: []uint32{65009}}}), roles)
	if up.Customers != 1 || up.Reverified != 30 || up.Became != 30 || up.Left != 0 || len(up.Changes) != 30 {
		t.Fatalf("one customer changed: %+v, want 30 paths re-verified, 30 became invalid", up)
	}
	if c := up.Changes[0]; c.Old != rov.ASPAUnknown || c.New != rov.ASPAInvalid || c.Origin != (rov.Origin{Kind: rov.OriginAS, ASN: 65010}) ||
		c.Result.Reason != rov.ASPAReasonRamps || c.Result.Up != (rov.Hop{Customer: 65010, Provider: 65001}) {
		t.Errorf("change %+v", c)
	}
	snap := s.Snapshot()
	if n := snap.ASPA.Paths[rov.ASPAInvalid]; n != 30 {
		t.Errorf("snapshot: %d invalid paths, want 30", n)
	}
	if lost := snap.ASPA.RoutesDroppedASPA; lost != 10 {
		t.Errorf("routes lost to ASPA alone: %d, want the 10 routes of AS65010", lost)
	}
	// Adding 65001 to AS65010's providers makes them valid again.
	up = s.SetASPA(rov.NewASPASet([]rov.ASPA{{CustomerASID: 65020, Providers: []uint32{65002}}, {CustomerASID: 65010, Providers: []uint32{65001, 65009}}}), roles)
	if up.Reverified != 30 || up.Left != 30 || up.Became != 0 {
		t.Fatalf("fixed: %+v", up)
	}
	if st := s.ASPAStats(); st.Paths[rov.ASPAInvalid] != 0 || st.Reverified != 360 || st.Sets != 3 {
		t.Errorf("stats %+v", st)
	}
	// The same set again re-verifies nothing.
	if up = s.SetASPA(rov.NewASPASet([]rov.ASPA{{CustomerASID: 65010, Providers: []uint32{65001, 65009}}, {CustomerASID: 65020, Providers: []uint32{65002}}}), roles); up.Reverified != 0 {
		t.Errorf("unchanged set: %+v", up)
	}
}

// TestASPACountsWide: a route's per-state counts are a byte each until
// one reaches 255 (hundreds of peers carrying the route), then move to
// the wide map, and back once the route's paths are gone; routeCounts
// must equal a plain model through random adds and drops crossing 255
// both ways.
func TestASPACountsWide(t *testing.T) {
	s := New(Options{})
	s.aspa.counts = make([][4]uint8, 2)
	model := make([][4]int64, 2)
	r := rand.New(rand.NewPCG(5, 6))
	maxWide := 0
	for step := range 40000 {
		rid := uint32(r.IntN(2))
		st := rov.ASPAState(r.IntN(4))
		d := 1
		// Drift up for the first half, down for the second, so that counts
		// cross 255 both ways; never below zero.
		if step >= 20000 && r.IntN(10) < 7 || step < 20000 && r.IntN(10) < 3 {
			d = -1
		}
		if model[rid][st]+int64(d) < 0 {
			continue
		}
		model[rid][st] += int64(d)
		s.aspaCount(rid, rov.ASPAResult{State: st}, d)
		maxWide = max(maxWide, len(s.aspa.wide))
		for i := range model {
			got := s.aspa.routeCounts(i)
			for j := range got {
				if int64(got[j]) != model[i][j] {
					t.Fatalf("step %d: route %d counts %v, want %v", step, i, got, model[i])
				}
			}
		}
	}
	// Drain: every route's paths go.
	for rid := range model {
		for st := range model[rid] {
			for ; model[rid][st] > 0; model[rid][st]-- {
				s.aspaCount(uint32(rid), rov.ASPAResult{State: rov.ASPAState(st)}, -1)
			}
		}
		if got := s.aspa.routeCounts(rid); got != ([4]uint32{}) {
			t.Fatalf("route %d drained: counts %v", rid, got)
		}
	}
	var wide, zero int
	for i, m := range model {
		if m == ([4]int64{}) {
			zero++
			if s.aspa.counts[i] != ([4]uint8{}) {
				t.Errorf("route %d has no paths but counts %v", i, s.aspa.counts[i])
			}
		}
		if s.aspa.counts[i] == wideMark {
			wide++
		}
	}
	if len(s.aspa.wide) != wide {
		t.Errorf("%d wide entries for %d marked routes", len(s.aspa.wide), wide)
	}
	if maxWide != 2 || zero == 0 {
		t.Errorf("the run did not exercise both ways: at most %d routes wide, %d back to no paths", maxWide, zero)
	}
}

// TestASPAManyPeers: 300 peers carrying one route (one state's count past
// a byte) leave the snapshot's ASPA sums equal to `rovimpact aspa`'s, as
// they arrive and as they go.
func TestASPAManyPeers(t *testing.T) {
	s := New(Options{})
	set := rov.NewASPASet([]rov.ASPA{{CustomerASID: 10, Providers: []uint32{11}}, {CustomerASID: 12, Providers: []uint32{0}}})
	roles := classify.RoleMap{Default: rov.RoleCustomer}
	s.SetASPA(set, roles)
	peer := func(i int) bgp.Peer {
		return bgp.Peer{AS: uint32(70000 + i), IP: netip.AddrFrom4([4]byte{10, 9, byte(i >> 8), byte(i)})}
	}
	check := func(when string) {
		t.Helper()
		if d := sameASPASummary(s.Snapshot().ASPA, batchASPA(s, set, roles, classify.Options{})); d != "" {
			t.Fatalf("%s: %s", when, d)
		}
	}
	for i := range 300 {
		path := seq(uint32(70000+i), 11, 10) // valid up to 10's provider
		if i%10 == 0 {
			path = seq(uint32(70000+i), 12, 10) // 12 has no providers: invalid
		}
		r := ann(peer(i), "192.0.2.0/24", 0, path)
		s.Apply(&r)
		if i == 254 || i == 299 {
			check(fmt.Sprint(i+1, " peers"))
		}
	}
	if len(s.aspa.wide) != 1 {
		t.Fatalf("300 paths of one route: %d wide entries, want 1", len(s.aspa.wide))
	}
	for i := range 300 {
		r := wd(peer(i), "192.0.2.0/24", 0)
		s.Apply(&r)
		if i == 100 || i == 298 {
			check(fmt.Sprint(299-i, " peers"))
		}
	}
	if len(s.aspa.wide) != 0 {
		t.Errorf("route gone: %d wide entries left", len(s.aspa.wide))
	}
}
