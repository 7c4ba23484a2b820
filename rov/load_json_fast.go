package rov

import (
	"net/netip"
)

// The fast path of the "roas" array. Nearly every element of a real
// export is a flat object of a few known members with plain values:
//
//	{ "asn": 13335, "prefix": "1.0.0.0/24", "maxLength": 24, "ta": "apnic", "expires": 1753453058 }
//
// ljFastROA reads exactly that kind of element straight from the buffer,
// without the general scanner's callbacks and per-member bookkeeping. It
// takes an element only when it is certain the general path would take
// it to the same VRP: members "asn", "prefix", "maxLength" (all three
// present), "ta" and "expires", each at most once, in any order; ASCII
// strings without escapes; integers in canonical JSON form; a masked
// prefix and a maxLength within bounds. Anything else (another member,
// null, an escape, a duplicate member, a value the rules reject, or the
// element running past the buffered data) leaves the scanner where it
// was and the caller reads the element with ljReadROA, which gives the
// same answer or the error with its offset. So the fast path decides
// nothing on its own: it can only agree with the general one, which the
// fuzz target's oracle pins.

// Member bits of ljFastROA.
const (
	ljfASN = 1 << iota
	ljfPrefix
	ljfMaxLen
	ljfTA
	ljfExpires
)

// ljFastROA tries to read one "roas" element at s.pos (after optional
// whitespace) and add its VRP. It reports whether it did; when not,
// s.pos is unchanged.
func (l *vrpLoader) ljFastROA(s *ljScanner) (v VRP, exp int64, asnText, ok bool) {
	b := s.buf[:s.end]
	p := ljfSkipWS(b, s.pos)
	if p >= len(b) || b[p] != '{' {
		return
	}
	p++
	var (
		seen   uint8
		maxLen uint64
	)
	for {
		p = ljfSkipWS(b, p)
		if p >= len(b) || b[p] != '"' {
			return
		}
		kEnd := ljfString(b, p+1)
		if kEnd < 0 {
			return
		}
		key := b[p+1 : kEnd]
		p = ljfSkipWS(b, kEnd+1)
		if p >= len(b) || b[p] != ':' {
			return
		}
		p = ljfSkipWS(b, p+1)
		if p >= len(b) {
			return
		}
		var bit uint8
		switch string(key) {
		case "asn":
			bit = ljfASN
			if b[p] == '"' {
				e := ljfString(b, p+1)
				if e < 0 {
					return
				}
				n, err := loadParseASNText(b[p+1 : e])
				if err != nil {
					return
				}
				v.ASN, asnText, p = n, true, e+1
			} else {
				n, e := ljfUint(b, p, 10)
				if e < 0 || n > 1<<32-1 {
					return
				}
				v.ASN, asnText, p = uint32(n), false, e
			}
		case "prefix":
			bit = ljfPrefix
			if b[p] != '"' {
				return
			}
			e := ljfString(b, p+1)
			if e < 0 {
				return
			}
			pfx, good := ljfPrefixOf(b[p+1 : e])
			if !good {
				return
			}
			v.Prefix, p = pfx, e+1
		case "maxLength":
			bit = ljfMaxLen
			n, e := ljfUint(b, p, 3)
			if e < 0 {
				return
			}
			maxLen, p = n, e
		case "ta":
			bit = ljfTA
			if b[p] != '"' {
				return
			}
			e := ljfString(b, p+1)
			if e < 0 {
				return
			}
			v.TA, p = l.intern(b[p+1:e]), e+1
		case "expires":
			bit = ljfExpires
			n, e := ljfUint(b, p, 18)
			if e < 0 {
				return
			}
			exp, p = int64(n), e
		default:
			return
		}
		if seen&bit != 0 {
			return // a duplicate member: the general path knows which wins
		}
		seen |= bit
		p = ljfSkipWS(b, p)
		if p >= len(b) {
			return
		}
		if b[p] == '}' {
			p++
			break
		}
		if b[p] != ',' {
			return
		}
		p++
	}
	const need = ljfASN | ljfPrefix | ljfMaxLen
	if seen&need != need {
		return
	}
	// RFC 6482 §3.3 bounds, as loadCheckMaxLen applies them.
	if maxLen < uint64(v.Prefix.Bits()) || maxLen > uint64(v.Prefix.Addr().BitLen()) {
		return
	}
	v.MaxLen = uint8(maxLen)
	s.pos = p
	return v, exp, asnText, true
}

