package classify

import (
	"net/netip"
	"slices"

	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/table"
)

// This file holds the verdicts every front door (analyze, lookup, watch's
// API, the HTML report) asks of an analysis besides a route's own state and
// class: what still carries a dropped route's traffic, each peer's own
// view, an address's reachability, how an AS's VRPs are used and which VRPs
// it would be safe to suggest. Reports only render these.

// Carrier is the best a set of surviving routes at one prefix offers: the
// prefix, the distinct ASN origins announcing it (sorted; AS_SET and local
// origins have none) and the best validation state among them.
type Carrier struct {
	Prefix  netip.Prefix
	Origins []uint32
	State   rov.State
}

// rank orders states by how good a carrier they make: a valid route is one
// ROV keeps for sure; a not-found one is kept by RFC 6811 §2 ("NotFound ...
// routes SHOULD be accepted" under the usual policy); an invalid route only
// survives under ASSetNotFound.
func rank(s rov.State) int {
	switch s {
	case rov.Valid:
		return 2
	case rov.NotFound:
		return 1
	}
	return 0
}

// Carrier describes routes ids, which must all have one prefix (the
// CoverEntries of an Assessment, or the Before/After of a Reach). It
// returns false for no routes.
func (a *Analysis) Carrier(ids []int32) (Carrier, bool) {
	if len(ids) == 0 {
		return Carrier{}, false
	}
	c := Carrier{Prefix: a.Table.Routes()[ids[0]].Prefix, Origins: []uint32{}, State: rov.Invalid}
	for _, id := range ids {
		o := a.Outcomes[id]
		if rank(o.State) > rank(c.State) {
			c.State = o.State
		}
		if o.Origin.Kind == rov.OriginAS && !slices.Contains(c.Origins, o.Origin.ASN) {
			c.Origins = append(c.Origins, o.Origin.ASN)
		}
	}
	slices.Sort(c.Origins)
	return c, true
}

// Cover is what still carries a dropped route's traffic (impact SamePrefix
// or Covered).
type Cover struct {
	Carrier
	// OtherOrigin: none of the carrier's origins is the dropped route's
	// origin, so after ROV the traffic goes to another AS. For an AS_SET
	// route (origin NONE) every cover is another origin: NONE names no AS.
	OtherOrigin bool
}

// Cover describes the cover of route id's assessment as; false when the
// assessment has no cover (ImpactNone, MoreSpecifics, Unreachable).
func (a *Analysis) Cover(id int, as Assessment) (Cover, bool) {
	if !as.Cover.IsValid() {
		return Cover{}, false
	}
	car, ok := a.Carrier(as.CoverEntries)
	if !ok {
		return Cover{}, false
	}
	origin := a.Outcomes[id].Origin
	other := origin.Kind != rov.OriginAS || !slices.Contains(car.Origins, origin.ASN)
	return Cover{Carrier: car, OtherOrigin: other}, true
}

// PeerImpact is one peer's own view: what a router with only this session
// would lose.
type PeerImpact struct {
	Peer   int // index into Table.Peers()
	Routes int // routes the peer carries
	// Dropped counts the peer's routes ROV drops; without ADD-PATH a peer
	// has one path per route, so this is its dropped paths.
	Dropped int
	// Unreachable counts the distinct prefixes of dropped routes whose
	// impact in the peer's own view (PeerView) is Unreachable.
	Unreachable int
}

// PeerImpacts is every peer's view, in Table.Peers() order. Cost: one
// Assess per (dropped route, peer carrying it).
func (a *Analysis) PeerImpacts() []PeerImpact {
	peers := a.Table.Peers()
	rows := make([]PeerImpact, len(peers))
	unreach := make([]map[netip.Prefix]struct{}, len(peers))
	var buf []int
	for id, r := range a.Table.Routes() {
		buf = a.Table.RoutePeers(id, buf[:0])
		o := a.Outcomes[id]
		for _, p := range buf {
			rows[p].Routes++
			if !o.Dropped {
				continue
			}
			rows[p].Dropped++
			if a.Assess(id, a.PeerView(p)).Impact == Unreachable {
				if unreach[p] == nil {
					unreach[p] = map[netip.Prefix]struct{}{}
				}
				unreach[p][r.Prefix] = struct{}{}
			}
		}
	}
	for p := range rows {
		rows[p].Peer, rows[p].Unreachable = p, len(unreach[p])
	}
	return rows
}

// PrefixView is everything the analysis holds about one prefix.
type PrefixView struct {
	Covering []uint32 // VRPs covering it (indexes into Index.VRPs()), most specific first
	Inside   []uint32 // VRPs strictly inside it, in (address, length) order
	Routes   []int32  // routes for exactly the prefix
	Less     []int32  // routes strictly covering it, most specific first
	More     []int32  // routes strictly inside it, in prefix order
}

