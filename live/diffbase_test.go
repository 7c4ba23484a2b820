package live

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"testing"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/internal/pfxkey"
	bgp "github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/table"
)

// baseGen draws events over a small universe that reaches every part of
// a DiffBase's layout: IPv6 prefixes on both sides of /64 that differ only
// in their last 64 bits (invList.long), prefixes with several origins
// (routeSet.multi), 2- and 4-byte origin ASNs (the two ways origins are
// numbered), AS_SETs, empty AS_PATHs (the local AS) and a path ending in
// the local AS, and four peers, two sharing an AS and address.
type baseGen struct {
	r     *rand.Rand
	peers []bgp.Peer
}

const baseLocalAS = 64500

func (g *baseGen) prefix() netip.Prefix {
	if g.r.IntN(3) == 0 {
		bits := []int{32, 48, 64, 65, 96, 127, 128}[g.r.IntN(7)]
		var b [16]byte
		b[0], b[1], b[2], b[3] = 0x20, 0x01, 0x0d, 0xb8
		b[4], b[8], b[12], b[15] = byte(g.r.IntN(2)), byte(g.r.IntN(2)<<7), byte(g.r.IntN(2)), byte(g.r.IntN(4))
		return netip.PrefixFrom(netip.AddrFrom16(b), bits).Masked()
	}
	bits := []int{8, 16, 22, 24, 32}[g.r.IntN(5)]
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(g.r.IntN(2)), byte(g.r.IntN(3)), byte(g.r.IntN(2))}), bits).Masked()
}

var baseASNs = []uint32{0, 1, 2, 3, baseLocalAS, 65535, 65536, 4200000000, 4294967295}

func (g *baseGen) path() []rov.Segment {
	switch g.r.IntN(10) {
	case 0:
		return nil // the local AS (RFC 6811 §2)
	case 1:
		return []rov.Segment{{Type: rov.ASSequence, ASNs: []uint32{64501}}, {Type: rov.ASSet, ASNs: []uint32{1, 2}}}
	}
	return []rov.Segment{{Type: rov.ASSequence, ASNs: []uint32{64501, baseASNs[g.r.IntN(len(baseASNs))]}}}
}

func (g *baseGen) event() bgp.Route {
	peer := g.peers[g.r.IntN(len(g.peers))]
	switch x := g.r.IntN(100); {
	case x < 65:
		r := bgp.Route{Kind: bgp.Announce, Peer: peer, Prefix: g.prefix(), PathID: uint32(g.r.IntN(2)), Path: g.path()}
		r.Origin = rov.OriginOf(r.Path)
		return r
	case x < 96:
		return bgp.Route{Kind: bgp.Withdraw, Peer: peer, Prefix: g.prefix(), PathID: uint32(g.r.IntN(2))}
	}
	return bgp.Route{Kind: bgp.PeerDown, Peer: peer}
}

func (g *baseGen) vrps(n int) []rov.VRP {
	out := make([]rov.VRP, n)
	for i := range out {
		p := g.prefix()
		out[i] = rov.VRP{Prefix: p, MaxLen: uint8(min(p.Addr().BitLen(), p.Bits()+g.r.IntN(9))),
			ASN: baseASNs[g.r.IntN(len(baseASNs))], TA: []string{"", "ripe", "arin"}[g.r.IntN(3)]}
	}
	return out
}

// TestDiffBaseOracle: a DiffBase answers every question watch asks of the
// previous table exactly as the whole snapshot it was made of: Diff
// against it (to the next snapshot and to nothing), Counts, Has of every
// route of either table and of near misses (other origins, the local
// AS's two keys, host bits set, an unknown prefix), and Carriers and
// DecidingVRP (TA included) of every invalid route; through random
// events, VRP changes (SetVRPs and UpdateVRPs) and the three AS_SET
// policies (notfound: invalid routes that are not dropped). The State's
// own DiffBase (no snapshot) must give the same answers of its table.
func TestDiffBaseOracle(t *testing.T) {
	seen := map[string]int{}
	for seed := range uint64(9) {
		g := &baseGen{r: rand.New(rand.NewPCG(seed, 29)), peers: []bgp.Peer{
			{AS: 64501, IP: netip.MustParseAddr("192.0.2.1")},
			{AS: 64502, IP: netip.MustParseAddr("192.0.2.2")},
			{AS: 64503, IP: netip.MustParseAddr("2001:db8::3")},
			{AS: 64503, IP: netip.MustParseAddr("2001:db8::3"), Index: 1},
		}}
		opt := Options{Classify: classify.Options{LocalAS: baseLocalAS, ASSet: []classify.ASSetPolicy{classify.ASSetInvalid, classify.ASSetWithdraw, classify.ASSetNotFound}[seed%3]}}
		runBaseOracle(t, seed, g, opt, 250, seen)
	}
	for _, k := range []string{"appeared", "disappeared", "changed", "multi", "long", "asn4", "local", "held", "not_held", "vrp", "no_vrp", "peer_dropped"} {
		if seen[k] == 0 {
			t.Errorf("the random runs never reached %q: %v", k, seen)
		}
	}
}

