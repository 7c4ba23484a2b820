package rov

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"slices"
	"testing"
	"unsafe"
)

// packAll packs vrps with their TAs interned in a new table.
func packAll(vrps []VRP) ([]PackedVRP, *TATable) {
	var tas TATable
	out := make([]PackedVRP, len(vrps))
	for i, v := range vrps {
		out[i] = PackVRP(v, tas.Intern(v.TA))
	}
	return out, &tas
}

// sortedPacked packs vrps (prefixes masked) sorted by PackedVRP.Compare
// with one VRP per (prefix, maxLength, ASN), as the live table keeps its
// set, and returns them unpacked too: VRP i of the index over the packed
// slice is the unpacked slice's i.
func sortedPacked(vrps []VRP) ([]PackedVRP, []string, []VRP) {
	var tas TATable
	ps := make([]PackedVRP, len(vrps))
	for i, v := range vrps {
		ps[i] = PackVRP(VRP{Prefix: v.Prefix.Masked(), MaxLen: v.MaxLen, ASN: v.ASN}, tas.Intern(v.TA))
	}
	slices.SortStableFunc(ps, PackedVRP.Compare)
	ps = slices.Clip(slices.CompactFunc(ps, func(a, b PackedVRP) bool { return a.Compare(b) == 0 }))
	out := make([]VRP, len(ps))
	for i, p := range ps {
		out[i] = p.Unpack(tas.Names())
	}
	return ps, tas.Names(), out
}

// edgeVRPs are VRPs at the edges of every field: lengths 0 and the
// family's width, maxLength 32 and 128, ASN 0 and 4294967295, host bits,
// an IPv4-mapped IPv6 address, the invalid prefix, empty and long TAs.
func edgeVRPs() []VRP {
	p := netip.MustParsePrefix
	return []VRP{
		{Prefix: p("0.0.0.0/0"), MaxLen: 0, ASN: 0},
		{Prefix: p("0.0.0.0/0"), MaxLen: 32, ASN: 4294967295, TA: "ripe"},
		{Prefix: p("255.255.255.255/32"), MaxLen: 32, ASN: 4294967295, TA: "arin"},
		{Prefix: p("192.0.2.77/24"), MaxLen: 24, ASN: 64500, TA: "apnic"}, // host bits
		{Prefix: p("::/0"), MaxLen: 128, ASN: 0, TA: "lacnic"},
		{Prefix: p("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"), MaxLen: 128, ASN: 4294967295, TA: "afrinic"},
		{Prefix: p("2001:db8::1/32"), MaxLen: 48, ASN: 1, TA: "a trust anchor with a long name, spaces and ünïcode"},
		{Prefix: p("::ffff:192.0.2.0/120"), MaxLen: 128, ASN: 64501, TA: "ripe"},
		{Prefix: netip.Prefix{}, MaxLen: 24, ASN: 7, TA: SLURMTA},
		{MaxLen: 0, ASN: 0},
	}
}

// TestPackedRoundTrip: packing loses nothing. Every VRP of the sample
// export in testdata (a real rpki-client slice, 1947 VRPs, five TAs), of
// the full export when the shared data is there, and the edge cases above
// unpacks to itself (TA included, through the TA table), and the packed
// order is CompareVRP's.
func TestPackedRoundTrip(t *testing.T) {
	if s := unsafe.Sizeof(PackedVRP{}); s != 24 {
		t.Fatalf("PackedVRP is %d bytes, want 24", s)
	}
	f, err := os.Open("../testdata/sample/vrps.json")
	if err != nil {
		t.Fatal(err)
	}
	sample, _, err := LoadVRPs(f, "sample", LoadOptions{})
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(sample) != 1947 {
		t.Fatalf("sample: %d VRPs, want 1947", len(sample))
	}
	sets := map[string][]VRP{"sample": sample, "edges": edgeVRPs()}
	if !testing.Short() {
		sets["real"] = ixRealVRPs(t)
	}
	for name, vrps := range sets {
		t.Run(name, func(t *testing.T) {
			packed, tas := packAll(vrps)
			var fams [3]int
			for i, v := range vrps {
				if got := packed[i].Unpack(tas.Names()); got != v {
					t.Fatalf("VRP %d: %+v packs and unpacks to %+v", i, v, got)
				}
				if packed[i].Prefix() != v.Prefix {
					t.Fatalf("VRP %d: Prefix() = %v, want %v", i, packed[i].Prefix(), v.Prefix)
				}
				fams[packed[i].Fam]++
			}
			if name != "edges" && (fams[1] == 0 || fams[2] == 0) {
				t.Fatalf("families %v: want IPv4 and IPv6", fams)
			}
			// The order: Compare is CompareVRP without the TA.
			r := rand.New(rand.NewPCG(uint64(len(vrps)), 3))
			for range 20000 {
				i, j := r.IntN(len(vrps)), r.IntN(len(vrps))
				a, b := vrps[i], vrps[j]
				b.TA = a.TA
				if !a.Prefix.IsValid() || !b.Prefix.IsValid() {
					continue // CompareVRP has no place for them; Compare puts them first
				}
				if got, want := packed[i].Compare(packed[j]), CompareVRP(a, b); got != want {
					t.Fatalf("Compare(%v, %v) = %d, CompareVRP = %d", a, b, got, want)
				}
			}
		})
	}
}

