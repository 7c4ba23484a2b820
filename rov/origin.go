// Package rov holds Validated ROA Payloads (VRPs), the loaders that read them
// from validator exports and SLURM files, a read-only prefix index over them,
// and Route Origin Validation as RFC 6811 defines it.
//
// rov knows nothing about files, sockets, clocks or output formats: loaders
// take an io.Reader, validation takes values and returns values.
package rov

import (
	"fmt"
	"net/netip"
)

// VRP is one Validated ROA Payload: ASN may originate Prefix and any more
// specific prefix up to MaxLen bits long (RFC 6811 §2, RFC 6482).
// ASN 0 never matches a route (RFC 6483 §4, RFC 7607). TA names the trust
// anchor it came from ("ripe", "arin", ...), or is empty when unknown.
type VRP struct {
	Prefix netip.Prefix
	MaxLen uint8
	ASN    uint32
	TA     string
}

// String writes the VRP compactly as reports show it:
// "192.0.2.0/22-23 AS64500", or "192.0.2.0/24 AS64500" when MaxLen equals
// the prefix length.
func (v VRP) String() string {
	if int(v.MaxLen) == v.Prefix.Bits() {
		return fmt.Sprintf("%s AS%d", v.Prefix, v.ASN)
	}
	return fmt.Sprintf("%s-%d AS%d", v.Prefix, v.MaxLen, v.ASN)
}

// SegmentType is the BGP AS_PATH segment type code (RFC 4271 §4.3,
// RFC 5065 §3).
type SegmentType uint8

// AS_PATH segment types as they appear on the wire.
const (
	ASSet            SegmentType = 1
	ASSequence       SegmentType = 2
	ASConfedSequence SegmentType = 3
	ASConfedSet      SegmentType = 4
)

// Segment is one AS_PATH segment.
type Segment struct {
	Type SegmentType
	ASNs []uint32
}

// OriginKind tells how a route's origin AS was determined.
type OriginKind uint8

const (
	// OriginAS: the origin is Origin.ASN, the rightmost AS of the final
	// AS_SEQUENCE segment.
	OriginAS OriginKind = iota
	// OriginNone: the final segment is an AS_SET, so the origin is NONE and
	// matches no VRP (RFC 6811 §2).
	OriginNone
	// OriginLocal: the AS_PATH is empty or its final segment is an
	// AS_CONFED_* segment, so the origin is the local AS (RFC 6811 §2),
	// which is unknown until the operator names it (--local-as).
	OriginLocal
)

// Origin is a route's origin AS per RFC 6811 §2. ASN is meaningful only for
// OriginAS. Origin is comparable and used as a map key.
type Origin struct {
	Kind OriginKind
	ASN  uint32
}

// OriginOf returns the origin of an AS_PATH per RFC 6811 §2:
//
//	"the origin AS ... is the AS number of the rightmost AS in the final
//	segment of the AS_PATH attribute in the route if that segment is of type
//	AS_SEQUENCE, or NONE if the final segment is of type AS_SET, or the
//	AS_PATH is empty (in which case the origin AS is the BGP speaker's own
//	AS), or if the final segment is of type AS_CONFED_SEQUENCE or
//	AS_CONFED_SET (in which case the origin AS is the BGP speaker's own AS)."
//
// Empty segments are ignored when finding the final one.
func OriginOf(path []Segment) Origin {
	for i := len(path) - 1; i >= 0; i-- {
		s := path[i]
		if len(s.ASNs) == 0 {
			continue
		}
		switch s.Type {
		case ASSequence:
			return Origin{Kind: OriginAS, ASN: s.ASNs[len(s.ASNs)-1]}
		case ASSet:
			return Origin{Kind: OriginNone}
		default:
			return Origin{Kind: OriginLocal}
		}
	}
	return Origin{Kind: OriginLocal}
}

// FinalASSet returns the members of the path's final AS_SET — the segment
// that makes OriginOf return OriginNone (RFC 6811 §2: "the origin AS
// cannot be determined" when the final segment is an AS_SET) — or nil when
// the last non-empty segment is not an AS_SET. The slice is path's own:
// copy it to keep it past the path's reuse.
func FinalASSet(path []Segment) []uint32 {
	for i := len(path) - 1; i >= 0; i-- {
		if len(path[i].ASNs) == 0 {
			continue
		}
		if path[i].Type == ASSet {
			return path[i].ASNs
		}
		return nil
	}
	return nil
}

// WithLocalAS resolves an OriginLocal origin to the given local AS; it
// returns o unchanged when o is not OriginLocal or local is 0 (unknown).
func (o Origin) WithLocalAS(local uint32) Origin {
	if o.Kind == OriginLocal && local != 0 {
		return Origin{Kind: OriginAS, ASN: local}
	}
	return o
}
