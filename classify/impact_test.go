package classify

import (
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/rovimpact/rovimpact/rov"
)

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }

// TestAssessCases pins each impact rule (issue #4 "What it computes") with a
// hand-made table.
func TestAssessCases(t *testing.T) {
	inv := func(p string) Entry { return Entry{Prefix: pfx(p), State: rov.Invalid, Dropped: true} }
	val := func(p string) Entry { return Entry{Prefix: pfx(p), State: rov.Valid} }
	nf := func(p string) Entry { return Entry{Prefix: pfx(p), State: rov.NotFound} }
	cases := []struct {
		name      string
		entries   []Entry // entry 0 is assessed
		opt       ImpactOptions
		want      Impact
		wantCover string
		wantShare float64
	}{
		{"rule 1: same prefix, other origin valid", []Entry{inv("192.0.2.0/24"), val("192.0.2.0/24")}, ImpactOptions{}, SamePrefix, "192.0.2.0/24", 0},
		{"rule 1 wins over a cover", []Entry{inv("192.0.2.0/24"), nf("192.0.2.0/24"), val("192.0.0.0/16")}, ImpactOptions{}, SamePrefix, "192.0.2.0/24", 0},
		{"rule 1: another invalid at the same prefix does not count", []Entry{inv("192.0.2.0/24"), inv("192.0.2.0/24"), nf("192.0.0.0/22")}, ImpactOptions{}, Covered, "192.0.0.0/22", 0},
		{"rule 2: most specific surviving cover", []Entry{inv("192.0.2.0/24"), val("192.0.0.0/16"), nf("192.0.0.0/22")}, ImpactOptions{}, Covered, "192.0.0.0/22", 0},
		{"rule 2: a dropped cover does not count", []Entry{inv("192.0.2.0/24"), inv("192.0.0.0/22"), val("192.0.0.0/16")}, ImpactOptions{}, Covered, "192.0.0.0/16", 0},
		{"rule 2: default route does not count by default", []Entry{inv("192.0.2.0/24"), val("0.0.0.0/0")}, ImpactOptions{}, Unreachable, "", 0},
		{"rule 2: default route counts with --count-default", []Entry{inv("192.0.2.0/24"), val("0.0.0.0/0")}, ImpactOptions{CountDefault: true}, Covered, "0.0.0.0/0", 0},
		{"rule 2: IPv6 cover", []Entry{inv("2001:db8:1::/48"), nf("2001:db8::/32")}, ImpactOptions{}, Covered, "2001:db8::/32", 0},
		{"rule 2: families do not mix (::/96 is not 0.0.0.0/0)", []Entry{inv("192.0.2.0/24"), nf("::/8")}, ImpactOptions{}, Unreachable, "", 0},
		{"rule 3: two halves cover all", []Entry{inv("192.0.2.0/24"), val("192.0.2.0/25"), nf("192.0.2.128/25")}, ImpactOptions{}, MoreSpecifics, "", 1},
		{"rule 3: nested more-specifics counted once", []Entry{inv("192.0.2.0/24"), val("192.0.2.0/25"), val("192.0.2.0/26"), nf("192.0.2.128/25")}, ImpactOptions{}, MoreSpecifics, "", 1},
		{"rule 4: half covered", []Entry{inv("192.0.2.0/24"), val("192.0.2.128/25")}, ImpactOptions{}, Unreachable, "", 0.5},
		{"rule 4: gap in the middle", []Entry{inv("192.0.2.0/24"), val("192.0.2.0/26"), val("192.0.2.192/26")}, ImpactOptions{}, Unreachable, "", 0.5},
		{"rule 4: dropped more-specific does not count", []Entry{inv("192.0.2.0/24"), inv("192.0.2.0/25"), val("192.0.2.128/25")}, ImpactOptions{}, Unreachable, "", 0.5},
		{"rule 4: nothing at all", []Entry{inv("198.51.100.0/24"), val("192.0.2.0/24")}, ImpactOptions{}, Unreachable, "", 0},
		{"IPv6 more-specifics cover /127 pair", []Entry{inv("2001:db8::/127"), val("2001:db8::/128"), val("2001:db8::1/128")}, ImpactOptions{}, MoreSpecifics, "", 1},
		{"not dropped: no impact", []Entry{nf("192.0.2.0/24")}, ImpactOptions{}, ImpactNone, "", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := NewCoverage(tc.entries, tc.opt)
			got := c.Assess(0, nil)
			if got.Impact != tc.want {
				t.Fatalf("impact: got %v, want %v", got.Impact, tc.want)
			}
			var cover string
			if got.Cover.IsValid() {
				cover = got.Cover.String()
			}
			if cover != tc.wantCover {
				t.Errorf("cover: got %q, want %q", cover, tc.wantCover)
			}
			if got.CoveredShare != tc.wantShare {
				t.Errorf("share: got %v, want %v", got.CoveredShare, tc.wantShare)
			}
		})
	}
}

