package reports

import (
	"math"
	"net/netip"
	"strconv"
)

// appendInvalidJSON appends inv as encoding/json's Encoder with
// SetIndent(prefix, "  ") writes it, without the final newline. analyze
// writes these rows by the hundred thousand, and reflection plus a second
// pass to indent was a tenth of a full-table `--format json` run. ok is
// false for anything it would not write byte for byte as encoding/json
// does (an explanation, which needs string escaping; a name that is not
// plain ASCII; an unknown state, class or impact, which encoding/json
// refuses; a non-finite share): the caller then hands the row to
// encoding/json. TestInvalidJSONMatchesEncoder holds the two equal.
func appendInvalidJSON(b []byte, inv *Invalid, prefix string) ([]byte, bool) {
	if inv.Explanation != "" || math.IsNaN(inv.CoveredShare) || math.IsInf(inv.CoveredShare, 0) {
		return b, false
	}
	state, err1 := inv.State.MarshalText()
	class, err2 := inv.Class.MarshalText()
	impact, err3 := inv.Impact.MarshalText()
	if err1 != nil || err2 != nil || err3 != nil {
		return b, false
	}
	ok := true
	in1, in2, in3 := prefix+"  ", prefix+"    ", prefix+"      "
	key := func(indent, k string) {
		b = append(b, '\n')
		b = append(b, indent...)
		b = append(b, '"')
		b = append(b, k...)
		b = append(b, `": `...)
	}
	str := func(s []byte) {
		if !plainJSON(s) {
			ok = false
		}
		b = append(b, '"')
		b = append(b, s...)
		b = append(b, '"')
	}
	pfx := func(indent, k string, p netip.Prefix) {
		key(indent, k)
		b = append(b, '"')
		n := len(b)
		var err error
		b, err = p.AppendText(b)
		if err != nil || !plainJSON(b[n:]) {
			ok = false
		}
		b = append(b, '"')
	}
	u32s := func(indent string, list []uint32) {
		switch {
		case list == nil:
			b = append(b, "null"...)
		case len(list) == 0:
			b = append(b, "[]"...)
		default:
			b = append(b, '[')
			for i, v := range list {
				if i > 0 {
					b = append(b, ',')
				}
				b = append(b, '\n')
				b = append(b, indent...)
				b = append(b, "  "...)
				b = strconv.AppendUint(b, uint64(v), 10)
			}
			b = append(b, '\n')
			b = append(b, indent...)
			b = append(b, ']')
		}
	}
	boolean := func(v bool) {
		b = strconv.AppendBool(b, v)
	}

	b = append(b, '{')
	pfx(in1, "prefix", inv.Prefix)
	b = append(b, ',')
	key(in1, "origin")
	if inv.Origin == nil {
		b = append(b, "null"...)
	} else {
		b = strconv.AppendUint(b, uint64(*inv.Origin), 10)
	}
	b = append(b, ',')
	key(in1, "as_set")
	u32s(in1, inv.ASSet)
	b = append(b, ',')
	key(in1, "state")
	str(state)
	b = append(b, ',')
	key(in1, "class")
	str(class)
	b = append(b, ',')
	key(in1, "as0")
	boolean(inv.AS0)
	b = append(b, ',')
	key(in1, "vrps")
	switch {
	case inv.VRPs == nil:
		b = append(b, "null"...)
	case len(inv.VRPs) == 0:
		b = append(b, "[]"...)
	default:
		b = append(b, '[')
		for i := range inv.VRPs {
			v := &inv.VRPs[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '\n')
			b = append(b, in2...)
			b = append(b, '{')
			pfx(in3, "prefix", v.Prefix)
			b = append(b, ',')
			key(in3, "max_length")
			b = strconv.AppendUint(b, uint64(v.MaxLength), 10)
			b = append(b, ',')
			key(in3, "asn")
			b = strconv.AppendUint(b, uint64(v.ASN), 10)
			b = append(b, '\n')
			b = append(b, in2...)
			b = append(b, '}')
		}
		b = append(b, '\n')
		b = append(b, in1...)
		b = append(b, ']')
	}
	b = append(b, ',')
	key(in1, "paths")
	b = strconv.AppendUint(b, uint64(inv.Paths), 10)
	b = append(b, ',')
	key(in1, "peers")
	b = strconv.AppendInt(b, int64(inv.Peers), 10)
	b = append(b, ',')
	key(in1, "dropped")
	boolean(inv.Dropped)
	b = append(b, ',')
	key(in1, "impact")
	str(impact)
	b = append(b, ',')
	key(in1, "cover")
	if c := inv.Cover; c == nil {
		b = append(b, "null"...)
	} else {
		cs, err := c.State.MarshalText()
		if err != nil {
			return b, false
		}
		b = append(b, '{')
		pfx(in2, "prefix", c.Prefix)
		b = append(b, ',')
		key(in2, "origins")
		u32s(in2, c.Origins)
		b = append(b, ',')
		key(in2, "state")
		str(cs)
		b = append(b, ',')
		key(in2, "other_origin")
		boolean(c.OtherOrigin)
		b = append(b, '\n')
		b = append(b, in1...)
		b = append(b, '}')
	}
	b = append(b, ',')
	key(in1, "covered_share")
	b = appendJSONFloat(b, inv.CoveredShare)
	b = append(b, '\n')
	b = append(b, prefix...)
	b = append(b, '}')
	return b, ok
}

// plainJSON reports whether s needs no escaping in a JSON string as
// encoding/json writes it (which also escapes <, > and &).
func plainJSON(s []byte) bool {
	for _, c := range s {
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// appendJSONFloat writes a finite float64 as encoding/json does: the
// shortest representation, in exponent form below 1e-6 and from 1e21,
// with a one-digit negative exponent unpadded (1e-07 becomes 1e-7).
func appendJSONFloat(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}