// TestDiffBaseOracleWide is TestDiffBaseOracle with no local AS set
// (routes from the local AS are Unvalidated, RFC 6811 §2 leaves them to
// the router) and with 33, 64, 65, 70 and 130 peers: the State keeps 32-bit
// peer words and a table 64-bit ones (tableBits widens them), with every
// peer holding a path (the identity numbering) or not, peers going down
// and their slots reused, and pairs of peers sharing an AS and address.
func TestDiffBaseOracleWide(t *testing.T) {
	seen := map[string]int{}
	for i, n := range []int{4, 33, 64, 65, 130, 70} {
		seed := uint64(100 + i)
		g := &baseGen{r: rand.New(rand.NewPCG(seed, 31))}
		for p := range n {
			// In the last two runs every tenth peer shares the previous
			// one's AS and address.
			as, ip := uint32(64600+p), netip.AddrFrom4([4]byte{192, 0, 2, byte(p)})
			idx := 0
			if i >= 4 && p%10 == 9 {
				as, ip, idx = uint32(64600+p-1), netip.AddrFrom4([4]byte{192, 0, 2, byte(p - 1)}), 1
			}
			g.peers = append(g.peers, bgp.Peer{AS: as, IP: ip, Index: idx})
		}
		localAS := uint32(0)
		if i%2 == 1 {
			localAS = baseLocalAS
		}
		opt := Options{Classify: classify.Options{LocalAS: localAS, ASSet: []classify.ASSetPolicy{classify.ASSetInvalid, classify.ASSetWithdraw, classify.ASSetNotFound}[i%3]}}
		runBaseOracle(t, seed, g, opt, 120, seen)
	}
	for _, k := range []string{"appeared", "disappeared", "multi", "held", "vrp", "peer_dropped", "unvalidated", "identity_wide"} {
		if seen[k] == 0 {
			t.Errorf("the random runs never reached %q: %v", k, seen)
		}
	}
}

