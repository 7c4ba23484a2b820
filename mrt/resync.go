package mrt

import (
	"encoding/binary"
	"fmt"

	"github.com/rovimpact/rovimpact/route"
)

// Resynchronisation. MRT records carry no sync marker: a record whose
// length field is wrong (a writer bug, a flipped bit) leaves the Reader
// reading a body as a header, and before this, everything after it was
// lost or misread (a RIS bview of 2000 gave 3 records, 0 routes, then
// "truncated" with 18.7 MB unread). When a header cannot be one (a type
// that is not an MRT type, a length over the limit), or a corrupt record
// is not followed by a sound one, the Reader scans forward one byte at a
// time for a record that validates strictly, and goes on from there,
// counting the bytes passed over (Stats.SkippedBytes) and the episode
// (Stats.Skipped["resync"], Stats.Problems).
//
// Resynchronisation must never fabricate routes, so a candidate must pass
// every check a real record passes and a chance byte pattern almost never
// does: a type we decode with a known subtype, a timestamp within a day of
// the last sound record, a length that fits, a body whose framing is exact
// (TABLE_DUMP attribute length, RIB entries tiling the record, BGP marker
// and lengths) and whose attributes decode; and the header after it must be
// a plausible record too (or the input ends there).

// resyncWindow is how far apart in time a candidate may be from the last
// sound record, and from the header after it: a RIB dump takes minutes,
// an update file covers 5 or 15.
const resyncWindow = 24 * 3600

// registeredType reports whether t is in the IANA MRT Types registry
// (RFC 6396 §4, including the deprecated types of §B.2): a record of
// another type means the framing was lost.
func registeredType(t uint16) bool {
	switch {
	case t <= typeTableDumpV2, t == typeBGP4MP, t == typeBGP4MPET:
		return true
	case t == 32, t == 33, t == 48, t == 49: // ISIS, ISIS_ET, OSPFv3, OSPFv3_ET
		return true
	}
	return false
}

// maxLenFor bounds a record's length by its type: a TABLE_DUMP entry or a
// BGP4MP message carries at most one BGP message or attribute block, whose
// length fields are 16 bits (RFC 4271 §4.1, RFC 6396 §4.2, §4.4), plus
// fixed headers under 64 bytes; only TABLE_DUMP_V2 RIB records (one prefix
// seen by many peers) grow larger, up to maxRecordLen. A header claiming
// more is not a record: the framing was lost (a misframed TABLE_DUMP
// claiming megabytes read as a truncated file with most of it unread).
func maxLenFor(typ uint16) uint32 {
	switch typ {
	case typeTableDump, typeBGP4MP, typeBGP4MPET:
		return 65535 + 64
	}
	return maxRecordLen
}

// knownSubtype reports whether sub is a subtype we decode of a type we
// decode: the quick filter of the resync scan.
func knownSubtype(typ, sub uint16) bool {
	switch typ {
	case typeTableDump:
		return sub == afiIPv4 || sub == afiIPv6
	case typeTableDumpV2:
		return sub >= tdPeerIndexTable && sub <= tdRIBGenericAP
	case typeBGP4MP, typeBGP4MPET:
		return sub <= bmMessageAS4LocalAP
	}
	return false
}

// resync scans from absolute offset from (the buffer's read position),
// where the framing was lost, for the next sound record, and consumes the
// bytes before it. recNo is the record that lost the framing. It returns
// false: the caller reads on from the new position.
func (r *Reader) resync(from, recNo int64, why string) bool {
	r.stats.Skipped["resync"]++
	r.consume(1)
	for {
		w, err := r.br.Peek(r.br.Size())
		atEnd := err != nil
		i, found := 0, false
	scan:
		for ; i+headerLen <= len(w); i++ {
			switch r.candidate(w[i:], atEnd) {
			case candSound:
				found = true
				break scan
			case candMore:
				if i > 0 {
					break scan // refill from i and look again
				}
				// A record larger than the whole buffer cannot be
				// checked: not a candidate.
			}
		}
		if !found && atEnd {
			i = len(w)
		}
		r.consume(i)
		if found || atEnd {
			skipped := r.pos - from
			r.stats.SkippedBytes += skipped
			msg := fmt.Sprintf("%s: resynchronised at offset %d after skipping %d bytes", why, r.pos, skipped)
			if !found {
				msg = fmt.Sprintf("%s: no sound record in the last %d bytes", why, skipped)
			}
			if len(r.stats.Problems) < route.MaxProblems {
				r.stats.Problems = append(r.stats.Problems, route.Problem{Record: recNo, Offset: from, Err: msg})
			}
			if !found && err != nil && err.Error() != "EOF" {
				r.recOff = r.off
				r.fail(err)
			}
			return false
		}
	}
}

type candVerdict uint8

const (
	candNo    candVerdict = iota
	candSound             // a sound record starts here
	candMore              // cannot tell without more bytes
)

// soundAt reports whether the record whose header is at buffer offset base
// validates as a resync candidate would (after a corrupt record).
func (r *Reader) soundAt(base int) bool {
	w, err := r.br.Peek(r.br.Size())
	if len(w) < base {
		return false
	}
	return r.candidate(w[base:], err != nil) == candSound
}

