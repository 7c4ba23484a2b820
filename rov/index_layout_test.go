package rov

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
)

// TestIndexLayouts holds each way the index can lay out a family to the
// brute-force oracle: members not kept (VRPs already in prefix order, as
// the live table's packed set always is; IPv6 then starts past the
// invalid and IPv4 VRPs) and kept (any other order), and the wide
// entries an index with more IPv4 prefixes than the 12-byte entries can
// number uses (maxEnts4, lowered here), and the same for IPv6 (maxEnts6),
// each built by NewIndex,
// NewIndexPacked and NewIndexOrdered, with and without bucket tables.
func TestIndexLayouts(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	for _, n := range []int{1, 40, 3000, 20000} {
		for _, wide := range []bool{false, true} {
			t.Run(fmt.Sprintf("vrps%d_wide%v", n, wide), func(t *testing.T) {
				if wide {
					defer func(m4, m6 int) { maxEnts4, maxEnts6 = m4, m6 }(maxEnts4, maxEnts6)
					maxEnts4, maxEnts6 = 0, 0
				}
				vrps := randVRPs(r, n)
				vrps = append(vrps, VRP{MaxLen: 9, ASN: 3}, VRP{ASN: 1}) // invalid prefixes: IPv6 no longer starts at 0
				ps, tas, sorted := sortedPacked(vrps)
				shuffled := slices.Clone(sorted)
				r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
				for _, tc := range []struct {
					name      string
					ix        *Index
					vrps      []VRP
					consecute bool
				}{
					{"packed-sorted", NewIndexPacked(ps, tas), sorted, true},
					{"sorted", NewIndex(sorted), sorted, true},
					{"shuffled", NewIndex(shuffled), shuffled, false},
				} {
					ix := tc.ix
					has4 := slices.ContainsFunc(tc.vrps, func(v VRP) bool { return v.Prefix.Addr().Is4() })
					has6 := slices.ContainsFunc(tc.vrps, func(v VRP) bool { return v.Prefix.Addr().Is6() })
					if (ix.w4 != nil) != (wide && has4) || (ix.w6 != nil) != (wide && has6) {
						t.Fatalf("%s: wide entries %v %v, want %v", tc.name, ix.w4 != nil, ix.w6 != nil, wide)
					}
					m4, jump4, n4 := ix.s4.members, ix.s4.jump, ix.s4.n
					if ix.w4 != nil {
						m4, jump4, n4 = ix.w4.members, ix.w4.jump, ix.w4.n
					}
					m6, jump6, n6 := ix.s6.members, ix.s6.jump, ix.s6.n
					if ix.w6 != nil {
						m6, jump6, n6 = ix.w6.members, ix.w6.jump, ix.w6.n
					}
					if (jump4 != nil) != (n4 >= minJump) || (jump6 != nil) != (n6 >= minJump) || n == 20000 && jump6 == nil {
						t.Fatalf("%s: bucket tables %v %v for %d and %d prefixes", tc.name, jump4 != nil, jump6 != nil, n4, n6)
					}
					if tc.consecute && (m4.list != nil || m6.list != nil) {
						t.Fatalf("%s: members kept for VRPs in prefix order", tc.name)
					}
					if !tc.consecute && n >= 40 && (m4.list == nil || m6.list == nil) {
						t.Fatalf("%s: members not kept for shuffled VRPs", tc.name)
					}
					v4, v6, byASN := ix.Orders()
					if len(v4)+len(v6) != len(tc.vrps)-2 || len(byASN) != len(tc.vrps) {
						t.Fatalf("%s: orders of %d, %d and %d VRPs, want %d", tc.name, len(v4), len(v6), len(byASN), len(tc.vrps))
					}
					re, err := NewIndexOrdered(tc.vrps, slices.Clone(v4), slices.Clone(v6), slices.Clone(byASN))
					if err != nil {
						t.Fatalf("%s: NewIndexOrdered: %v", tc.name, err)
					}
					if (re.w4 != nil) != (ix.w4 != nil) || (re.w6 != nil) != (ix.w6 != nil) || tc.consecute && re.s6.list != nil {
						t.Fatalf("%s: NewIndexOrdered laid out differently", tc.name)
					}
					for range 400 {
						var p netip.Prefix
						if r.IntN(3) == 0 {
							p = tc.vrps[r.IntN(len(tc.vrps))].Prefix
							if p.IsValid() {
								if b := p.Bits() + r.IntN(3) - 1; b >= 0 && b <= p.Addr().BitLen() {
									p = netip.PrefixFrom(p.Addr(), b).Masked()
								}
							}
						} else {
							p = randPrefix(r, r.IntN(2) == 1)
						}
						o := randOrigin(r)
						checkAgainstOracle(t, ix, tc.vrps, p, o)
						if !slices.Equal(ix.Covering(p, nil), re.Covering(p, nil)) || !slices.Equal(ix.Inside(p, nil), re.Inside(p, nil)) {
							t.Fatalf("%s: NewIndexOrdered answers %s differently", tc.name, p)
						}
					}
				}
			})
		}
	}
}

