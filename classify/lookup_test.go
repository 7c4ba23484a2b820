package classify

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/table"
)

// tr is one route of a hand-made table: prefix, origin (0: AS_SET, i.e.
// NONE; -1: local, an empty AS_PATH) and the peers carrying it.
type tr struct {
	prefix string
	origin int64
	peers  []int
}

func analyzeRoutes(t testing.TB, vrps []rov.VRP, routes []tr, opt Options) *Analysis {
	t.Helper()
	tb := table.New()
	for _, r := range routes {
		o := rov.Origin{Kind: rov.OriginAS, ASN: uint32(r.origin)}
		switch r.origin {
		case 0:
			o = rov.Origin{Kind: rov.OriginNone}
		case -1:
			o = rov.Origin{Kind: rov.OriginLocal}
		}
		peers := r.peers
		if len(peers) == 0 {
			peers = []int{0}
		}
		for _, p := range peers {
			pid := tb.Peer(route.PeerKey{AS: uint32(65000 + p), IP: netip.AddrFrom4([4]byte{10, 0, 0, byte(p + 1)})})
			tb.Add(pfx(r.prefix), o, pid, nil)
		}
	}
	return Analyze(tb, rov.NewIndex(vrps), opt)
}

func vrp(p string, maxLen int, asn uint32) rov.VRP {
	return rov.VRP{Prefix: pfx(p), MaxLen: uint8(maxLen), ASN: asn}
}

func routeID(t testing.TB, a *Analysis, prefix string, origin int64) int {
	t.Helper()
	for id, r := range a.Table.Routes() {
		if r.Prefix == pfx(prefix) && (r.Origin.ASN == uint32(origin) || origin <= 0) {
			return id
		}
	}
	t.Fatalf("no route %s AS%d", prefix, origin)
	return -1
}

// TestReachCases pins Reach to Assess's rules: longest match over the
// routes ROV keeps, the default route only with CountDefault.
func TestReachCases(t *testing.T) {
	vrps := []rov.VRP{vrp("0.0.0.0/0", 0, 64500), vrp("192.0.0.0/16", 16, 64502), vrp("192.0.2.0/24", 24, 64502), vrp("198.51.100.0/24", 24, 64503)}
	cases := []struct {
		name      string
		routes    []tr
		opt       Options
		addr      string
		before    string // prefix of Before ("" none)
		after     string
		dflt      bool // a default route is reported as not counted
		reachable bool
	}{
		// Issue 12: analyze says 192.0.2.0/24 is unreachable (impact rule 2,
		// "default route does not count by default"); lookup must agree.
		{"issue 12: valid default, invalid /24: unreachable without --count-default",
			[]tr{{"0.0.0.0/0", 64500, nil}, {"192.0.2.0/24", 64501, nil}}, Options{}, "192.0.2.1", "192.0.2.0/24", "", true, false},
		{"--count-default: the default route carries it",
			[]tr{{"0.0.0.0/0", 64500, nil}, {"192.0.2.0/24", 64501, nil}}, Options{Impact: ImpactOptions{CountDefault: true}}, "192.0.2.1", "192.0.2.0/24", "0.0.0.0/0", false, true},
		{"only a default route today: not lost to ROV, not counted either",
			[]tr{{"0.0.0.0/0", 64500, nil}}, Options{}, "203.0.113.1", "", "", true, false},
		{"longest match after ROV: the covering /16 survives",
			[]tr{{"192.0.0.0/16", 64502, nil}, {"192.0.2.0/24", 64501, nil}}, Options{}, "192.0.2.1", "192.0.2.0/24", "192.0.0.0/16", false, true},
		{"same prefix, another origin survives",
			[]tr{{"192.0.2.0/24", 64502, nil}, {"192.0.2.0/24", 64501, nil}}, Options{}, "192.0.2.1", "192.0.2.0/24", "192.0.2.0/24", false, true},
		{"AS_SET policy notfound keeps the AS_SET route (RFC 6811 §2 NONE, policy explicit)",
			[]tr{{"192.0.2.0/24", 0, nil}}, Options{ASSet: ASSetNotFound}, "192.0.2.1", "192.0.2.0/24", "192.0.2.0/24", false, true},
		{"AS_SET policy invalid drops it",
			[]tr{{"192.0.2.0/24", 0, nil}}, Options{}, "192.0.2.1", "192.0.2.0/24", "", false, false},
		{"local origin unresolved: unvalidated, kept",
			[]tr{{"198.51.100.0/24", -1, nil}}, Options{}, "198.51.100.1", "198.51.100.0/24", "198.51.100.0/24", false, true},
		{"no route at all", nil, Options{}, "192.0.2.1", "", "", false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := analyzeRoutes(t, vrps, tc.routes, tc.opt)
			r := a.Reach(netip.MustParseAddr(tc.addr))
			at := func(ids []int32) string {
				if len(ids) == 0 {
					return ""
				}
				return a.Table.Routes()[ids[0]].Prefix.String()
			}
			if got := at(r.Before); got != tc.before {
				t.Errorf("before: got %q, want %q", got, tc.before)
			}
			if got := at(r.After); got != tc.after {
				t.Errorf("after: got %q, want %q", got, tc.after)
			}
			if got := len(r.Default) > 0; got != tc.dflt {
				t.Errorf("default not counted: got %v, want %v", got, tc.dflt)
			}
			if r.Reachable != tc.reachable {
				t.Errorf("reachable: got %v, want %v", r.Reachable, tc.reachable)
			}
		})
	}
}