// candidate checks whether a record starts at w[0]; atEnd says the input
// ends with w.
func (r *Reader) candidate(w []byte, atEnd bool) candVerdict {
	ts := binary.BigEndian.Uint32(w[0:4])
	typ := binary.BigEndian.Uint16(w[4:6])
	sub := binary.BigEndian.Uint16(w[6:8])
	length := int(binary.BigEndian.Uint32(w[8:12]))
	if !knownSubtype(typ, sub) || length > int(maxLenFor(typ)) || (r.haveTS && !near(ts, r.lastTS)) {
		return candNo
	}
	end := headerLen + length
	if end > len(w) {
		if atEnd {
			return candNo // runs past the end: cannot be checked
		}
		return candMore
	}
	if !r.soundBody(typ, sub, w[headerLen:end]) {
		return candNo
	}
	next := w[end:]
	switch {
	case len(next) == 0 && atEnd:
		return candSound // the input ends with it
	case len(next) < headerLen:
		if atEnd {
			return candSound // a cut follows: the next header is incomplete
		}
		return candMore
	}
	nts := binary.BigEndian.Uint32(next[0:4])
	ntyp := binary.BigEndian.Uint16(next[4:6])
	nlen := binary.BigEndian.Uint32(next[8:12])
	if !registeredType(ntyp) || nlen > maxLenFor(ntyp) || !near(nts, ts) {
		return candNo
	}
	return candSound
}

func near(a, b uint32) bool {
	d := int64(a) - int64(b)
	return d >= -resyncWindow && d <= resyncWindow
}

// soundBody reports whether a body decodes strictly. It touches only the
// Reader's scratch attribute buffers, which the real decode overwrites.
func (r *Reader) soundBody(typ, sub uint16, b []byte) bool {
	switch typ {
	case typeTableDump:
		td, err := parseTableDump(sub, b)
		return err == nil && r.decodeAttrs(td.attrs, 2, true) == nil
	case typeTableDumpV2:
		var v6, addPath bool
		switch sub {
		case tdPeerIndexTable:
			_, err := parsePeerIndex(b)
			return err == nil
		case tdRIBIPv4Unicast:
		case tdRIBIPv6Unicast:
			v6 = true
		case tdRIBIPv4UnicastAP:
			addPath = true
		case tdRIBIPv6UnicastAP:
			v6, addPath = true, true
		default:
			return false // rare subtypes are not worth the risk
		}
		_, entries, count, _, err := ribFraming(b, v6, addPath, len(r.peers))
		if err != nil || count == 0 {
			return false
		}
		fixed := 8
		if addPath {
			fixed = 12
		}
		alen := int(binary.BigEndian.Uint16(entries[fixed-2:]))
		return r.decodeAttrs(entries[fixed:fixed+alen], 4, true) == nil
	case typeBGP4MP, typeBGP4MPET:
		return soundBGP4MP(typ, sub, b)
	}
	return false
}

// soundBGP4MP checks a BGP4MP or BGP4MP_ET body's framing (RFC 6396 §4.4):
// the peer header, then exactly one BGP message with its all-ones marker
// (RFC 4271 §4.1) whose length fills the record, or a STATE_CHANGE with
// two states of RFC 4271 §8.2.2.
func soundBGP4MP(typ, sub uint16, b []byte) bool {
	if typ == typeBGP4MPET {
		if len(b) < 4 || binary.BigEndian.Uint32(b) >= 1000000 {
			return false
		}
		b = b[4:]
	}
	asSize := 2
	switch sub {
	case bmMessageAS4, bmStateChangeAS4, bmMessageAS4Local, bmMessageAS4AP, bmMessageAS4LocalAP:
		asSize = 4
	}
	if len(b) < 2*asSize+4 {
		return false
	}
	b = b[2*asSize+2:]
	switch binary.BigEndian.Uint16(b) {
	case afiIPv4:
		b = b[2:]
		if len(b) < 8 {
			return false
		}
		b = b[8:]
	case afiIPv6:
		b = b[2:]
		if len(b) < 32 {
			return false
		}
		b = b[32:]
	default:
		return false
	}
	if sub == bmStateChange || sub == bmStateChangeAS4 {
		if len(b) != 4 {
			return false
		}
		o, n := binary.BigEndian.Uint16(b), binary.BigEndian.Uint16(b[2:])
		return o >= 1 && o <= 6 && n >= 1 && n <= 6
	}
	if len(b) < bgpHeaderLen || int(binary.BigEndian.Uint16(b[16:18])) != len(b) {
		return false
	}
	for _, c := range b[:16] {
		if c != 0xff {
			return false
		}
	}
	switch b[18] {
	case bgpUpdate:
		u := b[bgpHeaderLen:]
		if len(u) < 4 {
			return false
		}
		wlen := int(binary.BigEndian.Uint16(u))
		if len(u) < 2+wlen+2 {
			return false
		}
		alen := int(binary.BigEndian.Uint16(u[2+wlen:]))
		return 2+wlen+2+alen <= len(u)
	case bgpOpen, bgpNotification, bgpKeepalive, bgpRouteRefresh:
		return true
	}
	return false
}