func ljfSkipWS(b []byte, p int) int {
	for p < len(b) {
		switch b[p] {
		case ' ', '\n', '\t', '\r':
			p++
			continue
		}
		break
	}
	return p
}

// ljfString returns the index of the closing quote of a string whose
// contents start at p, or -1 when the string holds an escape, a byte
// outside printable ASCII, or runs past b.
func ljfString(b []byte, p int) int {
	for ; p < len(b); p++ {
		c := b[p]
		if c == '"' {
			return p
		}
		if c == '\\' || c < 0x20 || c >= 0x80 {
			return -1
		}
	}
	return -1
}

// ljfUint reads a JSON integer at p of at most maxDigits digits, in
// canonical form (no sign, no leading zero), and returns it and the index
// after it; -1 when the token is anything else (a fraction, an exponent,
// a sign) or may continue past b.
func ljfUint(b []byte, p int, maxDigits int) (uint64, int) {
	start := p
	var n uint64
	for p < len(b) && b[p] >= '0' && b[p] <= '9' {
		n = n*10 + uint64(b[p]-'0')
		p++
	}
	d := p - start
	if d == 0 || d > maxDigits || d > 1 && b[start] == '0' || p >= len(b) || ljIsNumByte(b[p]) {
		return 0, -1
	}
	return n, p
}

// ljfPrefixOf parses a VRP prefix as loadParsePrefix does, accepting only
// what it accepts: dotted-quad IPv4 is parsed here (the common case), any
// other text goes to netip.ParsePrefix. ok is false for anything
// loadParsePrefix would reject (host bits set included).
func ljfPrefixOf(b []byte) (netip.Prefix, bool) {
	if p, ok := ljfPrefix4(b); ok {
		return p, true
	}
	p, err := netip.ParsePrefix(loadBytesString(b))
	if err != nil || p.Masked() != p {
		return netip.Prefix{}, false
	}
	return p, true
}

// ljfPrefix4 parses "a.b.c.d/n": four decimal octets without leading
// zeros, each at most 255, and a length without a leading zero, at most
// 32, with no host bits set. It is a strict subset of what
// netip.ParsePrefix accepts, with the same result.
func ljfPrefix4(b []byte) (netip.Prefix, bool) {
	var a uint32
	p := 0
	for f := 0; f < 4; f++ {
		start := p
		var v uint32
		for p < len(b) && b[p] >= '0' && b[p] <= '9' && p-start < 3 {
			v = v*10 + uint32(b[p]-'0')
			p++
		}
		d := p - start
		if d == 0 || v > 255 || d > 1 && b[start] == '0' {
			return netip.Prefix{}, false
		}
		a = a<<8 | v
		want := byte('.')
		if f == 3 {
			want = '/'
		}
		if p >= len(b) || b[p] != want {
			return netip.Prefix{}, false
		}
		p++
	}
	start := p
	bits := 0
	for p < len(b) && b[p] >= '0' && b[p] <= '9' && p-start < 2 {
		bits = bits*10 + int(b[p]-'0')
		p++
	}
	d := p - start
	if d == 0 || p != len(b) || bits > 32 || d > 1 && b[start] == '0' {
		return netip.Prefix{}, false
	}
	if bits < 32 && a<<bits != 0 {
		return netip.Prefix{}, false // host bits: the general path says so
	}
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)}), bits), true
}
