package collector

import (
	"net"
	"net/netip"
	"time"

	"github.com/osrg/gobgp/v3/pkg/packet/bgp"

	"github.com/rovimpact/rovimpact/mrt"
	"github.com/rovimpact/rovimpact/rov"
)

// updateConverter turns one decoded BGP UPDATE into Route events, reusing
// its Route and AS_PATH storage across calls. Not safe for concurrent use.
type updateConverter struct {
	maxPrefixes int // per peer; 0: no limit, no tracking
	route       mrt.Route
	segs        []rov.Segment
	asns        []uint32
	segs4       []rov.Segment
	asns4       []uint32
}

// nlriPrefix returns the prefix of an IPv4/IPv6 unicast NLRI.
func nlriPrefix(n bgp.AddrPrefixInterface) (netip.Prefix, uint32, bool) {
	var ip net.IP
	var bits uint8
	switch p := n.(type) {
	case *bgp.IPAddrPrefix:
		ip, bits = p.Prefix, p.Length
	case *bgp.IPv6AddrPrefix:
		ip, bits = p.Prefix, p.Length
	default:
		return netip.Prefix{}, 0, false
	}
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return netip.Prefix{}, 0, false
	}
	if _, v6 := n.(*bgp.IPv6AddrPrefix); !v6 {
		a = a.Unmap()
	}
	pfx, err := a.Prefix(int(bits))
	if err != nil {
		return netip.Prefix{}, 0, false
	}
	return pfx, n.PathIdentifier(), true
}

func appendSegments(segs []rov.Segment, asns []uint32, params []bgp.AsPathParamInterface) ([]rov.Segment, []uint32) {
	segs, asns = segs[:0], asns[:0]
	for _, p := range params {
		asns = append(asns, p.GetAS()...)
	}
	off := 0
	for _, p := range params {
		n := len(p.GetAS())
		segs = append(segs, rov.Segment{Type: rov.SegmentType(p.GetType()), ASNs: asns[off : off+n : off+n]})
		off += n
	}
	return segs, asns
}

// pathLength counts AS_PATH length as RFC 4271 §9.1.2.2 a) does: an AS_SET
// counts 1, confederation segments 0.
func pathLength(segs []rov.Segment) int {
	n := 0
	for _, s := range segs {
		switch s.Type {
		case rov.ASSequence:
			n += len(s.ASNs)
		case rov.ASSet:
			n++
		}
	}
	return n
}

// mergeAS4 reconstructs the path per RFC 6793 §4.2.3: "if the number of AS
// numbers in the AS_PATH attribute is less than the number of AS numbers in
// the AS4_PATH attribute, then the AS4_PATH attribute SHALL be ignored ...
// Otherwise ... taking as many AS numbers and path segments as necessary
// from the leading part of the AS_PATH attribute, and then prepending them
// to the AS4_PATH attribute". Confederation segments in AS4_PATH are
// discarded first (§6: a speaker MUST NOT send them; received ones are
// discarded).
func mergeAS4(path, as4 []rov.Segment) []rov.Segment {
	clean := as4[:0:0]
	for _, s := range as4 {
		if s.Type == rov.ASSequence || s.Type == rov.ASSet {
			clean = append(clean, s)
		}
	}
	n, n4 := pathLength(path), pathLength(clean)
	if n < n4 {
		return path
	}
	take := n - n4
	var out []rov.Segment
	for _, s := range path {
		if take == 0 {
			break
		}
		switch s.Type {
		case rov.ASSequence:
			k := min(take, len(s.ASNs))
			out = append(out, rov.Segment{Type: s.Type, ASNs: s.ASNs[:k:k]})
			take -= k
		case rov.ASSet:
			out = append(out, s)
			take--
		default:
			out = append(out, s) // confederation segments count 0
		}
	}
	return append(out, clean...)
}

