package classify

import (
	"net/netip"
	"testing"

	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/table"
)

func aspaSeq(asns ...uint32) []rov.Segment { return []rov.Segment{{Type: rov.ASSequence, ASNs: asns}} }

// TestAnalyzeASPA pins the per-path, per-route and impact rules of
// AnalyzeASPA on a hand-made table (draft-ietf-sidrops-aspa-verification-27
// §5.6: Invalid paths are ineligible, Unknown ones are kept).
func TestAnalyzeASPA(t *testing.T) {
	const (
		origin, prov, leak, other, peerA, peerB = 64496, 64497, 64501, 64504, 64510, 64511
	)
	set := rov.NewASPASet([]rov.ASPA{{CustomerASID: origin, Providers: []uint32{prov}}})
	ix := rov.NewIndex([]rov.VRP{{Prefix: pfx("203.0.113.0/24"), MaxLen: 24, ASN: 64999}})
	pa := route.PeerKey{AS: peerA, IP: netip.MustParseAddr("192.0.2.1")}
	pb := route.PeerKey{AS: peerB, IP: netip.MustParseAddr("192.0.2.2")}
	tab := table.New()
	roles := RoleMap{Default: rov.RolePeer}
	b := NewASPABuilder(tab, set, &roles)
	// 198.51.100.0/24 from origin: unknown via peer A (origin > prov is
	// attested, prov > peer A is not), invalid via peer B (a leak).
	b.Add(pfx("198.51.100.0/24"), pa, aspaSeq(peerA, prov, origin))
	b.Add(pfx("198.51.100.0/24"), pb, aspaSeq(peerB, leak, origin))
	// 198.51.100.128/25 from origin: invalid on its only path; covered by
	// the /24 above, which survives via peer A.
	b.Add(pfx("198.51.100.128/25"), pb, aspaSeq(peerB, leak, origin))
	// 192.0.2.0/24: invalid on every path, nothing covers it.
	b.Add(pfx("192.0.2.0/24"), pa, aspaSeq(peerA, other, origin))
	b.Add(pfx("192.0.2.0/24"), pb, aspaSeq(peerB, leak, origin))
	// 203.0.113.0/24: ROV invalid (VRP for AS64999), ASPA unknown.
	b.Add(pfx("203.0.113.0/24"), pa, aspaSeq(peerA, other))
	// 2001:db8::/32 from a first AS that is not the peer: Invalid (step 2).
	b.Add(pfx("2001:db8::/32"), pa, aspaSeq(other, prov, origin))

	a := Analyze(tab, ix, Options{})
	im := AnalyzeASPA(a, b.Tally())
	id := func(p string, o uint32) int {
		i, ok := tab.Lookup(pfx(p), rov.Origin{Kind: rov.OriginAS, ASN: o})
		if !ok {
			t.Fatalf("route %s AS%d not in the table", p, o)
		}
		return i
	}
	if got, want := im.Paths, [4]int64{0, 0, 2, 5}; got != want {
		t.Errorf("paths by ASPA state: got %v, want %v (unverified, valid, unknown, invalid)", got, want)
	}
	// Per peer (table peer index: A came first): A sent 2 unknown and 2
	// invalid paths, B 3 invalid ones.
	for pi, want := range [][4]int64{{0, 0, 2, 2}, {0, 0, 0, 3}, {}} {
		if got := b.Tally().PeerCounts(pi); got != want {
			t.Errorf("peer %d paths by ASPA state: got %v, want %v", pi, got, want)
		}
	}
	if got := im.Matrix[rov.Invalid][rov.ASPAUnknown]; got != 1 {
		t.Errorf("matrix[invalid][unknown]: got %d, want 1", got)
	}
	if got := im.Matrix[rov.NotFound][rov.ASPAInvalid]; got != 5 {
		t.Errorf("matrix[not_found][invalid]: got %d, want 5", got)
	}
	for _, c := range []struct {
		name          string
		prefix        string
		origin        uint32
		dropped, only bool
		impact        Impact
		cover         string
	}{
		{"one path invalid, another valid: the route survives", "198.51.100.0/24", origin, false, false, ImpactNone, ""},
		{"every path invalid: ASPA alone drops it; a less-specific carries it", "198.51.100.128/25", origin, true, true, Covered, "198.51.100.0/24"},
		{"every path invalid, no cover: unreachable", "192.0.2.0/24", origin, true, true, Unreachable, ""},
		{"ROV drops it; ASPA unknown does not change that", "203.0.113.0/24", other, true, false, Unreachable, ""},
		{"first AS is not the peer: Invalid (draft §5.4 step 2)", "2001:db8::/32", origin, true, true, Unreachable, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			i := id(c.prefix, c.origin)
			if im.Dropped[i] != c.dropped || im.ASPAOnly[i] != c.only {
				t.Fatalf("dropped %v, ASPA only %v; want %v, %v", im.Dropped[i], im.ASPAOnly[i], c.dropped, c.only)
			}
			as := im.Assess(i)
			if as.Impact != c.impact {
				t.Fatalf("impact %v, want %v", as.Impact, c.impact)
			}
			if c.cover != "" && as.Cover != pfx(c.cover) {
				t.Errorf("cover %v, want %v", as.Cover, c.cover)
			}
		})
	}
	if !im.PrefixLost(pfx("192.0.2.0/24")) || im.PrefixLost(pfx("198.51.100.0/24")) {
		t.Error("PrefixLost: want 192.0.2.0/24 lost and 198.51.100.0/24 kept")
	}
	// Kept paths name the hop: 64496 does not list the leaker.
	n := 0
	for _, k := range b.Tally().Kept {
		if k.Result.Reason == rov.ASPAReasonRamps {
			n++
			if k.Result.Up != (rov.Hop{Customer: origin, Provider: leak}) && k.Result.Up != (rov.Hop{Customer: origin, Provider: other}) {
				t.Errorf("failing hop %+v", k.Result.Up)
			}
		}
	}
	if n != 4 {
		t.Errorf("%d paths invalid by a Not Provider+ hop, want 4", n)
	}
}