// oracleAssess answers the same question by brute force over a /8 with a
// bitmap of /20 blocks: obviously correct, slow.
func oracleAssess(entries []Entry, i int, view func(int) bool, opt ImpactOptions) (Impact, netip.Prefix, float64) {
	e := entries[i]
	if !e.Dropped {
		return ImpactNone, netip.Prefix{}, 0
	}
	alive := func(j int) bool { return !entries[j].Dropped && (view == nil || view(j)) }
	for j := range entries {
		if entries[j].Prefix == e.Prefix && alive(j) {
			return SamePrefix, e.Prefix, 0
		}
	}
	best := netip.Prefix{}
	for j := range entries {
		q := entries[j].Prefix
		if alive(j) && q.Bits() < e.Prefix.Bits() && q.Contains(e.Prefix.Addr()) && (q.Bits() > 0 || opt.CountDefault) {
			if !best.IsValid() || q.Bits() > best.Bits() {
				best = q
			}
		}
	}
	if best.IsValid() {
		return Covered, best, 0
	}
	const gran = 20
	base := e.Prefix.Addr().As4()
	nblocks := 1 << (gran - e.Prefix.Bits())
	covered := make([]bool, nblocks)
	start := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
	for j := range entries {
		q := entries[j].Prefix
		if !alive(j) || q.Bits() <= e.Prefix.Bits() || !e.Prefix.Contains(q.Addr()) {
			continue
		}
		qa := q.Addr().As4()
		qs := uint32(qa[0])<<24 | uint32(qa[1])<<16 | uint32(qa[2])<<8 | uint32(qa[3])
		first := int((qs - start) >> (32 - gran))
		for b := first; b < first+(1<<(gran-q.Bits())); b++ {
			covered[b] = true
		}
	}
	n := 0
	for _, c := range covered {
		if c {
			n++
		}
	}
	if n == nblocks {
		return MoreSpecifics, netip.Prefix{}, 1
	}
	return Unreachable, netip.Prefix{}, float64(n) / float64(nblocks)
}