// emit sends the withdrawals, then the announcements of u for peer;
// em.mu must be held. NLRI of other families than IPv4/IPv6 unicast are
// counted and skipped.
func (c *updateConverter) emit(u *bgp.BGPUpdate, bp *bmpPeer, t time.Time, em *emitter) {
	peer := bp.peer
	if c.maxPrefixes > 0 && bp.paths == nil {
		bp.paths = map[pathKey]struct{}{}
	}
	withdraw := func(n bgp.AddrPrefixInterface) {
		pfx, id, ok := nlriPrefix(n)
		if !ok {
			em.stats.Skipped[skipFamily]++
			return
		}
		if bp.paths != nil {
			delete(bp.paths, pathKey{pfx, id})
		}
		c.route = mrt.Route{Kind: mrt.Withdraw, Time: t, Peer: peer, Prefix: pfx, PathID: id,
			RPKIState: mrt.RPKIAbsent, FromUpdate: true, Path: c.route.Path[:0]}
		em.emitLocked(&c.route)
	}
	for _, w := range u.WithdrawnRoutes {
		withdraw(w)
	}
	var (
		reach   []bgp.AddrPrefixInterface
		nh, nh6 netip.Addr
		hasPath bool
		hasAS4  bool
		rpki    = mrt.RPKIAbsent
	)
	c.segs, c.segs4 = c.segs[:0], c.segs4[:0]
	for _, a := range u.PathAttributes {
		switch a := a.(type) {
		case *bgp.PathAttributeMpUnreachNLRI:
			for _, w := range a.Value {
				withdraw(w)
			}
		case *bgp.PathAttributeMpReachNLRI:
			reach = a.Value
			if x, ok := netip.AddrFromSlice(a.Nexthop); ok {
				nh6 = x
				if x.Is4In6() {
					nh6 = x.Unmap()
				}
			}
		case *bgp.PathAttributeNextHop:
			if x, ok := netip.AddrFromSlice(a.Value); ok {
				nh = x.Unmap()
			}
		case *bgp.PathAttributeAsPath:
			hasPath = true
			c.segs, c.asns = appendSegments(c.segs, c.asns, a.Value)
		case *bgp.PathAttributeAs4Path:
			hasAS4 = true
			params := make([]bgp.AsPathParamInterface, len(a.Value))
			for i, p := range a.Value {
				params[i] = p
			}
			c.segs4, c.asns4 = appendSegments(c.segs4, c.asns4, params)
		case *bgp.PathAttributeExtendedCommunities:
			for _, e := range a.Value {
				if v, ok := e.(*bgp.ValidationExtended); ok {
					rpki = rpkiState(uint32(v.State))
				}
			}
		}
	}
	if len(u.NLRI) == 0 && len(reach) == 0 {
		return
	}
	if !hasPath {
		// RFC 7606 §3 d: a missing well-known mandatory attribute makes
		// the UPDATE treat-as-withdraw.
		em.stats.Skipped["treat_as_withdraw"]++
		for _, n := range u.NLRI {
			withdraw(n)
		}
		for _, n := range reach {
			withdraw(n)
		}
		return
	}
	path := c.segs
	if hasAS4 {
		path = mergeAS4(c.segs, c.segs4)
	}
	announce := func(n bgp.AddrPrefixInterface, hop netip.Addr) {
		pfx, id, ok := nlriPrefix(n)
		if !ok {
			em.stats.Skipped[skipFamily]++
			return
		}
		if bp.paths != nil {
			k := pathKey{pfx, id}
			if _, held := bp.paths[k]; !held {
				if len(bp.paths) >= c.maxPrefixes {
					em.stats.Skipped["prefix_limit"]++
					return
				}
				bp.paths[k] = struct{}{}
			}
		}
		c.route = mrt.Route{Kind: mrt.Announce, Time: t, Peer: peer, Prefix: pfx, PathID: id,
			NextHop: hop, RPKIState: rpki, FromUpdate: true, Path: append(c.route.Path[:0], path...)}
		c.route.Origin = rov.OriginOf(c.route.Path)
		em.emitLocked(&c.route)
	}
	for _, n := range u.NLRI {
		announce(n, nh)
	}
	for _, n := range reach {
		announce(n, nh6)
	}
}
