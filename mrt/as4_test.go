package mrt

import (
	"testing"

	"github.com/rovimpact/rovimpact/rov"
)

func segSeq(asns ...uint32) rov.Segment { return rov.Segment{Type: rov.ASSequence, ASNs: asns} }
func segSet(asns ...uint32) rov.Segment { return rov.Segment{Type: rov.ASSet, ASNs: asns} }
func segCSeq(asns ...uint32) rov.Segment {
	return rov.Segment{Type: rov.ASConfedSequence, ASNs: asns}
}
func segCSet(asns ...uint32) rov.Segment { return rov.Segment{Type: rov.ASConfedSet, ASNs: asns} }

const trans = 23456 // AS_TRANS, RFC 6793 §9

// mergeCases are the RFC 6793 §4.2.3 rows, shared by TestMergeAS4 and
// TestBgpdumpAS4Merge.
var mergeCases = []struct {
	name      string
	asPath    []rov.Segment
	as4Path   []rov.Segment
	want      string
	wantKind  rov.OriginKind
	wantMerge bool
}{
	{"§4.2.3 AS_PATH shorter than AS4_PATH: AS4_PATH ignored",
		[]rov.Segment{segSeq(64500, trans)}, []rov.Segment{segSeq(1, 4200000000, 4200000001)},
		"64500 23456", rov.OriginAS, false},
	{"§4.2.3 equal counts: AS4_PATH taken whole",
		[]rov.Segment{segSeq(trans, trans)}, []rov.Segment{segSeq(4200000000, 4200000001)},
		"4200000000 4200000001", rov.OriginAS, true},
	{"§4.2.3 AS_PATH longer: leading ASes prepended, sequences joined",
		[]rov.Segment{segSeq(64500, 64501, trans, trans)}, []rov.Segment{segSeq(4200000000, 4200000001)},
		"64500 64501 4200000000 4200000001", rov.OriginAS, true},
	{"§4.2.3 prepended part spans segments",
		[]rov.Segment{segSeq(64500), segSeq(64501, trans)}, []rov.Segment{segSeq(4200000000)},
		"64500 64501 4200000000", rov.OriginAS, true},
	{"RFC 4271 §9.1.2.2: an AS_SET counts as one (AS_PATH 3 vs AS4_PATH 2)",
		[]rov.Segment{segSeq(64500, trans), segSet(1, 2, 3)}, []rov.Segment{segSeq(4200000000), segSet(1, 2, 3)},
		"64500 4200000000 {1,2,3}", rov.OriginNone, true},
	{"AS_SET prepended whole from AS_PATH",
		[]rov.Segment{segSet(7, 8), segSeq(trans)}, []rov.Segment{segSeq(4200000000)},
		"{7,8} 4200000000", rov.OriginAS, true},
	{"§4.2.3 leading confed segment prepended even when no AS is needed",
		[]rov.Segment{segCSeq(65001, 65002), segSeq(trans)}, []rov.Segment{segSeq(4200000000)},
		"(65001 65002) 4200000000", rov.OriginAS, true},
	{"§4.2.3 confed set adjacent to a prepended segment is prepended",
		[]rov.Segment{segSeq(64500), segCSet(65001), segSeq(trans)}, []rov.Segment{segSeq(4200000000)},
		"64500 [65001] 4200000000", rov.OriginAS, true},
	{"RFC 5065: confed ASes do not count toward the length",
		[]rov.Segment{segCSeq(65001, 65002, 65003), segSeq(trans)}, []rov.Segment{segSeq(4200000000, 4200000001)},
		"(65001 65002 65003) 23456", rov.OriginAS, false},
	{"§6: confed segments in AS4_PATH are discarded",
		[]rov.Segment{segSeq(64500, trans)}, []rov.Segment{segCSeq(65009), segSeq(4200000000)},
		"64500 4200000000", rov.OriginAS, true},
	{"empty AS4_PATH: AS_PATH kept as is",
		[]rov.Segment{segSeq(64500, 64501)}, nil,
		"64500 64501", rov.OriginAS, true},
}

// TestMergeAS4 pins the RFC 6793 §4.2.3 reconstruction, one row per rule.
func TestMergeAS4(t *testing.T) {
	for _, tt := range mergeCases {
		t.Run(tt.name, func(t *testing.T) {
			segs, _, merged := mergeAS4(tt.asPath, tt.as4Path, nil, nil)
			path := tt.asPath
			if merged {
				path = segs
			}
			if merged != tt.wantMerge {
				t.Errorf("merged = %v, want %v", merged, tt.wantMerge)
			}
			if got := formatPath(path); got != tt.want {
				t.Errorf("path = %q, want %q", got, tt.want)
			}
			if got := rov.OriginOf(path).Kind; got != tt.wantKind {
				t.Errorf("origin kind = %v, want %v", got, tt.wantKind)
			}
		})
	}
}

// TestMergeAS4Reuse: merging into reused buffers must not alias segments
// (the joined sequence grows in place inside the reserved capacity).
func TestMergeAS4Reuse(t *testing.T) {
	var segs []rov.Segment
	var asns []uint32
	for i := range 3 {
		a := []rov.Segment{segSeq(1, 2, 3, trans), segSet(9)}
		b := []rov.Segment{segSeq(4200000000 + uint32(i)), segSet(9)}
		var ok bool
		segs, asns, ok = mergeAS4(a, b, segs, asns)
		want := "1 2 3 " + itoa(4200000000+i) + " {9}"
		if got := formatPath(segs); !ok || got != want {
			t.Fatalf("round %d: %q, want %q", i, got, want)
		}
	}
}

// TestDecodePath pins segment decoding and its errors.
func TestDecodePath(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		asSize  int
		want    string
		wantErr string
	}{
		{"4-byte sequence and set", cat(seg(rov.ASSequence, 4, 1, 4200000000), seg(rov.ASSet, 4, 5, 6)), 4, "1 4200000000 {5,6}", ""},
		{"2-byte with confed segments", cat(seg(rov.ASConfedSequence, 2, 65001), seg(rov.ASConfedSet, 2, 65002, 65003), seg(rov.ASSequence, 2, 3)), 2, "(65001) [65002,65003] 3", ""},
		{"empty attribute (iBGP-originated)", nil, 4, "", ""},
		{"RFC 4271 §4.3: unknown segment type", []byte{5, 1, 0, 0, 0, 1}, 4, "", "segment 1: unknown type 5"},
		{"segment overruns", cat(seg(rov.ASSequence, 4, 1), []byte{2, 2, 0, 0, 0, 1}), 4, "", "segment 2: 2 ASNs of 4 bytes overrun the attribute"},
		{"header truncated", []byte{2}, 2, "", "segment 1: header truncated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			segs, _, err := decodePath(tt.in, tt.asSize, nil, nil)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := formatPath(segs); got != tt.want {
				t.Errorf("path = %q, want %q", got, tt.want)
			}
		})
	}
}