// TestAssessOracle compares Coverage with the brute-force oracle on seeded
// random tables, with and without views, and checks the answer does not
// depend on input order.
func TestAssessOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 60 {
		n := 20 + rng.IntN(200)
		entries := make([]Entry, n)
		for i := range entries {
			bits := 8 + rng.IntN(13) // /8../20 inside 10.0.0.0/8
			a := [4]byte{10, byte(rng.IntN(4)), byte(rng.IntN(256)), 0}
			p := netip.PrefixFrom(netip.AddrFrom4(a), bits).Masked()
			if round%7 == 0 && i == 0 {
				p = pfx("0.0.0.0/0")
			}
			st := []rov.State{rov.Valid, rov.Invalid, rov.NotFound}[rng.IntN(3)]
			entries[i] = Entry{Prefix: p, State: st, Dropped: st == rov.Invalid}
		}
		opt := ImpactOptions{CountDefault: round%2 == 0}
		c := NewCoverage(entries, opt)
		viewSet := make([]bool, n)
		for i := range viewSet {
			viewSet[i] = rng.IntN(3) > 0
		}
		views := []func(int) bool{nil, func(j int) bool { return viewSet[j] }}
		for vi, view := range views {
			for i := range entries {
				wantI, wantC, wantS := oracleAssess(entries, i, view, opt)
				got := c.Assess(i, view)
				if got.Impact != wantI || got.Cover != wantC || got.CoveredShare != wantS {
					t.Fatalf("round %d view %d entry %d %v: got %v %v %v, want %v %v %v",
						round, vi, i, entries[i].Prefix, got.Impact, got.Cover, got.CoveredShare, wantI, wantC, wantS)
				}
			}
		}
		// Order independence: shuffle and compare per prefix.
		perm := rng.Perm(n)
		shuffled := make([]Entry, n)
		for i, p := range perm {
			shuffled[p] = entries[i]
		}
		c2 := NewCoverage(shuffled, opt)
		for i, p := range perm {
			a, b := c.Assess(i, nil), c2.Assess(p, nil)
			if a.Impact != b.Impact || a.Cover != b.Cover || a.CoveredShare != b.CoveredShare || len(a.CoverEntries) != len(b.CoverEntries) {
				t.Fatalf("round %d: shuffled input changed the answer for %v: %+v vs %+v", round, entries[i].Prefix, a, b)
			}
		}
	}
}

func TestLastAddr(t *testing.T) {
	for _, tc := range []struct{ p, want string }{
		{"192.0.2.0/24", "192.0.2.255"}, {"0.0.0.0/0", "255.255.255.255"}, {"10.0.0.1/32", "10.0.0.1"},
		{"2001:db8::/32", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"}, {"::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
	} {
		if got := lastAddr(pfx(tc.p)); got.String() != tc.want {
			t.Errorf("lastAddr(%s): got %v, want %s", tc.p, got, tc.want)
		}
	}
}

func TestDroppedPolicy(t *testing.T) {
	none := rov.Origin{Kind: rov.OriginNone}
	as := rov.Origin{Kind: rov.OriginAS, ASN: 64500}
	cases := []struct {
		name   string
		state  rov.State
		origin rov.Origin
		policy ASSetPolicy
		want   bool
	}{
		{"RFC 6811 §2: invalid dropped", rov.Invalid, as, ASSetInvalid, true},
		{"valid kept", rov.Valid, as, ASSetInvalid, false},
		{"not found kept", rov.NotFound, as, ASSetWithdraw, false},
		{"AS_SET covered, policy invalid (RFC 6811/6907, OpenBGPD): dropped", rov.Invalid, none, ASSetInvalid, true},
		{"AS_SET not covered, policy invalid: not found, kept", rov.NotFound, none, ASSetInvalid, false},
		{"AS_SET covered, policy notfound (old GoBGP): kept", rov.Invalid, none, ASSetNotFound, false},
		{"AS_SET not covered, policy withdraw (RFC 9774): dropped", rov.NotFound, none, ASSetWithdraw, true},
		{"AS_SET covered, policy withdraw: dropped", rov.Invalid, none, ASSetWithdraw, true},
	}
	for _, tc := range cases {
		if got := Dropped(tc.state, tc.origin, tc.policy); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
	for _, s := range []string{"invalid", "notfound", "withdraw"} {
		p, err := ParseASSetPolicy(s)
		if err != nil || p.String() != s {
			t.Errorf("ParseASSetPolicy(%q) = %v, %v", s, p, err)
		}
	}
	if _, err := ParseASSetPolicy("drop"); err == nil {
		t.Error("ParseASSetPolicy(drop): want error")
	}
}
