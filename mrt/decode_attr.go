package mrt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
)

// attrs holds what the Reader needs from one path attribute block. Slices
// point into the record buffer or the Reader's path buffers.
type attrs struct {
	path      []rov.Segment
	nextHop   netip.Addr // NEXT_HOP
	mpNextHop netip.Addr // MP_REACH_NLRI next hop (global address)
	rpki      route.RPKIState
	mpReach   []byte // MP_REACH_NLRI value (UPDATEs only)
	mpUnreach []byte // MP_UNREACH_NLRI value (UPDATEs only)
	framed    bool   // the attribute framing was sound, so mpUnreach is usable
}

// decodeAttrs decodes a path attribute block (RFC 4271 §4.3) into s.attr.
// asSize is the AS_PATH ASN width: 2 for BGP4MP_MESSAGE and TABLE_DUMP, 4 for
// the AS4 subtypes and TABLE_DUMP_V2. rib selects the abbreviated
// MP_REACH_NLRI of RIB entries (RFC 6396 §4.3.4).
func (r *Reader) decodeAttrs(b []byte, asSize int, rib bool) error {
	a := &r.attr
	*a = attrs{rpki: route.RPKIAbsent}
	var asPath, as4Path []byte
	var haveAS4 bool
	for len(b) > 0 {
		if len(b) < 3 {
			return errors.New("attribute header: truncated")
		}
		flags, typ := b[0], b[1]
		var n, h int
		if flags&0x10 != 0 { // Extended Length
			if len(b) < 4 {
				return errors.New("attribute header: truncated")
			}
			n, h = int(binary.BigEndian.Uint16(b[2:4])), 4
		} else {
			n, h = int(b[2]), 3
		}
		if len(b) < h+n {
			return fmt.Errorf("attribute %s: length %d overruns the block by %d bytes", attrName(typ), n, h+n-len(b))
		}
		v := b[h : h+n]
		b = b[h+n:]
		switch typ {
		case attrASPath:
			asPath = v
		case attrAS4Path:
			as4Path, haveAS4 = v, true
		case attrNextHop:
			// RFC 7606 §7.3: a NEXT_HOP whose length is not 4 is malformed.
			if len(v) != 4 {
				return fmt.Errorf("attribute NEXT_HOP: length %d, want 4", len(v))
			}
			a.nextHop = netip.AddrFrom4([4]byte(v))
		case attrMPReach:
			if rib {
				a.mpNextHop = ribNextHop(v)
			} else {
				a.mpReach = v
				if len(v) >= 4 && len(v) >= 4+int(v[3]) {
					a.mpNextHop = nextHopAddr(v[4 : 4+int(v[3])])
				}
			}
		case attrMPUnreach:
			if !rib {
				a.mpUnreach = v
			}
		case attrExtCommunity:
			if len(v)%8 != 0 {
				return fmt.Errorf("attribute EXTENDED_COMMUNITIES: length %d is not a multiple of 8", len(v))
			}
			for i := 0; i < len(v); i += 8 {
				// RFC 8097 §2: type 0x43 (non-transitive opaque), subtype
				// 0x00, the state in the last octet.
				if v[i] == 0x43 && v[i+1] == 0x00 && v[i+7] <= 2 {
					a.rpki = route.RPKIState(v[i+7])
				}
			}
		}
	}
	a.framed = true
	var err error
	r.segA, r.asnA, err = decodePath(asPath, asSize, r.segA, r.asnA)
	if err != nil {
		return fmt.Errorf("attribute AS_PATH: %w", err)
	}
	a.path = r.segA
	// RFC 6793 §4.1: a NEW speaker discards AS4_PATH received from a NEW
	// speaker; it only carries information next to a 2-byte AS_PATH.
	if haveAS4 && asSize == 2 {
		r.segB, r.asnB, err = decodePath(as4Path, 4, r.segB, r.asnB)
		if err != nil {
			return fmt.Errorf("attribute AS4_PATH: %w", err)
		}
		var merged bool
		r.segM, r.asnM, merged = mergeAS4(r.segA, r.segB, r.segM, r.asnM)
		if merged {
			a.path = r.segM
		}
	}
	return nil
}

