package mrt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
)

// Family is an address family a live source keeps routes of: IPv4 or IPv6
// unicast (RFC 4760 AFI 1 or 2, SAFI 1). Everything else is counted and
// ignored.
type Family uint8

const (
	IPv4Unicast Family = iota
	IPv6Unicast
	NumFamilies
)

func (f Family) String() string {
	switch f {
	case IPv4Unicast:
		return "ipv4-unicast"
	case IPv6Unicast:
		return "ipv6-unicast"
	}
	return fmt.Sprintf("family(%d)", uint8(f))
}

// MarshalText renders f as String does.
func (f Family) MarshalText() ([]byte, error) { return []byte(f.String()), nil }

// AFI returns the RFC 4760 Address Family Identifier of f.
func (f Family) AFI() uint16 { return uint16(f) + 1 }

// FamilyOf returns the family of an AFI/SAFI pair, and false for any pair
// but IPv4 or IPv6 unicast.
func FamilyOf(afi uint16, safi uint8) (Family, bool) {
	if safi != safiUnicast {
		return 0, false
	}
	switch afi {
	case afiIPv4:
		return IPv4Unicast, true
	case afiIPv6:
		return IPv6Unicast, true
	}
	return 0, false
}

// FamilyOfPrefix returns the family a prefix belongs to.
func FamilyOfPrefix(p netip.Prefix) Family {
	if p.Addr().Is4() {
		return IPv4Unicast
	}
	return IPv6Unicast
}

// Handling is how an UPDATE with an error must be handled: the approaches
// of RFC 7606 §2, from the mildest to the most severe. An UPDATE's Handling
// is the most severe one any of its errors calls for.
type Handling uint8

const (
	// Clean: no error.
	Clean Handling = iota
	// AttributeDiscard: "the malformed attribute MUST be discarded and the
	// UPDATE message continues to be processed. This approach MUST NOT be
	// used except in the case of an attribute that has no effect on route
	// selection or installation." (RFC 7606 §2)
	AttributeDiscard
	// TreatAsWithdraw: "the UPDATE message containing the path attribute
	// in question MUST be treated as though all contained routes had been
	// withdrawn just as if they had been listed in the WITHDRAWN ROUTES
	// field (or in the MP_UNREACH_NLRI attribute if appropriate) of the
	// UPDATE message, thus causing them to be removed from the Adj-RIB-In
	// according to the procedures of [RFC4271]." (RFC 7606 §2)
	TreatAsWithdraw
	// AFISAFIDisable: "the procedures of Section 7 of [RFC4760] MUST be
	// followed with respect to the Address Family Identifier/Subsequent
	// Address Family Identifier pair specified in the UPDATE message"
	// (RFC 7606 §2): "the speaker MUST delete all the BGP routes received
	// from that neighbor whose AFI/SAFI is the same as the one carried in
	// the incorrect MP_REACH_NLRI or MP_UNREACH_NLRI attribute. For the
	// duration of the BGP session over which the UPDATE message was
	// received, the speaker then SHOULD ignore all the subsequent routes
	// with that AFI/SAFI received over that session." (RFC 4760 §7)
	AFISAFIDisable
	// SessionReset: "This is the approach used throughout the base BGP
	// specification, where a NOTIFICATION is sent and the session
	// terminated." (RFC 7606 §2)
	SessionReset
)

func (h Handling) String() string {
	switch h {
	case Clean:
		return "clean"
	case AttributeDiscard:
		return "attribute-discard"
	case TreatAsWithdraw:
		return "treat-as-withdraw"
	case AFISAFIDisable:
		return "afi-safi-disable"
	case SessionReset:
		return "session-reset"
	}
	return fmt.Sprintf("handling(%d)", uint8(h))
}

// MarshalText renders h as String does.
func (h Handling) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UPDATE Message Error subcodes (RFC 4271 §4.5, §6.3).
const (
	NotifUpdateError        = 3
	SubMalformedAttrList    = 1
	SubUnrecognizedWellKown = 2
	SubMissingWellKnown     = 3
	SubAttrFlagsError       = 4
	SubAttrLengthError      = 5
	SubInvalidOrigin        = 6
	SubInvalidNextHop       = 8
	SubOptionalAttrError    = 9
	SubInvalidNetworkField  = 10
	SubMalformedASPath      = 11
)

