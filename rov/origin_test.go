package rov

import (
	"slices"
	"testing"
)

// TestFinalASSet pins FinalASSet to OriginOf: the members are returned
// exactly when the origin is NONE because the final segment is an AS_SET
// (RFC 6811 §2).
func TestFinalASSet(t *testing.T) {
	seq := func(a ...uint32) Segment { return Segment{Type: ASSequence, ASNs: a} }
	set := func(a ...uint32) Segment { return Segment{Type: ASSet, ASNs: a} }
	cases := []struct {
		name string
		path []Segment
		want []uint32
	}{
		{"RFC 6811 §2: final AS_SET, origin NONE", []Segment{seq(64500), set(64501, 64502)}, []uint32{64501, 64502}},
		{"empty trailing segments are passed over", []Segment{seq(64500), set(64501), seq()}, []uint32{64501}},
		{"RFC 6811 §2: final AS_SEQUENCE, origin is its last AS", []Segment{set(64501), seq(64500)}, nil},
		{"empty path: local origin, no set", nil, nil},
		{"confederation segment last: local origin, no set", []Segment{seq(64500), {Type: ASConfedSequence, ASNs: []uint32{65000}}}, nil},
	}
	for _, c := range cases {
		got := FinalASSet(c.path)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: FinalASSet = %v, want %v", c.name, got, c.want)
		}
		if none := OriginOf(c.path).Kind == OriginNone; none != (got != nil) {
			t.Errorf("%s: origin NONE = %v but set %v", c.name, none, got)
		}
	}
}
