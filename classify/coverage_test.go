package classify

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/rovimpact/rovimpact/rov"
)

// TestCoverageIndexOrder pins NewCoverage's index to one order whatever
// the input order: members in (prefix, entry index) order with IPv4
// before IPv6, then address, then shorter first (rov.ComparePrefix), so
// At/Subnets/CoverEntries list a prefix's entries the same way every run.
// The rows take each of its paths: input already in prefix order (no
// sort), unsorted IPv4 and IPv6 (packed keys), and an invalid prefix
// (compared as values).
func TestCoverageIndexOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(n int, v6 bool) []Entry {
		var es []Entry
		for range n {
			p := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(rng.IntN(4)), byte(rng.IntN(3) * 64), 0}), 8+rng.IntN(17)).Masked()
			if v6 && rng.IntN(3) == 0 {
				p = netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 1, 0xd, 0xb8, byte(rng.IntN(3))}), 32+rng.IntN(17)).Masked()
			}
			es = append(es, Entry{Prefix: p, Dropped: rng.IntN(2) == 0})
		}
		return es
	}
	sorted := random(500, true)
	slices.SortStableFunc(sorted, func(a, b Entry) int { return rov.ComparePrefix(a.Prefix, b.Prefix) })
	reversed := slices.Clone(sorted)
	slices.Reverse(reversed)
	withInvalid := random(200, true)
	withInvalid[17].Prefix = netip.Prefix{}
	for _, tc := range []struct {
		name    string
		entries []Entry
	}{
		{"empty", nil},
		{"one", random(1, false)},
		{"prefix order with repeats (a table's routes from live/, snapshot/, an update replay)", sorted},
		{"reversed", reversed},
		{"shuffled IPv4", random(700, false)},
		{"shuffled IPv4 and IPv6", random(700, true)},
		{"invalid prefix", withInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := make([]int32, len(tc.entries))
			for i := range want {
				want[i] = int32(i)
			}
			slices.SortStableFunc(want, func(a, b int32) int { return rov.ComparePrefix(tc.entries[a].Prefix, tc.entries[b].Prefix) })
			c := NewCoverage(tc.entries, ImpactOptions{})
			if !slices.Equal(c.members, want) {
				t.Fatalf("members %v\nwant    %v", c.members, want)
			}
			// Every distinct prefix once, in order, with its run of members.
			var prefixes []netip.Prefix
			for _, m := range want {
				if p := tc.entries[m].Prefix; len(prefixes) == 0 || prefixes[len(prefixes)-1] != p {
					prefixes = append(prefixes, p)
				}
			}
			var got []netip.Prefix
			for i := range c.numPrefixes() {
				got = append(got, c.prefix(i))
			}
			if !slices.Equal(got, prefixes) || len(c.start) != len(prefixes)+1 {
				t.Fatalf("prefixes %v (%d starts), want %v", got, len(c.start), prefixes)
			}
			// find's answer for any prefix, held or not, is a binary
			// search of the distinct prefixes in rov.ComparePrefix order.
			for _, e := range random(300, true) {
				q := e.Prefix
				for _, q := range []netip.Prefix{q, netip.PrefixFrom(q.Addr(), q.Bits()-1).Masked(), {}} {
					wi, wok := slices.BinarySearchFunc(prefixes, q, rov.ComparePrefix)
					if gi, gok := c.find(q); gi != wi || gok != wok {
						t.Fatalf("find(%s) = %d, %v; want %d, %v", q, gi, gok, wi, wok)
					}
				}
			}
			for i, p := range prefixes {
				// find answers each held prefix with its index.
				if j, ok := c.find(p); !ok || j != i {
					t.Fatalf("find(%s) = %d, %v; want %d, true", p, j, ok, i)
				}
				for _, m := range c.members[c.start[i]:c.start[i+1]] {
					if tc.entries[m].Prefix != p {
						t.Fatalf("prefix %s holds entry %d (%s)", p, m, tc.entries[m].Prefix)
					}
				}
			}
		})
	}
}