// UpdateError is one error found in an UPDATE, with the handling it calls
// for and, for a session reset, the NOTIFICATION to send (RFC 4271 §6.3
// error subcode and data).
type UpdateError struct {
	Handling Handling
	// Family is the family to disable (AFISAFIDisable only).
	Family  Family
	Subcode uint8
	Data    []byte // NOTIFICATION data; aliases the UPDATE
	Reason  string
}

func (e *UpdateError) Error() string {
	return fmt.Sprintf("UPDATE: %s (%s)", e.Reason, e.Handling)
}

// NLRI is one path of an UPDATE: a prefix and, under ADD-PATH (RFC 7911
// §3), its path identifier.
type NLRI struct {
	Prefix netip.Prefix // masked
	PathID uint32
	// MP is true when the prefix came in MP_REACH_NLRI or MP_UNREACH_NLRI
	// (RFC 4760), false for the IPv4 NLRI and Withdrawn Routes fields.
	MP bool
}

// UpdateOptions describe the session an UPDATE came over.
type UpdateOptions struct {
	// AS4: both ends advertised the 4-octet AS capability (RFC 6793), so
	// AS_PATH carries 4-octet ASNs.
	AS4 bool
	// AddPath[f]: the peer sends path identifiers for family f (RFC 7911
	// §4: it advertised Send and we Receive).
	AddPath [NumFamilies]bool
	// IBGP: the peer is in our AS (RFC 7606 §7.5, §7.9, §7.10 differ).
	IBGP bool
	// LocalAS, when non-zero, is the receiving router's AS: a path that
	// contains it is a loop (RFC 4271 §9.1.2) and its NLRI are reported
	// as withdrawn (Looped).
	LocalAS uint32
	// Disabled[f]: family f was disabled on this session (AFISAFIDisable);
	// its NLRI are ignored.
	Disabled [NumFamilies]bool
}

// Update is a decoded UPDATE, as a receiving speaker applies it. Slices
// alias the decoder's buffers and are valid until its next Decode.
type Update struct {
	// Withdrawn: Withdrawn Routes and MP_UNREACH_NLRI, plus every
	// announced NLRI when the UPDATE is treat-as-withdraw or Looped.
	Withdrawn []NLRI
	// Announced: NLRI and MP_REACH_NLRI prefixes that carry Path.
	Announced []NLRI
	Path      []rov.Segment // AS path after the RFC 6793 §4.2.3 merge
	Origin    rov.Origin
	NextHop   netip.Addr      // NEXT_HOP, for IPv4 NLRI field prefixes
	MPNextHop netip.Addr      // MP_REACH_NLRI next hop (global address)
	RPKI      route.RPKIState // RFC 8097 extended community, if any
	// Err is the most severe error (the first of equal severity); nil for
	// a clean UPDATE. Handling() reads it.
	Err *UpdateError
	// Disable lists families to disable: AFISAFIDisable errors, several
	// families may be hit by one UPDATE.
	Disable [NumFamilies]bool
	// TreatedAsWithdraw: an error called for treat-as-withdraw (even if a
	// more severe one, AFI/SAFI disable, is Err): the announced NLRI are
	// in Withdrawn.
	TreatedAsWithdraw bool
	// Discarded counts attributes discarded (RFC 7606 attribute discard,
	// repeated attributes of RFC 7606 §3 g).
	Discarded int
	// Looped: the path contains UpdateOptions.LocalAS; its NLRI are in
	// Withdrawn.
	Looped bool
	// Ignored counts NLRI of families this decoder does not keep, or that
	// are disabled.
	Ignored int
	// EndOfRIB is set for an End-of-RIB marker (RFC 4724 §2) of EORFamily.
	EndOfRIB  bool
	EORFamily Family
}

// Handling returns the handling the UPDATE calls for.
func (u *Update) Handling() Handling {
	if u.Err == nil {
		return Clean
	}
	return u.Err.Handling
}

// NextHopOf returns the next hop of an announced NLRI: the MP_REACH_NLRI
// next hop for MP prefixes, NEXT_HOP for the others (RFC 4760 §3).
func (u *Update) NextHopOf(n NLRI) netip.Addr {
	if n.MP {
		return u.MPNextHop
	}
	return u.NextHop
}