// TestTATableOverflow: 254 names get their own index; every later one the
// index of TAOverflow, which the reports then show, never another TA's
// name.
func TestTATableOverflow(t *testing.T) {
	var tas TATable
	if tas.Intern("") != 0 || tas.Names() != nil {
		t.Fatal("the empty TA is index 0 in an empty table")
	}
	for i := 1; i <= 254; i++ {
		if got := tas.Intern(fmt.Sprint("ta", i)); got != uint8(i) {
			t.Fatalf("TA %d interned as %d", i, got)
		}
	}
	if got := tas.Intern("ta7"); got != 7 {
		t.Fatalf("a known TA interned again as %d, want 7", got)
	}
	for _, n := range []string{"ta255", "ta256", "ta255"} {
		if got := tas.Intern(n); got != 255 || tas.Names()[got] != TAOverflow {
			t.Fatalf("%s interned as %d (%q), want 255 (%q)", n, got, tas.Names()[got], TAOverflow)
		}
	}
	if len(tas.Names()) != 256 {
		t.Fatalf("%d names, want 256", len(tas.Names()))
	}
}

// TestIndexPackedMatches: NewIndexPacked over packed VRPs answers every
// query exactly as NewIndex over the VRPs (same numbering, same orders),
// on random sets (shuffled or canonical, with host bits and invalid
// prefixes now and then) and on the real export.
func TestIndexPackedMatches(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	check := func(t *testing.T, vrps []VRP, routes int) {
		t.Helper()
		packed, tas := packAll(vrps)
		a, b := NewIndex(vrps), NewIndexPacked(packed, tas.Names())
		a4, a6, aa := a.Orders()
		b4, b6, ba := b.Orders()
		if !slices.Equal(a4, b4) || !slices.Equal(a6, b6) || !slices.Equal(aa, ba) {
			t.Fatal("orders differ")
		}
		if a.Len() != b.Len() {
			t.Fatalf("Len %d vs %d", a.Len(), b.Len())
		}
		av := a.VRPs()
		if !slices.Equal(av, b.VRPs()) {
			t.Fatal("VRPs() differ")
		}
		for i := range av {
			if b.VRP(uint32(i)) != av[i] || b.ASN(uint32(i)) != av[i].ASN || b.MaxLen(uint32(i)) != av[i].MaxLen {
				t.Fatalf("VRP %d: %+v, want %+v", i, b.VRP(uint32(i)), av[i])
			}
		}
		for range routes {
			var p netip.Prefix
			if r.IntN(2) == 0 && len(vrps) > 0 {
				p = vrps[r.IntN(len(vrps))].Prefix
				if p.IsValid() {
					if bits := p.Bits() + r.IntN(3) - 1; bits >= 0 && bits <= p.Addr().BitLen() {
						p = netip.PrefixFrom(p.Addr(), bits).Masked()
					}
				}
			} else {
				p = randPrefix(r, r.IntN(2) == 1)
			}
			o := randOrigin(r)
			if !slices.Equal(a.Covering(p, nil), b.Covering(p, nil)) || !slices.Equal(a.Inside(p, nil), b.Inside(p, nil)) ||
				!slices.Equal(a.InsideByASN(p, o.ASN, nil), b.InsideByASN(p, o.ASN, nil)) ||
				!slices.Equal(a.ByASN(o.ASN), b.ByASN(o.ASN)) {
				t.Fatalf("%s from %+v: answers differ", p, o)
			}
			ra, rb := a.Validate(p, o, nil), b.Validate(p, o, nil)
			if ra.State != rb.State || !slices.Equal(ra.VRPs, rb.VRPs) {
				t.Fatalf("Validate(%s, %+v) = %v %v, want %v %v", p, o, rb.State, rb.VRPs, ra.State, ra.VRPs)
			}
		}
	}
	for round := range 60 {
		vrps := randVRPs(r, 1+r.IntN(3000))
		switch round % 4 {
		case 0:
			vrps = Canonicalize(vrps)
		case 1:
			slices.SortFunc(vrps, CompareVRP)
		case 2:
			vrps[r.IntN(len(vrps))].Prefix = netip.Prefix{}
		case 3:
			i := r.IntN(len(vrps))
			vrps[i].Prefix = netip.PrefixFrom(vrps[i].Prefix.Addr().Next(), vrps[i].Prefix.Bits())
		}
		for i := range vrps {
			vrps[i].TA = []string{"", "ripe", "arin", SLURMTA}[r.IntN(4)]
		}
		check(t, vrps, 300)
	}
	check(t, nil, 10)
	if !testing.Short() {
		t.Run("real", func(t *testing.T) { check(t, ixRealVRPs(t), 20000) })
	}
}