// TestReachAgreesWithAssess: on random tables, an address in a dropped
// route is reachable when its impact is same_prefix, covered or
// more_specifics, and unreachable when its impact is unreachable with no
// surviving more-specific at all: the address and route verdicts are one
// rule.
func TestReachAgreesWithAssess(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 5))
	for round := range 200 {
		var vrps []rov.VRP
		for range 1 + rng.IntN(6) {
			vrps = append(vrps, rov.VRP{Prefix: randPrefix(rng), MaxLen: uint8(16 + rng.IntN(9)), ASN: uint32(64500 + rng.IntN(3))})
			if vrps[len(vrps)-1].MaxLen < uint8(vrps[len(vrps)-1].Prefix.Bits()) {
				vrps[len(vrps)-1].MaxLen = uint8(vrps[len(vrps)-1].Prefix.Bits())
			}
		}
		var routes []tr
		for range 1 + rng.IntN(12) {
			routes = append(routes, tr{randPrefix(rng).String(), int64(64500 + rng.IntN(3)), nil})
		}
		if rng.IntN(3) == 0 {
			routes = append(routes, tr{"0.0.0.0/0", 64500, nil})
			vrps = append(vrps, vrp("0.0.0.0/0", 0, 64500))
		}
		opt := Options{Impact: ImpactOptions{CountDefault: rng.IntN(2) == 0}}
		a := analyzeRoutes(t, vrps, routes, opt)
		for id, r := range a.Table.Routes() {
			as := a.Assess(id, nil)
			if !a.Outcomes[id].Dropped {
				continue
			}
			addr := r.Prefix.Addr()
			reach := a.Reach(addr)
			switch {
			case as.Impact == SamePrefix || as.Impact == Covered:
				if !reach.Reachable {
					t.Fatalf("round %d: %s impact %v via %v, but %s unreachable", round, r.Prefix, as.Impact, as.Cover, addr)
				}
			case as.Impact == Unreachable && as.CoveredShare == 0:
				if reach.Reachable {
					t.Fatalf("round %d: %s unreachable (share 0, count_default %v), but %s reachable via %v", round, r.Prefix, opt.Impact.CountDefault, addr, a.Table.Routes()[reach.After[0]].Prefix)
				}
			}
			if as.Impact == MoreSpecifics {
				last := lastAddr(r.Prefix)
				if !reach.Reachable || !a.Reach(last).Reachable {
					t.Fatalf("round %d: %s covered by more-specifics, but its first or last address is unreachable", round, r.Prefix)
				}
			}
		}
	}
}

func randPrefix(rng *rand.Rand) netip.Prefix {
	bits := 16 + rng.IntN(9)
	a := netip.AddrFrom4([4]byte{192, 0, byte(rng.IntN(4)), byte(rng.IntN(256))})
	return netip.PrefixFrom(a, bits).Masked()
}