// runBaseOracle runs steps of random events and VRP changes through a new
// State with opt and checks the DiffBases of its snapshots, and its own,
// against the snapshots (see TestDiffBaseOracle).
func runBaseOracle(t *testing.T, seed uint64, g *baseGen, opt Options, steps int, seen map[string]int) {
	t.Helper()
	localAS := opt.Classify.LocalAS
	{
		s := New(opt)
		feed := s.Feed()
		s.SetVRPs(g.vrps(25))
		if len(g.peers) > 4 {
			// Every peer holds a path: the table numbers the peers as the
			// State does (tablePeers' identity) until one goes down.
			for _, p := range g.peers {
				r := bgp.Route{Kind: bgp.Announce, Peer: p, Prefix: g.prefix(), Path: g.path()}
				r.Origin = rov.OriginOf(r.Path)
				feed(&r)
			}
		}
		prev := s.Snapshot()
		prevLight := s.DiffBase()
		for step := range steps {
			switch {
			case step%40 == 39:
				s.SetVRPs(g.vrps(25))
			case step%40 == 19:
				s.UpdateVRPs(g.vrps(3), prev.Analysis.Index.VRPs()[:min(3, len(prev.Analysis.Index.VRPs()))])
			}
			for range 1 + g.r.IntN(5) {
				r := g.event()
				feed(&r)
			}
			next := s.Snapshot()
			base := prev.DiffBase()
			if base.Analysis != nil || base.Epoch != prev.Epoch || base.VRPs != prev.VRPs {
				t.Fatal("DiffBase keeps the analysis, or loses the epoch or the VRP count")
			}
			if got, want := Diff(base, next), Diff(prev, next); !reflect.DeepEqual(got, want) {
				t.Fatalf("seed %d step %d: Diff from DiffBase\n%+v\nwant\n%+v", seed, step, got, want)
			}
			if got, want := Diff(base, nil), Diff(prev, nil); !reflect.DeepEqual(got, want) {
				t.Fatalf("seed %d step %d: Diff(DiffBase, nil)\n%+v\nwant\n%+v", seed, step, got, want)
			}
			if got, want := base.Counts(), prev.Counts(); got != want {
				t.Fatalf("seed %d step %d: DiffBase Counts %+v, want %+v", seed, step, got, want)
			}
			if base.LocalAS() != localAS {
				t.Fatalf("DiffBase LocalAS %d", base.LocalAS())
			}
			for _, c := range Diff(prev, next) {
				seen[c.Kind.String()]++
			}
			checkBaseRoutes(t, fmt.Sprintf("seed %d step %d", seed, step), prev, base, next, seen)
			// The State's own DiffBase, built without a snapshot, is the
			// snapshot's: the same answers about both tables' routes, the
			// same Diff from either previous base, the same Counts.
			light := s.DiffBase()
			if light.Epoch != next.Epoch || light.VRPs != next.VRPs || light.LocalAS() != localAS {
				t.Fatalf("seed %d step %d: State.DiffBase epoch %d VRPs %d, want %d %d", seed, step, light.Epoch, light.VRPs, next.Epoch, next.VRPs)
			}
			want := Diff(prev, next)
			for _, got := range [][]Change{Diff(base, light), Diff(prevLight, light), Diff(prevLight, next)} {
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("seed %d step %d: Diff to State.DiffBase\n%+v\nwant\n%+v", seed, step, got, want)
				}
			}
			if got, want := light.Counts(), next.Counts(); got != want {
				t.Fatalf("seed %d step %d: State.DiffBase Counts %+v, want %+v", seed, step, got, want)
			}
			checkBaseRoutes(t, fmt.Sprintf("seed %d step %d (State.DiffBase)", seed, step), next, light, prev, seen)
			if c := next.Counts(); c.Unvalidated > 0 {
				seen["unvalidated"]++
			}
			s.mu.Lock()
			if _, identity := s.tablePeers(new([]bgp.PeerKey)); identity && len(s.peers) > 32 {
				seen["identity_wide"]++
			}
			s.mu.Unlock()
			prev, prevLight = next, light
		}
	}
}

// checkBaseRoutes compares base's answers with prev's about every route of
// prev and next and near misses of them.
func checkBaseRoutes(t testing.TB, at string, prev, base, next *Snapshot, seen map[string]int) {
	t.Helper()
	var buf []bgp.PeerKey
	for _, sn := range []*Snapshot{prev, next} {
		routes := sn.Analysis.Table.Routes()
		for id, r := range routes {
			if id > 0 && routes[id-1].Prefix == r.Prefix {
				seen["multi"]++
			}
			if r.Prefix.Bits() > 64 {
				seen["long"]++
			}
			if r.Origin.ASN >= 1<<16 {
				seen["asn4"]++
			}
			if r.Origin.Kind == rov.OriginLocal {
				seen["local"]++
			}
			qs := []rov.Origin{r.Origin, {Kind: rov.OriginAS, ASN: r.Origin.ASN + 1}, {Kind: rov.OriginAS, ASN: baseLocalAS},
				{Kind: rov.OriginLocal}, {Kind: rov.OriginNone}, {Kind: rov.OriginAS, ASN: 4200000000}}
			ps := []netip.Prefix{r.Prefix, netip.PrefixFrom(r.Prefix.Addr(), r.Prefix.Bits()-1)}
			if r.Prefix.Bits() < r.Prefix.Addr().BitLen() {
				ps = append(ps, netip.PrefixFrom(r.Prefix.Addr().Next(), r.Prefix.Bits())) // host bits set
			}
			for _, p := range ps {
				for _, o := range qs {
					got, want := base.Has(p, o), prev.Has(p, o)
					if got != want {
						t.Fatalf("%s: DiffBase Has(%v, %v) = %v, want %v", at, p, o, got, want)
					}
					if got {
						seen["held"]++
					} else {
						seen["not_held"]++
					}
				}
			}
		}
	}
	// Each peer's counts (watch's initial_load), and a peer with no route.
	for _, k := range append(slices.Clone(prev.Analysis.Table.Peers()), bgp.PeerKey{AS: 1, IP: netip.MustParseAddr("192.0.2.99")}) {
		got, okG := base.PeerCounts(k)
		want, okW := prev.PeerCounts(k)
		if got != want || okG != okW {
			t.Fatalf("%s: PeerCounts(%v) = %+v %v, want %+v %v", at, k, got, okG, want, okW)
		}
		if want.Dropped > 0 {
			seen["peer_dropped"]++
		}
	}
	if base.Has(netip.MustParsePrefix("198.51.100.0/24"), rov.Origin{}) || base.Has(netip.Prefix{}, rov.Origin{}) {
		t.Fatalf("%s: DiffBase holds a prefix never seen", at)
	}
	// Carriers and the deciding VRP of every invalid route of prev.
	a := prev.Analysis
	for id, r := range a.Table.Routes() {
		if !isInvalid(a.Outcomes[id]) {
			continue
		}
		gotP, okG := base.Carriers(r.Prefix, r.Origin, buf[:0])
		wantP, okW := prev.Carriers(r.Prefix, r.Origin, nil)
		if okG != okW || !slices.Equal(gotP, wantP) {
			t.Fatalf("%s: DiffBase Carriers(%v, %v) = %v %v, want %v %v", at, r.Prefix, r.Origin, gotP, okG, wantP, okW)
		}
		gotV, okG := base.DecidingVRP(r.Prefix, r.Origin)
		wantV, okW := prev.DecidingVRP(r.Prefix, r.Origin)
		if okG != okW || gotV != wantV {
			t.Fatalf("%s: DiffBase DecidingVRP(%v, %v) = %v %v, want %v %v", at, r.Prefix, r.Origin, gotV, okG, wantV, okW)
		}
		if okG {
			seen["vrp"]++
		} else {
			seen["no_vrp"]++
		}
	}
}

