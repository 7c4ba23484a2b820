package rov

import (
	"net/netip"
	"testing"
)

// TestOrders pins the prefix order and the two VRP orders against each
// other on the cases where they differ.
func TestOrders(t *testing.T) {
	v := func(p string, maxLen uint8, asn uint32) VRP {
		return VRP{Prefix: netip.MustParsePrefix(p), MaxLen: maxLen, ASN: asn}
	}
	cases := []struct {
		name       string
		a, b       VRP
		reading    int // CompareVRP(a, b)
		canonical  int // CanonicalOrder(a, b)
		prefixOnly int // ComparePrefix(a.Prefix, b.Prefix)
	}{
		{"IPv4 before IPv6 in every order", v("255.0.0.0/8", 8, 1), v("::/0", 0, 1), -1, -1, -1},
		{"lower address first", v("10.0.0.0/8", 8, 1), v("11.0.0.0/8", 8, 1), -1, -1, -1},
		{"covering prefix first when reading, last in rpki-client's order", v("10.0.0.0/8", 24, 1), v("10.0.0.0/16", 24, 1), -1, 1, -1},
		{"smaller MaxLen first when reading, last in rpki-client's order", v("10.0.0.0/8", 16, 1), v("10.0.0.0/8", 24, 1), -1, 1, 0},
		{"ASN ascending in both", v("10.0.0.0/8", 8, 1), v("10.0.0.0/8", 8, 2), -1, -1, 0},
		{"TA breaks ties when reading only", VRP{Prefix: netip.MustParsePrefix("10.0.0.0/8"), MaxLen: 8, ASN: 1, TA: "a"}, VRP{Prefix: netip.MustParsePrefix("10.0.0.0/8"), MaxLen: 8, ASN: 1, TA: "b"}, -1, 0, 0},
	}
	for _, c := range cases {
		if got := CompareVRP(c.a, c.b); got != c.reading || CompareVRP(c.b, c.a) != -c.reading {
			t.Errorf("%s: CompareVRP = %d, want %d", c.name, got, c.reading)
		}
		if got := CanonicalOrder(c.a, c.b); got != c.canonical || CanonicalOrder(c.b, c.a) != -c.canonical {
			t.Errorf("%s: CanonicalOrder = %d, want %d", c.name, got, c.canonical)
		}
		if got := ComparePrefix(c.a.Prefix, c.b.Prefix); got != c.prefixOnly {
			t.Errorf("%s: ComparePrefix = %d, want %d", c.name, got, c.prefixOnly)
		}
	}
}