// vrpFromFuzz builds a VRP from fuzz input: a 4- or 16-byte address (by
// v6), a length, maxLength, ASN and TA, as given (host bits, lengths past
// the family's width and IPv4-mapped addresses included).
func vrpFromFuzz(addr []byte, v6 bool, bits, maxLen uint8, asn uint32, ta string) VRP {
	var a netip.Addr
	if v6 {
		var b [16]byte
		copy(b[:], addr)
		a = netip.AddrFrom16(b)
	} else {
		var b [4]byte
		copy(b[:], addr)
		a = netip.AddrFrom4(b)
	}
	return VRP{Prefix: netip.PrefixFrom(a, int(bits)), MaxLen: maxLen, ASN: asn, TA: ta}
}

// FuzzPackedVRP: for any two VRPs with valid prefixes, packing and
// unpacking gives each back exactly (TA included), Compare agrees with
// CompareVRP without the TA, and two packed VRPs are equal exactly when
// the VRPs are; an invalid prefix packs to the invalid family and
// unpacks to an invalid prefix.
func FuzzPackedVRP(f *testing.F) {
	f.Add([]byte{192, 0, 2, 0}, false, uint8(24), uint8(24), uint32(64500), "ripe", []byte{192, 0, 2, 0}, false, uint8(23), uint8(24), uint32(64500), "arin")
	f.Add([]byte{0x20, 0x01, 0x0d, 0xb8}, true, uint8(32), uint8(128), uint32(4294967295), "", []byte{0, 0, 0, 0}, false, uint8(0), uint8(32), uint32(0), "apnic")
	f.Add(make([]byte, 16), true, uint8(129), uint8(0), uint32(1), "x", []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1}, true, uint8(120), uint8(128), uint32(1), "x")
	f.Fuzz(func(t *testing.T, a1 []byte, v61 bool, b1, m1 uint8, as1 uint32, ta1 string, a2 []byte, v62 bool, b2, m2 uint8, as2 uint32, ta2 string) {
		v, w := vrpFromFuzz(a1, v61, b1, m1, as1, ta1), vrpFromFuzz(a2, v62, b2, m2, as2, ta2)
		var tas TATable
		pv, pw := PackVRP(v, tas.Intern(v.TA)), PackVRP(w, tas.Intern(w.TA))
		for _, c := range []struct {
			v VRP
			p PackedVRP
		}{{v, pv}, {w, pw}} {
			got := c.p.Unpack(tas.Names())
			if !c.v.Prefix.IsValid() {
				if got.Prefix.IsValid() || c.p.Fam != 0 {
					t.Fatalf("%+v: invalid prefix packed as %+v, unpacked %+v", c.v, c.p, got)
				}
				continue
			}
			if got != c.v {
				t.Fatalf("%+v packs to %+v and unpacks to %+v", c.v, c.p, got)
			}
		}
		if !v.Prefix.IsValid() || !w.Prefix.IsValid() {
			return
		}
		wt := w
		wt.TA = v.TA
		if got, want := pv.Compare(pw), CompareVRP(v, wt); got != want {
			t.Fatalf("Compare(%v, %v) = %d, CompareVRP = %d", v, w, got, want)
		}
		if (pv == pw) != (v == w) {
			t.Fatalf("%+v and %+v: packed equal %v, VRPs equal %v", v, w, pv == pw, v == w)
		}
	})
}