// TestCoverCases pins the cover's state and other-origin verdict.
func TestCoverCases(t *testing.T) {
	vrps := []rov.VRP{vrp("192.0.0.0/16", 16, 64500), vrp("192.0.2.0/24", 24, 64502)}
	cases := []struct {
		name        string
		routes      []tr
		invalid     string
		origin      int64
		cover       string
		state       rov.State
		origins     []uint32
		otherOrigin bool
	}{
		{"covered by another AS's valid route: traffic goes to another origin",
			[]tr{{"192.0.0.0/16", 64500, nil}, {"192.0.2.0/24", 64501, nil}}, "192.0.2.0/24", 64501, "192.0.0.0/16", rov.Valid, []uint32{64500}, true},
		{"same prefix from the same origin kept: not another origin (too_specific sibling)",
			[]tr{{"192.0.0.0/16", 64500, nil}, {"192.0.2.0/25", 64500, nil}}, "192.0.2.0/25", 64500, "192.0.0.0/16", rov.Valid, []uint32{64500}, false},
		{"best state among the survivors: valid beats not_found",
			[]tr{{"192.0.2.0/24", 64502, nil}, {"192.0.2.0/24", 0, nil}, {"192.0.2.0/24", 64501, nil}}, "192.0.2.0/24", 64501, "192.0.2.0/24", rov.Valid, []uint32{64502}, true},
		{"an AS_SET route's cover is always another origin (NONE names no AS)",
			[]tr{{"192.0.0.0/16", 64500, nil}, {"192.0.2.0/24", 0, nil}}, "192.0.2.0/24", 0, "192.0.0.0/16", rov.Valid, []uint32{64500}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := analyzeRoutes(t, vrps, tc.routes, Options{})
			id := routeID(t, a, tc.invalid, tc.origin)
			c, ok := a.Cover(id, a.Assess(id, nil))
			if !ok {
				t.Fatalf("no cover for %s AS%d (impact %v)", tc.invalid, tc.origin, a.Assess(id, nil).Impact)
			}
			if c.Prefix.String() != tc.cover || c.State != tc.state || !slices.Equal(c.Origins, tc.origins) || c.OtherOrigin != tc.otherOrigin {
				t.Errorf("got %s %v %v other=%v, want %s %v %v other=%v", c.Prefix, c.Origins, c.State, c.OtherOrigin, tc.cover, tc.origins, tc.state, tc.otherOrigin)
			}
		})
	}
}