// Prefix returns the PrefixView of p. Cost: index walks proportional to
// the answer.
func (a *Analysis) Prefix(p netip.Prefix) PrefixView {
	return PrefixView{
		Covering: a.Index.Covering(p, nil),
		Inside:   a.Index.Inside(p, nil),
		Routes:   a.Coverage.At(p),
		Less:     a.Coverage.Supernets(p, nil),
		More:     a.Coverage.Subnets(p, nil),
	}
}

// Announce is the verdict on a route not in the table: p announced from o,
// decided by ClassifyRoute under the analysis's options exactly as if it
// were ("what happens if I announce this?"). The Verdict's VRPs are a fresh
// slice.
func (a *Analysis) Announce(p netip.Prefix, o rov.Origin) (Outcome, Verdict) {
	out, vrps := ClassifyRoute(NewClassifier(a.Index), table.Route{Prefix: p, Origin: o}, a.Options)
	return out, Verdict{State: out.State, Class: out.Class, AS0: out.AS0, VRPs: slices.Clone(vrps)}
}

// Reach is what carries traffic to one address, today and once ROV drops
// invalid routes.
type Reach struct {
	// Routes are the routes containing the address, most specific first
	// (a default route among them).
	Routes []int32
	// Before and After are the routes at the most specific prefix that
	// carries the address today and after ROV; empty: none.
	Before, After []int32
	// Default holds the routes at the default route (0.0.0.0/0, ::/0)
	// that survive ROV but were not counted because ImpactOptions
	// CountDefault is off; empty otherwise.
	Default []int32
	// Reachable: After is not empty.
	Reachable bool
}

// Reach answers for addr with the rule Assess applies to routes: longest
// match over the routes that survive ROV, and a default route counts only
// with ImpactOptions.CountDefault ("almost everything is covered by a
// default route, which says nothing about whether the destination is still
// reachable"). The same rule applies to Before, so a destination that only
// a default route carries today is not reported as lost to ROV. A dropped
// route whose impact is SamePrefix, Covered or MoreSpecifics thus leaves
// every address in it reachable, and one that is Unreachable with
// CoveredShare 0 leaves none of them reachable, as analyze says.
func (a *Analysis) Reach(addr netip.Addr) Reach {
	host := netip.PrefixFrom(addr, addr.BitLen())
	r := Reach{Routes: append(slices.Clone(a.Coverage.At(host)), a.Coverage.Supernets(host, nil)...)}
	routes := a.Table.Routes()
	for _, id := range r.Routes { // most specific first
		p := routes[id].Prefix
		dropped := a.Outcomes[id].Dropped
		if p.Bits() == 0 && !a.Options.Impact.CountDefault {
			if !dropped {
				r.Default = append(r.Default, id)
			}
			continue
		}
		if len(r.Before) == 0 || routes[r.Before[0]].Prefix == p {
			r.Before = append(r.Before, id)
		}
		if !dropped && (len(r.After) == 0 || routes[r.After[0]].Prefix == p) {
			r.After = append(r.After, id)
		}
	}
	r.Reachable = len(r.After) > 0
	if r.Reachable {
		r.Default = nil // not needed to explain anything
	}
	return r
}

// Originated returns the routes whose origin (after resolving the local
// AS) is asn, in route id order.
func (a *Analysis) Originated(asn uint32) []int32 {
	var own []int32
	for id := range a.Table.Routes() {
		if o := a.Outcomes[id].Origin; o.Kind == rov.OriginAS && o.ASN == asn {
			own = append(own, int32(id))
		}
	}
	return own
}

// VRPUse says how one VRP of an AS is used by the AS's routes.
type VRPUse struct {
	VRP uint32 // index into Index.VRPs()
	// Announced is the number of distinct prefixes of the AS's routes the
	// VRP matches (RFC 6811 §2: covered, length <= maxLength).
	Announced int
	// Allows is the number of prefixes the VRP authorises (AllowedPrefixes).
	Allows float64
	// Risky: RFC 9319 §4: "a ROA ... with a maxLength value that is
	// greater than the length of the prefix ... is vulnerable to a
	// forged-origin sub-prefix hijack" unless every prefix it authorises
	// is announced. So: maxLength above the prefix length and Allows >
	// Announced.
	Risky bool
}

// Used reports whether some route of the AS matches the VRP.
func (u VRPUse) Used() bool { return u.Announced > 0 }

// AllowedPrefixes is the number of prefixes a VRP authorises:
// 2^(m-l+1)-1 for prefix length l and maxLength m (a float: IPv6 ranges
// overflow integers).
func AllowedPrefixes(v rov.VRP) float64 {
	n := int(v.MaxLen) - v.Prefix.Bits() + 1
	f := 1.0
	for range n {
		f *= 2
	}
	return f - 1
}

