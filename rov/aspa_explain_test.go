package rov

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseASPathText(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []Segment
		err  string
	}{
		{in: "", want: nil},
		{in: "AS64497 64496", want: seq(64497, 64496)},
		{in: "  as64497   64496 ", want: seq(64497, 64496)},
		{in: "64498 64497 {64496,64500}", want: []Segment{{Type: ASSequence, ASNs: []uint32{64498, 64497}}, {Type: ASSet, ASNs: []uint32{64496, 64500}}}},
		{in: "64498 {64496 AS64500} 64497", want: []Segment{{Type: ASSequence, ASNs: []uint32{64498}}, {Type: ASSet, ASNs: []uint32{64496, 64500}},
			{Type: ASSequence, ASNs: []uint32{64497}}}},
		{in: "(65001 65002) 64497 [1,2]", want: []Segment{{Type: ASConfedSequence, ASNs: []uint32{65001, 65002}}, {Type: ASSequence, ASNs: []uint32{64497}},
			{Type: ASConfedSet, ASNs: []uint32{1, 2}}}},
		{in: "64497 {64496", err: "unterminated"},
		{in: "64497 {}", err: "empty"},
		{in: "64497 }", err: "unexpected"},
		{in: "64497 AS-X", err: "AS path"},
		{in: "4294967296", err: "AS path"},
	} {
		got, err := ParseASPathText(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseASPathText(%q) = %v, %v; want error with %q", c.in, got, err, c.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseASPathText(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}

// FuzzParseASPathText: the parser never panics, and what it accepts holds
// no empty segment and verifies without panicking.
func FuzzParseASPathText(f *testing.F) {
	for _, s := range []string{"", "64497 64496", "AS1 {2,3} (4 5) [6]", "{", "1 }", "as0"} {
		f.Add(s)
	}
	set := NewASPASet([]ASPA{{CustomerASID: 1, Providers: []uint32{2}}})
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseASPathText(s)
		if err != nil {
			return
		}
		for _, seg := range p {
			if len(seg.ASNs) == 0 {
				t.Fatalf("%q: empty segment in %v", s, p)
			}
		}
		e := NewASPAVerifier(set).Explain(p, 1, RoleProvider)
		if e.Path != nil && len(e.Pairs) != len(e.Path)-1 {
			t.Fatalf("%q: %d pairs for a compressed path of %d", s, len(e.Pairs), len(e.Path))
		}
	})
}

// TestASPAExplain: Explain's verdict is Verify's, and its pairs are the
// authorizations of the compressed path in both directions.
func TestASPAExplain(t *testing.T) {
	set := NewASPASet([]ASPA{{CustomerASID: asnOrigin, Providers: []uint32{asnProvider}}, {CustomerASID: asnProvider, Providers: []uint32{asnUpper}},
		{CustomerASID: asnCustomer, Providers: []uint32{asnPeer}}})
	v := NewASPAVerifier(set)
	path := seq(asnCustomer, asnPeer, asnPeer, asnUpper, asnProvider, asnOrigin, asnOrigin)
	e := v.Explain(path, asnCustomer, RoleProvider)
	if want := v.Verify(path, asnCustomer, RoleProvider); e.Result != want {
		t.Fatalf("Explain result %+v, Verify %+v", e.Result, want)
	}
	if want := []uint32{asnCustomer, asnPeer, asnUpper, asnProvider, asnOrigin}; !reflect.DeepEqual(e.Path, want) {
		t.Fatalf("compressed path %v, want %v", e.Path, want)
	}
	want := []ASPAPair{
		{1, asnOrigin, asnProvider, ProviderPlus, NotProviderPlus},
		{2, asnProvider, asnUpper, ProviderPlus, NoAttestation},
		{3, asnUpper, asnPeer, NoAttestation, NoAttestation},
		{4, asnPeer, asnCustomer, NoAttestation, ProviderPlus},
	}
	if !reflect.DeepEqual(e.Pairs, want) {
		t.Errorf("pairs\n%+v\nwant\n%+v", e.Pairs, want)
	}
	// A path with an AS_SET has no compressed path and no pairs.
	e = v.Explain([]Segment{{Type: ASSequence, ASNs: []uint32{asnProvider}}, {Type: ASSet, ASNs: []uint32{asnOrigin}}}, asnProvider, RolePeer)
	if e.Result.Reason != ASPAReasonASSet || e.Path != nil || e.Pairs != nil {
		t.Errorf("AS_SET path: %+v", e)
	}
}