// TestPeerImpacts: a peer that carries only the invalid route loses the
// prefix; a peer that also carries the cover does not.
func TestPeerImpacts(t *testing.T) {
	vrps := []rov.VRP{vrp("192.0.2.0/24", 24, 64502)}
	routes := []tr{{"192.0.2.0/24", 64501, []int{0, 1}}, {"192.0.0.0/16", 64500, []int{1}}}
	a := analyzeRoutes(t, vrps, routes, Options{})
	got := a.PeerImpacts()
	want := []PeerImpact{{Peer: 0, Routes: 1, Dropped: 1, Unreachable: 1}, {Peer: 1, Routes: 2, Dropped: 1, Unreachable: 0}}
	if !slices.Equal(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

// TestVRPUses pins RFC 9319 §4's risk: a maxLength above the prefix length
// is risky unless every prefix it authorises is announced.
func TestVRPUses(t *testing.T) {
	cases := []struct {
		name      string
		vrp       rov.VRP
		routes    []tr
		announced int
		allows    float64
		risky     bool
	}{
		{"RFC 9319 §4: /22-24 with only the /22 announced authorises 6 unannounced prefixes", vrp("192.0.0.0/22", 24, 64500),
			[]tr{{"192.0.0.0/22", 64500, nil}}, 1, 7, true},
		{"RFC 9319 §5 minimal ROA: maxLength = length is never risky, even unused", vrp("192.0.0.0/22", 22, 64500), nil, 0, 1, false},
		{"every authorised prefix announced: not risky", vrp("192.0.2.0/24", 25, 64500),
			[]tr{{"192.0.2.0/24", 64500, nil}, {"192.0.2.0/25", 64500, nil}, {"192.0.2.128/25", 64500, nil}}, 3, 3, false},
		{"a route longer than maxLength does not use the VRP", vrp("192.0.2.0/24", 24, 64500),
			[]tr{{"192.0.2.0/25", 64500, nil}}, 0, 1, false},
		{"another AS's route does not use it", vrp("192.0.2.0/24", 24, 64500),
			[]tr{{"192.0.2.0/24", 64501, nil}}, 0, 1, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := analyzeRoutes(t, []rov.VRP{tc.vrp}, tc.routes, Options{})
			uses := a.VRPUses(64500, a.Originated(64500))
			if len(uses) != 1 {
				t.Fatalf("got %d uses, want 1", len(uses))
			}
			u := uses[0]
			if u.Announced != tc.announced || u.Allows != tc.allows || u.Risky != tc.risky || u.Used() != (tc.announced > 0) {
				t.Errorf("got announced %d allows %v risky %v, want %d %v %v", u.Announced, u.Allows, u.Risky, tc.announced, tc.allows, tc.risky)
			}
		})
	}
}

// TestSuggest pins the safe-suggestion rules (classify.Suggest).
func TestSuggest(t *testing.T) {
	cases := []struct {
		name      string
		vrps      []rov.VRP
		route     string
		suggested bool
		exists    bool
		hijack    []string // VRPs named as allowing the route for another AS
		widen     string   // own VRP whose widening the suggestion replaces
		allows    float64
	}{
		// Issue 12: lookup AS13335 on the PCH table suggested 66.6.45.0/24
		// AS13335 inside 66.6.32.0/20-24 AS2635.
		{"rule 2: another AS's VRP allows the route: possible hijack, no suggestion (66.6.45.0/24 AS13335 in 66.6.32.0/20-24 AS2635)",
			[]rov.VRP{vrp("66.6.32.0/20", 24, 2635)}, "66.6.45.0/24", false, false, []string{"66.6.32.0/20-24 AS2635"}, "", 0},
		{"rule 2: an AS0 VRP allowing the length counts too (RFC 6483 §4: the space must not be routed)",
			[]rov.VRP{vrp("66.6.32.0/20", 24, 0)}, "66.6.45.0/24", false, false, []string{"66.6.32.0/20-24 AS0"}, "", 0},
		{"rule 3: another AS's VRP too short for the route: suggested (customer more-specific)",
			[]rov.VRP{vrp("66.6.32.0/20", 20, 2635)}, "66.6.45.0/24", true, false, nil, "", 0},
		{"rule 3: not covered at all: suggested", nil, "66.6.45.0/24", true, false, nil, "", 0},
		{"rule 3, RFC 9319 §4: too_specific for its own /20-20: exact VRP instead of widening to /24 (31 prefixes)",
			[]rov.VRP{vrp("66.6.32.0/20", 20, 13335)}, "66.6.45.0/24", true, false, nil, "66.6.32.0/20 AS13335", 31},
		{"rule 3: the most specific own VRP is the smallest widening",
			[]rov.VRP{vrp("66.6.32.0/20", 20, 13335), vrp("66.6.44.0/22", 22, 13335)}, "66.6.45.0/24", true, false, nil, "66.6.44.0/22 AS13335", 7},
		{"rule 1: already valid: nothing to add, even with another AS's VRP beside",
			[]rov.VRP{vrp("66.6.45.0/24", 24, 13335), vrp("66.6.32.0/20", 24, 2635)}, "66.6.45.0/24", false, true, nil, "", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := analyzeRoutes(t, tc.vrps, []tr{{tc.route, 13335, nil}}, Options{})
			ss := a.Suggest(13335, a.Originated(13335))
			if len(ss) != 1 {
				t.Fatalf("got %d suggestions, want 1", len(ss))
			}
			s := ss[0]
			if s.Suggested() != tc.suggested || s.Exists != tc.exists {
				t.Errorf("suggested %v exists %v, want %v %v", s.Suggested(), s.Exists, tc.suggested, tc.exists)
			}
			var hij []string
			for _, i := range s.Hijack {
				hij = append(hij, a.Index.VRPs()[i].String())
			}
			if !slices.Equal(hij, tc.hijack) {
				t.Errorf("hijack VRPs %v, want %v", hij, tc.hijack)
			}
			widen := ""
			if s.Widen >= 0 {
				widen = a.Index.VRPs()[s.Widen].String()
			}
			if widen != tc.widen || s.WidenAllows != tc.allows {
				t.Errorf("widen %q allows %v, want %q %v", widen, s.WidenAllows, tc.widen, tc.allows)
			}
		})
	}
}

// TestAnnounceIsClassifyRoute: the hypothetical verdict is the table's rule.
func TestAnnounceIsClassifyRoute(t *testing.T) {
	vrps := []rov.VRP{vrp("192.0.2.0/24", 24, 64502)}
	for _, opt := range []Options{{}, {ASSet: ASSetNotFound}, {ASSet: ASSetWithdraw}} {
		a := analyzeRoutes(t, vrps, []tr{{"192.0.2.0/24", 64501, nil}}, opt)
		out, v := a.Announce(pfx("192.0.2.0/24"), rov.Origin{Kind: rov.OriginAS, ASN: 64501})
		if want := a.Outcomes[0]; out.State != want.State || out.Class != want.Class || out.Dropped != want.Dropped || v.Class != want.Class {
			t.Errorf("policy %v: announce %+v, table %+v", opt.ASSet, out, want)
		}
	}
}