// ribNextHop reads the MP_REACH_NLRI of a RIB entry. RFC 6396 §4.3.4 keeps
// only "Next Hop Length" and "Next Hop", but some writers store the full
// attribute; a length octet that matches the rest tells the two apart.
func ribNextHop(v []byte) netip.Addr {
	if len(v) >= 1 && int(v[0]) == len(v)-1 {
		return nextHopAddr(v[1:])
	}
	if len(v) >= 4 && len(v) >= 4+int(v[3]) {
		return nextHopAddr(v[4 : 4+int(v[3])])
	}
	return netip.Addr{}
}

// nextHopAddr decodes an MP next hop: 4 octets IPv4, 16 IPv6, 32 IPv6
// global then link-local (RFC 2545 §3); the global address is kept.
func nextHopAddr(v []byte) netip.Addr {
	switch len(v) {
	case 4:
		return netip.AddrFrom4([4]byte(v))
	case 16, 32:
		return netip.AddrFrom16([16]byte(v[:16]))
	}
	return netip.Addr{}
}

func attrName(t byte) string {
	switch t {
	case attrASPath:
		return "AS_PATH"
	case attrNextHop:
		return "NEXT_HOP"
	case attrMPReach:
		return "MP_REACH_NLRI"
	case attrMPUnreach:
		return "MP_UNREACH_NLRI"
	case attrExtCommunity:
		return "EXTENDED_COMMUNITIES"
	case attrAS4Path:
		return "AS4_PATH"
	}
	return fmt.Sprintf("type %d", t)
}

// readPrefix decodes one NLRI prefix (RFC 4271 §4.3, RFC 4760 §5): a bit
// length, then the fewest octets that hold it. The result is masked.
func readPrefix(b []byte, v6 bool) (netip.Prefix, int, error) {
	if len(b) < 1 {
		return netip.Prefix{}, 0, errTruncated
	}
	bits := int(b[0])
	maxBits := 32
	if v6 {
		maxBits = 128
	}
	if bits > maxBits {
		return netip.Prefix{}, 0, fmt.Errorf("prefix length %d > %d", bits, maxBits)
	}
	n := (bits + 7) / 8
	if len(b) < 1+n {
		return netip.Prefix{}, 0, fmt.Errorf("prefix /%d: %w", bits, errTruncated)
	}
	var a netip.Addr
	if v6 {
		var x [16]byte
		copy(x[:], b[1:1+n])
		a = netip.AddrFrom16(x)
	} else {
		var x [4]byte
		copy(x[:], b[1:1+n])
		a = netip.AddrFrom4(x)
	}
	return netip.PrefixFrom(a, bits).Masked(), 1 + n, nil
}

// hostBits reports whether the NLRI octets at b (as checked by readPrefix)
// set bits beyond the prefix length.
func hostBits(b []byte) bool {
	bits := int(b[0])
	if bits%8 == 0 {
		return false
	}
	last := b[(bits+7)/8]
	return last&(0xff>>(bits%8)) != 0
}

// countPrefixes checks a list of NLRI (with 4-octet path identifiers under
// ADD-PATH, RFC 7911 §3) and returns how many it holds.
func countPrefixes(b []byte, v6, addPath bool) (int, error) {
	n := 0
	for len(b) > 0 {
		if addPath {
			if len(b) < 4 {
				return n, fmt.Errorf("prefix %d: path identifier: %w", n+1, errTruncated)
			}
			b = b[4:]
		}
		_, k, err := readPrefix(b, v6)
		if err != nil {
			return n, fmt.Errorf("prefix %d: %w", n+1, err)
		}
		b = b[k:]
		n++
	}
	return n, nil
}