// UpdateDecoder decodes BGP UPDATE messages and decides, per RFC 7606, how
// each error is handled. It is the one place that does, for every live
// source (a BGP session, BMP route monitoring). It reuses its buffers:
// decoding allocates nothing once they have grown. Not safe for concurrent
// use.
type UpdateDecoder struct {
	u                   Update
	segA, segB, segM    []rov.Segment
	asnA, asnB, asnM    []uint32
	errs                [2]UpdateError // [0]: the worst, [1]: scratch
	announced, withdraw []NLRI
}

// Attribute type codes not named elsewhere.
const (
	attrMED           = 4
	attrLocalPref     = 5
	attrAtomicAgg     = 6
	attrAggregator    = 7
	attrCommunities   = 8
	attrOriginatorID  = 9
	attrClusterList   = 10
	attrAS4Aggregator = 18
	attrLargeComm     = 32
)

const (
	flagOptional   = 0x80
	flagTransitive = 0x40
	flagExtLen     = 0x10
)

// Decode decodes body, an UPDATE message without its 19-octet header
// (RFC 4271 §4.3). The result is valid until the next call.
func (d *UpdateDecoder) Decode(body []byte, o *UpdateOptions) *Update {
	u := &d.u
	*u = Update{Withdrawn: d.withdraw[:0], Announced: d.announced[:0], RPKI: route.RPKIAbsent}
	defer func() { d.withdraw, d.announced = u.Withdrawn[:0], u.Announced[:0] }()

	// RFC 4271 §6.3: "If the Withdrawn Routes Length or Total Attribute
	// Length is too large (i.e., if Withdrawn Routes Length + Total
	// Attribute Length + 23 exceeds the message Length), then the Error
	// Subcode MUST be set to Malformed Attribute List." RFC 7606 §3 a
	// keeps it: the NLRI cannot be located, so no lesser approach works.
	if len(body) < 4 {
		d.fail(SessionReset, SubMalformedAttrList, nil, "message shorter than the withdrawn and attribute length fields")
		return u
	}
	wlen := int(binary.BigEndian.Uint16(body))
	if 2+wlen+2 > len(body) {
		d.fail(SessionReset, SubMalformedAttrList, nil, fmt.Sprintf("withdrawn routes length %d overruns the message", wlen))
		return u
	}
	withdrawn := body[2 : 2+wlen]
	alen := int(binary.BigEndian.Uint16(body[2+wlen:]))
	if 2+wlen+2+alen > len(body) {
		d.fail(SessionReset, SubMalformedAttrList, nil, fmt.Sprintf("total attribute length %d overruns the message", alen))
		return u
	}
	attrs := body[4+wlen : 4+wlen+alen]
	nlri := body[4+wlen+alen:]

	// RFC 7606 §5.3: a Withdrawn Routes or NLRI field that cannot be
	// parsed (a prefix length beyond the address, an overrun) leaves
	// nothing to treat as withdrawn: "the procedures of [RFC4271] ...
	// continue to apply, meaning that the "session reset" approach ...
	// MUST be followed" (RFC 7606 §2), with RFC 4271 §6.3's "Invalid
	// Network Field".
	if !d.addList(&u.Withdrawn, withdrawn, false, IPv4Unicast, o) {
		d.fail(SessionReset, SubInvalidNetworkField, nil, "withdrawn routes field does not parse")
		return u
	}
	if !d.addList(&u.Announced, nlri, false, IPv4Unicast, o) {
		d.fail(SessionReset, SubInvalidNetworkField, nil, "NLRI field does not parse")
		return u
	}

	// RFC 4724 §2: "An UPDATE message with no reachable Network Layer
	// Reachability Information (NLRI) and empty withdrawn NLRI is
	// specified as the End-of-RIB marker that can be used by a BGP speaker
	// to indicate to its peer the completion of the initial routing update
	// after the session is established. For the IPv4 unicast address
	// family, the End-of-RIB marker is an UPDATE message with the minimum
	// length."
	if wlen == 0 && alen == 0 && len(nlri) == 0 {
		u.EndOfRIB, u.EORFamily = true, IPv4Unicast
		return u
	}

	var (
		seen                           [4]uint64 // attribute types seen (RFC 7606 §3 g)
		asPath, as4Path                []byte
		haveOrigin, haveASPath, haveNH bool
		haveAS4, mpReach, mpUnreach    bool
		mpReachV, mpUnreachV           []byte
	)
	asSize := 2
	if o.AS4 {
		asSize = 4
	}
	for b := attrs; len(b) > 0; {
		// RFC 7606 §4: "fewer than three octets remain (or fewer than
		// four octets, if the Attribute Flags field has the Extended
		// Length bit set) when beginning to parse the attribute ... In
		// either of these cases, an error condition exists and the
		// "treat-as-withdraw" approach MUST be used (unless some other,
		// more severe error is encountered dictating a stronger
		// approach), and the Total Attribute Length MUST be relied upon
		// to enable the beginning of the NLRI field to be located."
		if len(b) < 3 || (b[0]&flagExtLen != 0 && len(b) < 4) {
			d.fail(TreatAsWithdraw, SubMalformedAttrList, nil, fmt.Sprintf("%d octets left, too few for an attribute header", len(b)))
			break
		}
		flags, typ := b[0], b[1]
		h, n := 3, int(b[2])
		if flags&flagExtLen != 0 {
			h, n = 4, int(binary.BigEndian.Uint16(b[2:4]))
		}
		// RFC 7606 §4: "the length of the last encountered path attribute
		// would cause the Total Attribute Length to be exceeded" — the
		// same treat-as-withdraw.
		if len(b) < h+n {
			d.fail(TreatAsWithdraw, SubAttrLengthError, nil, fmt.Sprintf("attribute %s: length %d overruns the attributes by %d octets", attrName(typ), n, h+n-len(b)))
			break
		}
		whole, v := b[:h+n], b[h:h+n]
		b = b[h+n:]

		if seen[typ/64]&(1<<(typ%64)) != 0 {
			// RFC 7606 §3 g: "If the MP_REACH_NLRI attribute or the
			// MP_UNREACH_NLRI [RFC4760] attribute appears more than once in
			// the UPDATE message, then a NOTIFICATION message MUST be sent
			// with the Error Subcode "Malformed Attribute List". If any
			// other attribute (whether recognized or unrecognized) appears
			// more than once in an UPDATE message, then all the
			// occurrences of the attribute other than the first one SHALL
			// be discarded and the UPDATE message will continue to be
			// processed."
			if typ == attrMPReach || typ == attrMPUnreach {
				d.fail(SessionReset, SubMalformedAttrList, nil, fmt.Sprintf("attribute %s appears more than once", attrName(typ)))
				return u
			}
			u.Discarded++
			continue
		}
		seen[typ/64] |= 1 << (typ % 64)

		// RFC 7606 §3 c: "If the value of either the Optional or
		// Transitive bits in the Attribute Flags is in conflict with their
		// specified values, then the attribute MUST be treated as
		// malformed and the "treat-as-withdraw" approach used, unless the
		// specification for the attribute mandates different handling for
		// incorrect Attribute Flags."
		if want, known := attrFlags(typ); known && flags&(flagOptional|flagTransitive) != want {
			d.fail(TreatAsWithdraw, SubAttrFlagsError, whole, fmt.Sprintf("attribute %s: flags %#02x conflict with its type", attrName(typ), flags))
			// Still read MP_(UN)REACH_NLRI: their NLRI are withdrawn too.
			if typ != attrMPReach && typ != attrMPUnreach {
				continue
			}
		}

		switch typ {
		case attrOrigin:
			haveOrigin = true
			// RFC 7606 §7.1: "The attribute is considered malformed if its
			// length is not 1 or if it has an undefined value [RFC4271].
			// An UPDATE message with a malformed ORIGIN attribute SHALL be
			// handled using the approach of "treat-as-withdraw"."
			if len(v) != 1 || v[0] > 2 {
				d.fail(TreatAsWithdraw, SubInvalidOrigin, whole, fmt.Sprintf("ORIGIN: length %d or undefined value", len(v)))
			}
		case attrASPath:
			haveASPath, asPath = true, v
		case attrNextHop:
			haveNH = true
			// RFC 7606 §7.3: "The attribute is considered malformed if its
			// length is not 4 [RFC4271]. An UPDATE message with a
			// malformed NEXT_HOP attribute SHALL be handled using the
			// approach of "treat-as-withdraw"."
			if len(v) != 4 {
				d.fail(TreatAsWithdraw, SubAttrLengthError, whole, fmt.Sprintf("NEXT_HOP: length %d, want 4", len(v)))
				continue
			}
			u.NextHop = netip.AddrFrom4([4]byte(v))
		case attrMED:
			// RFC 7606 §7.4: "The attribute is considered malformed if its
			// length is not 4 [RFC4271]. An UPDATE message with a
			// malformed MULTI_EXIT_DISC attribute SHALL be handled using
			// the approach of "treat-as-withdraw"."
			if len(v) != 4 {
				d.fail(TreatAsWithdraw, SubAttrLengthError, whole, fmt.Sprintf("MULTI_EXIT_DISC: length %d, want 4", len(v)))
			}
		case attrLocalPref, attrOriginatorID:
			// RFC 7606 §7.5 (LOCAL_PREF), §7.9 (ORIGINATOR_ID): "if ...
			// received from an external neighbor, it SHALL be discarded
			// using the approach of "attribute discard"; or if received
			// from an internal neighbor, it SHALL be considered malformed
			// if its length is not equal to 4. If malformed, the UPDATE
			// message SHALL be handled using the approach of
			// "treat-as-withdraw"."
			if !o.IBGP {
				u.Discarded++
			} else if len(v) != 4 {
				d.fail(TreatAsWithdraw, SubAttrLengthError, whole, fmt.Sprintf("%s: length %d, want 4", attrName(typ), len(v)))
			}
		case attrClusterList:
			// RFC 7606 §7.10: from an external neighbor "attribute
			// discard"; from an internal one "malformed if its length is
			// not a non-zero multiple of 4. If malformed, the UPDATE
			// message SHALL be handled using the approach of
			// "treat-as-withdraw"."
			if !o.IBGP {
				u.Discarded++
			} else if len(v) == 0 || len(v)%4 != 0 {
				d.fail(TreatAsWithdraw, SubAttrLengthError, whole, fmt.Sprintf("CLUSTER_LIST: length %d", len(v)))
			}
		case attrAtomicAgg:
			// RFC 7606 §7.6: "The attribute SHALL be considered malformed
			// if its length is not 0 [RFC4271]. An UPDATE message with a
			// malformed ATOMIC_AGGREGATE attribute SHALL be handled using
			// the approach of "attribute discard"."
			if len(v) != 0 {
				d.discard(u, fmt.Sprintf("ATOMIC_AGGREGATE: length %d, want 0", len(v)))
			}
		case attrAggregator:
			// RFC 7606 §7.7: malformed if "Its length is not 6 (when the
			// 4-octet AS number capability is not advertised to or not
			// received from the peer [RFC6793])" or "not 8 (when [it] is
			// both advertised to and received from the peer)"; "An UPDATE
			// message with a malformed AGGREGATOR attribute SHALL be
			// handled using the approach of "attribute discard"."
			if len(v) != 2+asSize+2 {
				d.discard(u, fmt.Sprintf("AGGREGATOR: length %d, want %d", len(v), asSize+4))
			}
		case attrCommunities:
			// RFC 7606 §7.8: "The Community attribute SHALL be considered
			// malformed if its length is not a non-zero multiple of 4. An
			// UPDATE message with a malformed Community attribute SHALL
			// be handled using the approach of "treat-as-withdraw"."
			if len(v) == 0 || len(v)%4 != 0 {
				d.fail(TreatAsWithdraw, SubOptionalAttrError, whole, fmt.Sprintf("COMMUNITIES: length %d", len(v)))
			}
		case attrExtCommunity:
			// RFC 7606 §7.14: "The Extended Communities attribute SHALL be
			// considered malformed if its length is not a non-zero multiple
			// of 8. An UPDATE message with a malformed Extended
			// Communities attribute SHALL be handled using the approach of
			// "treat-as-withdraw"."
			if len(v) == 0 || len(v)%8 != 0 {
				d.fail(TreatAsWithdraw, SubOptionalAttrError, whole, fmt.Sprintf("EXTENDED_COMMUNITIES: length %d", len(v)))
				continue
			}
			for i := 0; i < len(v); i += 8 {
				// RFC 8097 §2: type 0x43 (non-transitive opaque), subtype
				// 0x00, the state in the last octet.
				if v[i] == 0x43 && v[i+1] == 0x00 && v[i+7] <= 2 {
					u.RPKI = route.RPKIState(v[i+7])
				}
			}
		case attrLargeComm:
			// RFC 8092 §5: "if the length of the attribute is not a
			// non-zero multiple of 12 ... the UPDATE message SHALL be
			// handled using the approach of "treat-as-withdraw""
			if len(v) == 0 || len(v)%12 != 0 {
				d.fail(TreatAsWithdraw, SubOptionalAttrError, whole, fmt.Sprintf("LARGE_COMMUNITY: length %d", len(v)))
			}
		case attrAS4Path:
			// RFC 6793 §3: "A NEW BGP speaker MUST NOT send the AS4_PATH
			// or AS4_AGGREGATOR attributes to a NEW BGP speaker"; one that
			// receives them from a NEW speaker "MUST discard these path
			// attributes and continue processing the UPDATE message."
			if o.AS4 {
				u.Discarded++
				continue
			}
			haveAS4, as4Path = true, v
		case attrAS4Aggregator:
			if o.AS4 {
				u.Discarded++
			}
		case attrMPReach:
			mpReach, mpReachV = true, v
		case attrMPUnreach:
			mpUnreach, mpUnreachV = true, v
		default:
			// RFC 4271 §6.3: "If any of the well-known mandatory attributes
			// are not recognized, then the Error Subcode MUST be set to
			// Unrecognized Well-known Attribute. The Data field MUST
			// contain the unrecognized attribute (type, length, and
			// value)." RFC 7606 leaves this to the base specification.
			if flags&flagOptional == 0 {
				d.fail(SessionReset, SubUnrecognizedWellKown, whole, fmt.Sprintf("unrecognized well-known attribute type %d", typ))
				return u
			}
			// Unrecognized optional attributes are accepted (and would be
			// passed on if transitive): nothing to keep.
		}
	}

	if mpUnreach {
		d.mpUnreach(u, mpUnreachV, o)
		if u.Handling() == SessionReset {
			return u
		}
	}
	if mpReach {
		d.mpReach(u, mpReachV, o)
		if u.Handling() == SessionReset {
			return u
		}
	}

	// RFC 4724 §2: "For any other address family, it is an UPDATE message
	// that contains only the MP_UNREACH_NLRI attribute with no withdrawn
	// routes for that <AFI, SAFI>."
	if mpUnreach && alen > 0 && wlen == 0 && len(nlri) == 0 && !mpReach && len(u.Withdrawn) == 0 &&
		!haveOrigin && !haveASPath && !haveNH && u.Err == nil && len(mpUnreachV) == 3 {
		if f, ok := FamilyOf(binary.BigEndian.Uint16(mpUnreachV), mpUnreachV[2]); ok && onlyAttr(attrs) {
			u.EndOfRIB, u.EORFamily = true, f
			return u
		}
	}

	if len(u.Announced) > 0 {
		// RFC 7606 §3 d: "If any of the well-known mandatory attributes
		// are not present in an UPDATE message, then "treat-as-withdraw"
		// MUST be used." ORIGIN and AS_PATH are mandatory with any NLRI,
		// NEXT_HOP with NLRI in the NLRI field (RFC 4760 §3: an UPDATE
		// carrying only MP_REACH_NLRI needs none).
		hasV4Field := len(nlri) > 0
		switch {
		case !haveOrigin:
			d.fail(TreatAsWithdraw, SubMissingWellKnown, []byte{attrOrigin}, "missing ORIGIN")
		case !haveASPath:
			d.fail(TreatAsWithdraw, SubMissingWellKnown, []byte{attrASPath}, "missing AS_PATH")
		case hasV4Field && !haveNH:
			d.fail(TreatAsWithdraw, SubMissingWellKnown, []byte{attrNextHop}, "missing NEXT_HOP")
		}
	}
	if haveASPath {
		var err error
		d.segA, d.asnA, err = decodePath(asPath, asSize, d.segA, d.asnA)
		if err == nil && slices.ContainsFunc(d.segA, func(s rov.Segment) bool { return len(s.ASNs) == 0 }) {
			err = errors.New("a segment has a Path Segment Length field of zero")
		}
		if err != nil {
			// RFC 7606 §7.2: "An AS_PATH is considered malformed if an
			// unrecognized segment type is encountered or if it contains a
			// malformed segment." A segment is malformed on an overrun, an
			// underrun, or when "It has a Path Segment Length field of
			// zero." "An UPDATE message with a malformed
			// AS_PATH attribute SHALL be handled using the approach of
			// "treat-as-withdraw"."
			d.fail(TreatAsWithdraw, SubMalformedASPath, nil, fmt.Sprintf("AS_PATH: %v", err))
		} else {
			u.Path = d.segA
			if haveAS4 {
				d.segB, d.asnB, err = decodePath(as4Path, 4, d.segB, d.asnB)
				if err != nil {
					// RFC 6793 §6: a malformed AS4_PATH is handled with
					// "attribute discard" (AS_PATH alone is used).
					d.discard(u, fmt.Sprintf("AS4_PATH: %v", err))
				} else {
					var merged bool
					d.segM, d.asnM, merged = mergeAS4(d.segA, d.segB, d.segM, d.asnM)
					if merged {
						u.Path = d.segM
					}
				}
			}
			u.Origin = rov.OriginOf(u.Path)
		}
	}

	if len(u.Announced) == 0 {
		return u
	}
	if u.TreatedAsWithdraw {
		// Treat-as-withdraw: every announced NLRI (of families not
		// disabled; those were dropped above) is withdrawn.
		u.Withdrawn = append(u.Withdrawn, u.Announced...)
		u.Announced = u.Announced[:0]
		return u
	}
	if o.LocalAS != 0 && pathContains(u.Path, o.LocalAS) {
		// RFC 4271 §9.1.2: "If the AS_PATH attribute of a BGP route
		// contains an AS loop, the BGP route should be excluded from the
		// Phase 2 decision function." The UPDATE still replaces the
		// peer's earlier path for the prefix (§9.1.4 implicit withdraw):
		// what the router holds from the peer for it is nothing usable.
		u.Looped = true
		u.Withdrawn = append(u.Withdrawn, u.Announced...)
		u.Announced = u.Announced[:0]
	}
	return u
}