// VRPUses returns the use of each VRP of asn by the routes own (from
// Originated), in the index's ByASN order.
func (a *Analysis) VRPUses(asn uint32, own []int32) []VRPUse {
	routes := a.Table.Routes()
	ids := a.Index.ByASN(asn)
	uses := make([]VRPUse, 0, len(ids))
	seen := map[netip.Prefix]bool{}
	for _, vi := range ids {
		v := a.Index.VRP(vi)
		use := VRPUse{VRP: vi, Allows: AllowedPrefixes(v)}
		clear(seen)
		for _, id := range own {
			p := routes[id].Prefix
			if matches(v, p) && !seen[p] {
				seen[p] = true
				use.Announced++
			}
		}
		use.Risky = int(v.MaxLen) > v.Prefix.Bits() && use.Allows > float64(use.Announced)
		uses = append(uses, use)
	}
	return uses
}

// matches is RFC 6811 §2's "Matched" minus the origin: v covers p and p is
// no longer than v's maxLength.
func matches(v rov.VRP, p netip.Prefix) bool {
	return v.Prefix.Addr().BitLen() == p.Addr().BitLen() && v.Prefix.Bits() <= p.Bits() &&
		v.Prefix.Contains(p.Addr()) && p.Bits() <= int(v.MaxLen)
}

// Suggestion is what to do about one prefix an AS announces so that its
// route becomes valid.
type Suggestion struct {
	Prefix netip.Prefix
	ASN    uint32
	State  rov.State // the route's state now
	// Exists: the route is already valid; nothing to add.
	Exists bool
	// Hijack lists the VRPs of other ASes (AS0 included) that cover the
	// prefix and allow its length (indexes into Index.VRPs()). When it is
	// not empty the route is a possible hijack and no VRP is suggested.
	Hijack []uint32
	// Widen is the AS's own covering VRP, if any, whose maxLength is
	// shorter than the route (the route is too_specific): the suggested
	// exact VRP is the alternative to widening it. WidenAllows is the
	// number of prefixes that VRP would authorise with its maxLength raised
	// to the route's length. -1: no such VRP.
	Widen       int64
	WidenAllows float64
}

// Suggested reports whether a new VRP (Prefix, maxLength = its length, ASN)
// is suggested.
func (s Suggestion) Suggested() bool { return !s.Exists && len(s.Hijack) == 0 }

// Suggest decides, for each distinct prefix of the routes own (from
// Originated, in that order), whether to suggest the VRP that makes it
// valid, by these rules:
//
//  1. An already valid route needs nothing (Exists).
//  2. Possible hijack: another AS's VRP (or an AS0 VRP) covers the prefix
//     and allows its length. That VRP's holder authorised someone else for
//     exactly this route (RFC 6811 §2: it would match the route but for
//     the origin), so a VRP for asn would authorise an origin inside space
//     the holder gave to another AS: the route is reported with that VRP,
//     and no VRP is suggested.
//  3. Otherwise the suggestion is the announced prefix with maxLength equal
//     to its length: RFC 9319 §5, "operators SHOULD ... [use] minimal
//     ROAs", which authorise only what is announced. Where asn's own VRP
//     covers the prefix with a shorter maxLength (too_specific), widening
//     that VRP's maxLength instead is what operators often do; RFC 9319 §4
//     says it invites forged-origin sub-prefix hijacks of every unannounced
//     prefix it would authorise, so the suggestion names that VRP and what
//     widening it would authorise (the most specific such VRP: the
//     smallest widening).
func (a *Analysis) Suggest(asn uint32, own []int32) []Suggestion {
	routes := a.Table.Routes()
	var out []Suggestion
	seen := map[netip.Prefix]bool{}
	var cov []uint32
	for _, id := range own {
		p := routes[id].Prefix
		if seen[p] {
			continue
		}
		seen[p] = true
		s := Suggestion{Prefix: p, ASN: asn, State: a.Outcomes[id].State, Widen: -1}
		s.Exists = s.State == rov.Valid
		if !s.Exists {
			cov = a.Index.Covering(p, cov[:0]) // most specific first
			for _, vi := range cov {
				v := a.Index.VRP(vi)
				switch {
				case v.ASN != asn && int(v.MaxLen) >= p.Bits():
					s.Hijack = append(s.Hijack, vi)
				case v.ASN == asn && int(v.MaxLen) < p.Bits() && s.Widen < 0:
					s.Widen = int64(vi)
					w := v
					w.MaxLen = uint8(p.Bits())
					s.WidenAllows = AllowedPrefixes(w)
				}
			}
		}
		out = append(out, s)
	}
	return out
}
