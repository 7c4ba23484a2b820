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
// whitespace). It reports whether it did; when not, s.pos is unchanged.
// Member names are matched with their closing quote in one comparison,
// and an IPv4 prefix is parsed up to its closing quote, so the common
// element is read in one pass over its bytes.
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
		// The longest name, "maxLength", with its quotes, and one byte
		// after: a shorter element is read by the general path.
		if p+12 > len(b) || b[p] != '"' {
			return
		}
		var bit uint8
		switch k := b[p+1:]; {
		case string(k[:4]) == `asn"`:
			bit, p = ljfASN, p+5
		case string(k[:7]) == `prefix"`:
			bit, p = ljfPrefix, p+8
		case string(k[:10]) == `maxLength"`:
			bit, p = ljfMaxLen, p+11
		case string(k[:3]) == `ta"`:
			bit, p = ljfTA, p+4
		case string(k[:8]) == `expires"`:
			bit, p = ljfExpires, p+9
		default:
			return
		}
		if seen&bit != 0 {
			return // a duplicate member: the general path knows which wins
		}
		seen |= bit
		p = ljfSkipWS(b, p)
		if p >= len(b) || b[p] != ':' {
			return
		}
		p = ljfSkipWS(b, p+1)
		if p >= len(b) {
			return
		}
		switch bit {
		case ljfASN:
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
		case ljfPrefix:
			if b[p] != '"' {
				return
			}
			pfx, e := ljfPrefix4(b, p+1)
			if e < 0 {
				// Not a plain IPv4 prefix: netip parses it.
				if e = ljfString(b, p+1); e < 0 {
					return
				}
				var err error
				pfx, err = netip.ParsePrefix(loadBytesString(b[p+1 : e]))
				if err != nil || pfx.Masked() != pfx {
					return
				}
			}
			v.Prefix, p = pfx, e+1
		case ljfMaxLen:
			n, e := ljfUint(b, p, 3)
			if e < 0 {
				return
			}
			maxLen, p = n, e
		case ljfTA:
			if b[p] != '"' {
				return
			}
			// Exports group VRPs by TA: most names are the last one again.
			// plainTA only ever holds a name this path checked (printable
			// ASCII, no quote or backslash), so matching its bytes and the
			// closing quote is reading the same string.
			if t := l.plainTA; len(t) > 0 && p+2+len(t) <= len(b) && string(b[p+1:p+1+len(t)]) == t && b[p+1+len(t)] == '"' {
				v.TA, p = t, p+2+len(t)
				break
			}
			e := ljfString(b, p+1)
			if e < 0 {
				return
			}
			v.TA, p = l.intern(b[p+1:e]), e+1
			l.plainTA = v.TA
		case ljfExpires:
			n, e := ljfUint(b, p, 18)
			if e < 0 {
				return
			}
			exp, p = int64(n), e
		}
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
	for ; p < len(b) && b[p]-'0' <= 9; p++ {
		n = n*10 + uint64(b[p]-'0')
	}
	if d := p - start; d == 0 || d > maxDigits || p >= len(b) || d > 1 && b[start] == '0' || ljfNumTail[b[p]] {
		return 0, -1
	}
	return n, p
}

// ljfNumTail marks the bytes that would continue a JSON number after its
// integer digits (a fraction, an exponent, a sign).
var ljfNumTail = [256]bool{'.': true, 'e': true, 'E': true, '+': true, '-': true}

// ljfPrefix4 parses the string contents at p as "a.b.c.d/n" followed by
// the closing quote: four decimal octets without leading zeros, each at
// most 255, and a length without a leading zero, at most 32, with no host
// bits set. It returns the prefix and the index of the closing quote, or
// -1 for any other text. What it accepts is a strict subset of what
// netip.ParsePrefix accepts, with the same result.
func ljfPrefix4(b []byte, p int) (netip.Prefix, int) {
	var a uint32
	for f := 0; f < 4; f++ {
		start := p
		var v uint32
		for p < len(b) && b[p]-'0' <= 9 && p-start < 3 {
			v = v*10 + uint32(b[p]-'0')
			p++
		}
		d := p - start
		if d == 0 || v > 255 || d > 1 && b[start] == '0' {
			return netip.Prefix{}, -1
		}
		a = a<<8 | v
		want := byte('.')
		if f == 3 {
			want = '/'
		}
		if p >= len(b) || b[p] != want {
			return netip.Prefix{}, -1
		}
		p++
	}
	start := p
	bits := 0
	for p < len(b) && b[p]-'0' <= 9 && p-start < 2 {
		bits = bits*10 + int(b[p]-'0')
		p++
	}
	d := p - start
	if d == 0 || p >= len(b) || b[p] != '"' || bits > 32 || d > 1 && b[start] == '0' {
		return netip.Prefix{}, -1
	}
	if bits < 32 && a<<bits != 0 {
		return netip.Prefix{}, -1 // host bits: the general path says so
	}
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)}), bits), p
}