// TestRouteSet: the packed set against a map, with enough distinct
// origins that codes straddle words (17 bits), several origins per prefix
// and prefix ids with no route.
func TestRouteSet(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n = 5000
	var routes []table.Route
	var pids []uint32
	want := map[pidOrigin]bool{}
	for range 120_000 {
		pid := uint32(rng.IntN(n))
		var o rov.Origin
		switch rng.IntN(20) {
		case 0:
			o = rov.Origin{Kind: rov.OriginNone}
		case 1:
			o = rov.Origin{Kind: rov.OriginLocal}
		default:
			o = rov.Origin{Kind: rov.OriginAS, ASN: uint32(rng.IntN(150_000)) + []uint32{0, 1 << 20}[rng.IntN(2)]}
		}
		if want[pidOrigin{pid, o}] {
			continue
		}
		want[pidOrigin{pid, o}] = true
		routes = append(routes, table.Route{Origin: o})
		pids = append(pids, pid)
	}
	rs := newRouteSet(n+10, func(yield func(uint32, rov.Origin) bool) {
		for j, r := range routes {
			if !yield(pids[j], r.Origin) {
				return
			}
		}
	})
	if rs.w != 17 {
		t.Fatalf("code width %d, want 17 (the test should straddle words)", rs.w)
	}
	for pid := range uint32(n + 20) {
		for _, o := range []rov.Origin{{Kind: rov.OriginNone}, {Kind: rov.OriginLocal}, {Kind: rov.OriginAS, ASN: uint32(rng.IntN(150_000))}} {
			if got := rs.has(pid, o); got != want[pidOrigin{pid, o}] {
				t.Fatalf("has(%d, %v) = %v, want %v", pid, o, got, !got)
			}
		}
	}
	for k := range want {
		if !rs.has(k.pid, k.o) {
			t.Fatalf("has(%d, %v) = false", k.pid, k.o)
		}
	}
}

// TestInvListSort: routes added out of order (the general path of sort,
// which snapshots in prefix order do not take) come out in key order with
// the long prefixes' last address bits still theirs.
func TestInvListSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	g := &baseGen{r: rng}
	var l invList
	type kr struct {
		k invKey
		r uint32
	}
	var want []kr
	for i := range 500 {
		p := g.prefix()
		o := rov.Origin{Kind: rov.OriginKind(rng.IntN(3)), ASN: uint32(rng.IntN(4))}
		l.add(pfxkey.Of(p), o, invalidRoute{ref: uint32(i)})
		want = append(want, kr{keyOf(p, o), uint32(i)})
	}
	l.sort()
	slices.SortStableFunc(want, func(a, b kr) int { return compareKey(a.k, b.k) })
	for i := range l.r {
		if got := l.key(i); got != want[i].k {
			t.Fatalf("key %d = %+v, want %+v", i, got, want[i].k)
		}
		if _, ok := l.find(want[i].k.prefix(), want[i].k.origin()); !ok {
			t.Fatalf("find(%v, %v) = false", want[i].k.prefix(), want[i].k.origin())
		}
	}
}