// FuzzIndexLayouts: for fuzzer-chosen VRPs (close together, so they nest)
// the index over them packed and sorted (no members lists), over them in
// the given order (members kept) and with wide entries answers every
// query as the brute-force oracle does, for routes at and around every
// VRP.
func FuzzIndexLayouts(f *testing.F) {
	f.Add([]byte{0, 10, 0, 0, 0, 8, 24, 1, 0, 10, 1, 0, 0, 16, 16, 2}, false)
	f.Add([]byte{1, 0x20, 0x01, 0x0d, 0xb8, 32, 48, 3, 1, 0x20, 0x01, 0x0d, 0xb8, 128, 128, 3, 0, 0, 0, 0, 0, 0, 0, 0}, true)
	f.Fuzz(func(t *testing.T, data []byte, wide bool) {
		if wide {
			defer func(m4, m6 int) { maxEnts4, maxEnts6 = m4, m6 }(maxEnts4, maxEnts6)
			maxEnts4, maxEnts6 = 0, 0
		}
		var vrps []VRP
		for len(data) >= 8 && len(vrps) < 200 {
			d := data[:8]
			data = data[8:]
			var p netip.Prefix
			switch d[0] % 3 {
			case 0:
				p = netip.PrefixFrom(netip.AddrFrom4([4]byte{10, d[1], d[2], d[3]}), int(d[5]%33))
			case 1:
				p = netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, d[1], d[2], 0, 0, 0, 0, 0, 0, 0, 0, d[3], d[4]}), int(d[5]%129))
			}
			ml := d[6]
			if p.IsValid() {
				p = p.Masked()
				ml = uint8(p.Bits() + int(ml)%(p.Addr().BitLen()-p.Bits()+1))
			}
			vrps = append(vrps, VRP{Prefix: p, MaxLen: ml, ASN: uint32(d[7] % 4)})
		}
		ps, tas, sorted := sortedPacked(vrps)
		for _, c := range []struct {
			ix   *Index
			vrps []VRP
		}{{NewIndexPacked(ps, tas), sorted}, {NewIndex(vrps), vrps}} {
			for _, v := range c.vrps {
				if !v.Prefix.IsValid() {
					continue
				}
				for _, b := range []int{v.Prefix.Bits() - 1, v.Prefix.Bits(), int(v.MaxLen), int(v.MaxLen) + 1} {
					if b < 0 || b > v.Prefix.Addr().BitLen() {
						continue
					}
					p := netip.PrefixFrom(v.Prefix.Addr(), b).Masked()
					for _, asn := range []uint32{0, 1, 2} {
						checkAgainstOracle(t, c.ix, c.vrps, p, Origin{Kind: OriginAS, ASN: asn})
					}
				}
			}
		}
	})
}