// onlyAttr reports whether an attribute block holds exactly one attribute.
func onlyAttr(b []byte) bool {
	h, n := 3, int(b[2])
	if b[0]&flagExtLen != 0 {
		h, n = 4, int(binary.BigEndian.Uint16(b[2:4]))
	}
	return len(b) == h+n
}

func pathContains(p []rov.Segment, as uint32) bool {
	for _, s := range p {
		if slices.Contains(s.ASNs, as) {
			return true
		}
	}
	return false
}

// mpReach reads MP_REACH_NLRI (RFC 4760 §3).
func (d *UpdateDecoder) mpReach(u *Update, v []byte, o *UpdateOptions) {
	if len(v) < 3 {
		// Not even the AFI/SAFI: no family to disable.
		d.fail(SessionReset, SubOptionalAttrError, nil, "MP_REACH_NLRI: shorter than AFI/SAFI")
		return
	}
	f, ok := FamilyOf(binary.BigEndian.Uint16(v), v[2])
	if !ok {
		u.Ignored++
		return
	}
	if o.Disabled[f] {
		u.Ignored++
		return
	}
	// RFC 7606 §7.11: "If the Length of Next Hop Network Address field of
	// the MP_REACH attribute is inconsistent with that which was expected,
	// the attribute is considered malformed. Since the next hop precedes
	// the NLRI field in the attribute, in this case it will not be
	// possible to reliably locate the NLRI; thus, the "session reset" or
	// "AFI/SAFI disable" approach MUST be used." IPv4 expects 4 octets
	// (16 or 32 with RFC 8950 extended next hop), IPv6 16 or 32 (RFC 2545
	// §3).
	if len(v) < 5 || len(v) < 5+int(v[3]) {
		d.disable(u, f, "MP_REACH_NLRI: next hop overruns the attribute")
		return
	}
	nhl := int(v[3])
	if nhl != 16 && nhl != 32 && (f == IPv6Unicast || nhl != 4) {
		d.disable(u, f, fmt.Sprintf("MP_REACH_NLRI: %s next hop length %d", f, nhl))
		return
	}
	u.MPNextHop = nextHopAddr(v[4 : 4+nhl]).Unmap()
	// RFC 7606 §5.3 (and RFC 4760 §7): NLRI in MP_REACH_NLRI that do not
	// parse cannot be treated as withdrawn: AFI/SAFI disable.
	if !d.addList(&u.Announced, v[5+nhl:], true, f, o) {
		d.disable(u, f, fmt.Sprintf("MP_REACH_NLRI: %s NLRI do not parse", f))
	}
}

