package mrt

import (
	"fmt"
	"slices"

	"github.com/rovimpact/rovimpact/rov"
)

// decodePath decodes an AS_PATH or AS4_PATH value (RFC 4271 §4.3 path
// segments; RFC 6793 §3 4-octet ASNs when asSize is 4) reusing segs and asns.
// It checks the whole value first and grows the buffers once, so the
// segments' ASNs slices stay valid (they point into asns).
func decodePath(b []byte, asSize int, segs []rov.Segment, asns []uint32) ([]rov.Segment, []uint32, error) {
	nseg, nas := 0, 0
	for p := b; len(p) > 0; {
		if len(p) < 2 {
			return segs[:0], asns[:0], fmt.Errorf("segment %d: header truncated", nseg+1)
		}
		t, n := rov.SegmentType(p[0]), int(p[1])
		if t < rov.ASSet || t > rov.ASConfedSet {
			return segs[:0], asns[:0], fmt.Errorf("segment %d: unknown type %d", nseg+1, t)
		}
		if len(p) < 2+n*asSize {
			return segs[:0], asns[:0], fmt.Errorf("segment %d: %d ASNs of %d bytes overrun the attribute", nseg+1, n, asSize)
		}
		p = p[2+n*asSize:]
		nseg++
		nas += n
	}
	segs = slices.Grow(segs[:0], nseg)[:nseg]
	asns = slices.Grow(asns[:0], nas)[:nas]
	k := 0
	for i := range segs {
		t, n := rov.SegmentType(b[0]), int(b[1])
		b = b[2:]
		out := asns[k : k+n : k+n]
		if asSize == 4 {
			for j := range out {
				out[j] = uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
				b = b[4:]
			}
		} else {
			for j := range out {
				out[j] = uint32(b[0])<<8 | uint32(b[1])
				b = b[2:]
			}
		}
		segs[i] = rov.Segment{Type: t, ASNs: out}
		k += n
	}
	return segs, asns, nil
}

// pathLen counts ASNs the way RFC 6793 §4.2.3 compares paths: an AS_SET
// counts as one (RFC 4271 §9.1.2.2 b), confederation segments count as zero
// (RFC 5065 §5.3).
func pathLen(p []rov.Segment) int {
	n := 0
	for _, s := range p {
		switch s.Type {
		case rov.ASSequence:
			n += len(s.ASNs)
		case rov.ASSet:
			n++
		}
	}
	return n
}

func isConfed(t rov.SegmentType) bool {
	return t == rov.ASConfedSequence || t == rov.ASConfedSet
}

// mergeAS4 reconstructs the 4-octet AS path from a 2-octet AS_PATH and an
// AS4_PATH (RFC 6793 §4.2.3), writing into segs/asns. It returns false (and
// the caller keeps AS_PATH) when AS4_PATH must be ignored:
//
//	"If the number of AS numbers in the AS_PATH attribute is less than the
//	number of AS numbers in the AS4_PATH attribute, then the AS4_PATH
//	attribute SHALL be ignored, and the AS_PATH attribute SHALL be taken as
//	the AS path information."
//
// Otherwise:
//
//	"the AS path information SHALL be constructed by taking as many AS
//	numbers and path segments as necessary from the leading part of the
//	AS_PATH attribute, and then prepending them to the AS4_PATH attribute so
//	that the AS path information has a number of AS numbers identical to
//	that of the AS_PATH attribute. Note that a valid AS_CONFED_SEQUENCE or
//	AS_CONFED_SET path segment SHALL be prepended if it is either the leading
//	path segment or is adjacent to a path segment that is prepended."
//
// Confederation segments inside AS4_PATH are discarded (RFC 6793 §6: "MUST
// discard these path segments ... and continue processing"). Adjacent
// AS_SEQUENCE segments at the seam are joined into one.
func mergeAS4(a, b, segs []rov.Segment, asns []uint32) ([]rov.Segment, []uint32, bool) {
	la, lb := pathLen(a), pathLen(b)
	if la < lb {
		return segs, asns, false
	}
	total := 0
	for _, s := range a {
		total += len(s.ASNs)
	}
	for _, s := range b {
		total += len(s.ASNs)
	}
	// Capacity is reserved up front so appends never move asns and the
	// segments' slices into it stay valid.
	segs = slices.Grow(segs[:0], len(a)+len(b))
	asns = slices.Grow(asns[:0], total)
	add := func(t rov.SegmentType, list []uint32) {
		start := len(asns)
		asns = append(asns, list...)
		if t == rov.ASSequence && len(segs) > 0 && segs[len(segs)-1].Type == rov.ASSequence {
			last := &segs[len(segs)-1]
			last.ASNs = asns[start-len(last.ASNs) : len(asns) : len(asns)]
			return
		}
		segs = append(segs, rov.Segment{Type: t, ASNs: asns[start:len(asns):len(asns)]})
	}
	need := la - lb
	for _, s := range a {
		if isConfed(s.Type) {
			// Leading, or adjacent to a prepended segment: prepended whole.
			add(s.Type, s.ASNs)
			continue
		}
		if need == 0 {
			break
		}
		if s.Type == rov.ASSet {
			add(s.Type, s.ASNs)
			need--
			continue
		}
		k := min(need, len(s.ASNs))
		add(s.Type, s.ASNs[:k])
		need -= k
		if k < len(s.ASNs) {
			break
		}
	}
	for _, s := range b {
		if isConfed(s.Type) {
			continue
		}
		add(s.Type, s.ASNs)
	}
	return segs, asns, true
}
