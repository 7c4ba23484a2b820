package rov

import "strconv"

// ParseASN parses an AS number as operators write it: "64500", "AS64500"
// or "as64500" (RFC 5396 asplain, with or without the "AS" that
// Routinator, stayrtr and most router CLIs print). It is the one parser
// every flag and query uses, so --peer, --local-as, lookup --origin and
// lookup's AS queries accept the same spellings. asdot ("1.10") is
// rejected: no VRP export or MRT tool writes it, and "1.10" next to
// prefixes is easy to misread. Values above 2^32-1 (RFC 6793) are
// rejected, as is anything but ASCII digits after the optional prefix
// (no sign, no spaces, no "0x").
func ParseASN(s string) (uint32, error) {
	return loadParseASNText([]byte(s))
}

// FormatASN writes an AS number as human output shows it everywhere
// (tables, HTML, logs): "AS64500". JSON keeps numbers.
func FormatASN(asn uint32) string {
	return "AS" + strconv.FormatUint(uint64(asn), 10)
}

// AppendASN appends FormatASN(asn) to b without allocating.
func AppendASN(b []byte, asn uint32) []byte {
	return strconv.AppendUint(append(b, "AS"...), uint64(asn), 10)
}

// String writes the origin as human output shows it: "AS64500"; "NONE"
// for a final AS_SET (RFC 6811 §2: "NONE if the final segment is of type
// AS_SET"); "LOCAL" for an empty path or final confederation segment
// whose local AS was not given (--local-as).
func (o Origin) String() string {
	b, _ := o.AppendText(make([]byte, 0, 12))
	return string(b)
}

// AppendText appends String's form to b (encoding.TextAppender).
func (o Origin) AppendText(b []byte) ([]byte, error) {
	switch o.Kind {
	case OriginAS:
		return AppendASN(b, o.ASN), nil
	case OriginNone:
		return append(b, "NONE"...), nil
	}
	return append(b, "LOCAL"...), nil
}

// MarshalText implements encoding.TextMarshaler with String's form.
func (o Origin) MarshalText() ([]byte, error) {
	return o.AppendText(nil)
}