// mpUnreach reads MP_UNREACH_NLRI (RFC 4760 §4).
func (d *UpdateDecoder) mpUnreach(u *Update, v []byte, o *UpdateOptions) {
	if len(v) < 3 {
		d.fail(SessionReset, SubOptionalAttrError, nil, "MP_UNREACH_NLRI: shorter than AFI/SAFI")
		return
	}
	f, ok := FamilyOf(binary.BigEndian.Uint16(v), v[2])
	if !ok || o.Disabled[f] {
		u.Ignored++
		return
	}
	if !d.addList(&u.Withdrawn, v[3:], true, f, o) {
		d.disable(u, f, fmt.Sprintf("MP_UNREACH_NLRI: %s withdrawn routes do not parse", f))
	}
}

// addList appends the prefixes of an NLRI list to dst; false (and dst as
// it was) when the list does not parse. NLRI of a disabled family are
// counted, not added.
func (d *UpdateDecoder) addList(dst *[]NLRI, b []byte, mp bool, f Family, o *UpdateOptions) bool {
	start := len(*dst)
	v6 := f == IPv6Unicast
	addPath := o.AddPath[f]
	out := *dst
	for len(b) > 0 {
		var id uint32
		if addPath {
			if len(b) < 4 {
				*dst = out[:start]
				return false
			}
			id = binary.BigEndian.Uint32(b)
			b = b[4:]
		}
		p, n, err := readPrefix(b, v6)
		if err != nil {
			*dst = out[:start]
			return false
		}
		b = b[n:]
		out = append(out, NLRI{Prefix: p, PathID: id, MP: mp})
	}
	if o.Disabled[f] {
		d.u.Ignored += len(out) - start
		out = out[:start]
	}
	*dst = out
	return true
}