func TestRoleMap(t *testing.T) {
	ip := netip.MustParseAddr("192.0.2.1")
	m := RoleMap{ByIP: map[netip.Addr]rov.PeerRole{ip: rov.RoleRS}, ByAS: map[uint32]rov.PeerRole{64500: rov.RoleProvider}, Default: rov.RolePeer}
	for _, c := range []struct {
		k     route.PeerKey
		want  rov.PeerRole
		named bool
	}{
		{route.PeerKey{AS: 64500, IP: ip}, rov.RoleRS, true}, // the session's address before its AS
		{route.PeerKey{AS: 64500, IP: netip.MustParseAddr("192.0.2.9")}, rov.RoleProvider, true},
		{route.PeerKey{AS: 64501, IP: netip.MustParseAddr("192.0.2.9")}, rov.RolePeer, false},
	} {
		if r, named := m.Role(c.k); r != c.want || named != c.named {
			t.Errorf("Role(%v) = %v, %v; want %v, %v", c.k, r, named, c.want, c.named)
		}
	}
}

// TestInferIBGP: a peer none of whose paths starts with its AS is an iBGP
// feed (or a transparent RS); one that does is not; a named one is left
// alone.
func TestInferIBGP(t *testing.T) {
	ibgp := route.PeerKey{AS: 3856, IP: netip.MustParseAddr("206.220.231.55")}
	ebgp := route.PeerKey{AS: 64500, IP: netip.MustParseAddr("192.0.2.1")}
	named := route.PeerKey{AS: 64501, IP: netip.MustParseAddr("192.0.2.2")}
	var c FirstASCensus
	c.Add(ibgp, aspaSeq(64496, 64497))
	c.Add(ibgp, nil) // an empty path says nothing
	c.Add(ebgp, aspaSeq(64500, 64497))
	c.Add(ebgp, aspaSeq(64499, 64497)) // one odd path does not make it iBGP
	c.Add(named, aspaSeq(64496))
	m := RoleMap{ByAS: map[uint32]rov.PeerRole{64501: rov.RoleRS}}
	got := m.InferIBGP(&c)
	if len(got) != 1 || got[0].Peer != ibgp || got[0].Paths != 1 {
		t.Fatalf("inferred %+v, want only %v with 1 path", got, ibgp)
	}
	if r, _ := m.Role(ibgp); r != rov.RoleIBGP {
		t.Errorf("role of the iBGP feed: %v", r)
	}
	if r, _ := m.Role(named); r != rov.RoleRS {
		t.Errorf("a named peer's role changed to %v", r)
	}
}