// fail records an error; the most severe one (the first of equal
// severity) is the UPDATE's.
func (d *UpdateDecoder) fail(h Handling, sub uint8, data []byte, reason string) {
	u := &d.u
	switch h {
	case TreatAsWithdraw:
		u.TreatedAsWithdraw = true
	case SessionReset:
		// Nothing of the UPDATE applies: the session and its routes go.
		u.Announced, u.Withdrawn = u.Announced[:0], u.Withdrawn[:0]
	}
	if u.Err != nil && u.Err.Handling >= h {
		return
	}
	d.errs[0] = UpdateError{Handling: h, Subcode: sub, Data: data, Reason: reason}
	u.Err = &d.errs[0]
}

func (d *UpdateDecoder) discard(u *Update, reason string) {
	u.Discarded++
	d.fail(AttributeDiscard, 0, nil, reason)
}

// disable records AFI/SAFI disable for f and drops what the UPDATE
// carried for f: its routes all go (the caller flushes them).
func (d *UpdateDecoder) disable(u *Update, f Family, reason string) {
	u.Disable[f] = true
	if u.Err == nil || u.Err.Handling < AFISAFIDisable {
		d.errs[0] = UpdateError{Handling: AFISAFIDisable, Family: f, Subcode: SubOptionalAttrError, Reason: reason}
		u.Err = &d.errs[0]
	}
	keep := func(l []NLRI) []NLRI {
		return slices.DeleteFunc(l, func(n NLRI) bool { return FamilyOfPrefix(n.Prefix) == f })
	}
	u.Announced, u.Withdrawn = keep(u.Announced), keep(u.Withdrawn)
}

// attrFlags returns the Optional and Transitive bits the attribute's
// specification gives it, for the attributes whose flags are checked.
func attrFlags(typ byte) (byte, bool) {
	switch typ {
	case attrOrigin, attrASPath, attrNextHop, attrLocalPref, attrAtomicAgg:
		return flagTransitive, true // well-known
	case attrMED, attrOriginatorID, attrClusterList, attrMPReach, attrMPUnreach:
		return flagOptional, true // optional non-transitive
	case attrAggregator, attrCommunities, attrExtCommunity, attrAS4Path, attrAS4Aggregator, attrLargeComm:
		return flagOptional | flagTransitive, true
	}
	return 0, false
}
