package rtr

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"reflect"
	"testing"
)

// raw builds a PDU by hand: header with the given length field, then body.
// Building bytes directly (not through AppendPDU) keeps the decoder tests
// independent of the encoder.
func raw(version uint8, t Type, session uint16, length uint32, body ...[]byte) []byte {
	b := []byte{version, byte(t)}
	b = binary.BigEndian.AppendUint16(b, session)
	b = binary.BigEndian.AppendUint32(b, length)
	for _, x := range body {
		b = append(b, x...)
	}
	return b
}

func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

func v4body(flags, bits, maxLen uint8, addr string, asn uint32) []byte {
	a := netip.MustParseAddr(addr).As4()
	b := append([]byte{flags, bits, maxLen, 0}, a[:]...)
	return append(b, u32(asn)...)
}

func v6body(flags, bits, maxLen uint8, addr string, asn uint32) []byte {
	a := netip.MustParseAddr(addr).As16()
	b := append([]byte{flags, bits, maxLen, 0}, a[:]...)
	return append(b, u32(asn)...)
}

func TestDecodePDU(t *testing.T) {
	ski := bytes.Repeat([]byte{0xaa}, 20)
	spki := bytes.Repeat([]byte{0xbb}, 91)
	quoted := raw(1, TypeIPv4Prefix, 0, 20, v4body(1, 24, 24, "192.0.2.0", 64500))
	tests := []struct {
		name    string
		in      []byte
		want    PDU // when err == ""
		wantN   int
		err     string
		is      error // errors.Is target, when err != ""
		errCode ErrorCode
	}{
		// RFC 8210 §5.2 Serial Notify: header + serial, length 12.
		{name: "serial notify", in: raw(1, TypeSerialNotify, 7, 12, u32(42)),
			want: PDU{Version: 1, Type: TypeSerialNotify, Session: 7, Length: 12, Serial: 42}, wantN: 12},
		{name: "serial notify v0 (RFC 6810 §5.2)", in: raw(0, TypeSerialNotify, 7, 12, u32(42)),
			want: PDU{Version: 0, Type: TypeSerialNotify, Session: 7, Length: 12, Serial: 42}, wantN: 12},
		{name: "serial notify short length", in: raw(1, TypeSerialNotify, 7, 11, u32(42)),
			err: "rtr: PDU at offset 0 (Serial Notify): bad length 11, want 12", is: ErrLength},
		{name: "serial notify long length", in: raw(1, TypeSerialNotify, 7, 13, u32(42), []byte{0}),
			err: "rtr: PDU at offset 0 (Serial Notify): bad length 13, want 12", is: ErrLength},
		// §5.3 Serial Query.
		{name: "serial query", in: raw(1, TypeSerialQuery, 7, 12, u32(1)),
			want: PDU{Version: 1, Type: TypeSerialQuery, Session: 7, Length: 12, Serial: 1}, wantN: 12},
		{name: "serial query without serial", in: raw(1, TypeSerialQuery, 7, 8),
			err: "rtr: PDU at offset 0 (Serial Query): bad length 8, want 12", is: ErrLength},
		// §5.4 Reset Query: header only.
		{name: "reset query", in: raw(1, TypeResetQuery, 0, 8),
			want: PDU{Version: 1, Type: TypeResetQuery, Length: 8}, wantN: 8},
		{name: "reset query long", in: raw(1, TypeResetQuery, 0, 12, u32(0)),
			err: "rtr: PDU at offset 0 (Reset Query): bad length 12, want 8", is: ErrLength},
		// §5.5 Cache Response.
		{name: "cache response", in: raw(1, TypeCacheResponse, 9, 8),
			want: PDU{Version: 1, Type: TypeCacheResponse, Session: 9, Length: 8}, wantN: 8},
		{name: "cache response length 0", in: raw(1, TypeCacheResponse, 9, 0),
			err: "rtr: PDU at offset 0 (Cache Response): bad length 0, want 8", is: ErrLength},
		// §5.6 IPv4 Prefix, length 20.
		{name: "ipv4 announce", in: raw(1, TypeIPv4Prefix, 0, 20, v4body(1, 22, 24, "192.0.0.0", 64500)),
			want: PDU{Version: 1, Type: TypeIPv4Prefix, Length: 20, Flags: 1, Prefix: netip.MustParsePrefix("192.0.0.0/22"), MaxLen: 24, ASN: 64500}, wantN: 20},
		{name: "ipv4 withdraw", in: raw(1, TypeIPv4Prefix, 0, 20, v4body(0, 24, 24, "192.0.2.0", 0)),
			want: PDU{Version: 1, Type: TypeIPv4Prefix, Length: 20, Prefix: netip.MustParsePrefix("192.0.2.0/24"), MaxLen: 24}, wantN: 20},
		{name: "ipv4 default route /0", in: raw(1, TypeIPv4Prefix, 0, 20, v4body(1, 0, 32, "0.0.0.0", 1)),
			want: PDU{Version: 1, Type: TypeIPv4Prefix, Length: 20, Flags: 1, Prefix: netip.MustParsePrefix("0.0.0.0/0"), MaxLen: 32, ASN: 1}, wantN: 20},
		{name: "ipv4 length 19", in: raw(1, TypeIPv4Prefix, 0, 19, v4body(1, 24, 24, "192.0.2.0", 1)[:11]),
			err: "rtr: PDU at offset 0 (IPv4 Prefix): bad length 19, want 20", is: ErrLength},
		{name: "ipv4 with ipv6 length 32", in: raw(1, TypeIPv4Prefix, 0, 32, v6body(1, 24, 24, "::", 1)),
			err: "rtr: PDU at offset 0 (IPv4 Prefix): bad length 32, want 20", is: ErrLength},
		{name: "ipv4 prefix length 33", in: raw(1, TypeIPv4Prefix, 0, 20, v4body(1, 33, 33, "192.0.2.0", 1)),
			err: "rtr: PDU at offset 0 (IPv4 Prefix): corrupt data: prefix length 33, max length 33 for 32-bit addresses", is: ErrCorrupt},
		{name: "ipv4 max length below prefix length (§5.6)", in: raw(1, TypeIPv4Prefix, 0, 20, v4body(1, 24, 23, "192.0.2.0", 1)),
			err: "rtr: PDU at offset 0 (IPv4 Prefix): corrupt data: prefix length 24, max length 23 for 32-bit addresses", is: ErrCorrupt},
		{name: "ipv4 max length 33", in: raw(1, TypeIPv4Prefix, 0, 20, v4body(1, 24, 33, "192.0.2.0", 1)),
			err: "rtr: PDU at offset 0 (IPv4 Prefix): corrupt data: prefix length 24, max length 33 for 32-bit addresses", is: ErrCorrupt},
		{name: "ipv4 host bits", in: raw(1, TypeIPv4Prefix, 0, 20, v4body(1, 24, 24, "192.0.2.1", 1)),
			err: "rtr: PDU at offset 0 (IPv4 Prefix): corrupt data: prefix 192.0.2.1/24 has host bits set", is: ErrCorrupt},
		// §5.7 IPv6 Prefix, length 32.
		{name: "ipv6 announce", in: raw(1, TypeIPv6Prefix, 0, 32, v6body(1, 32, 48, "2001:db8::", 64501)),
			want: PDU{Version: 1, Type: TypeIPv6Prefix, Length: 32, Flags: 1, Prefix: netip.MustParsePrefix("2001:db8::/32"), MaxLen: 48, ASN: 64501}, wantN: 32},
		{name: "ipv6 with ipv4 length 20", in: raw(1, TypeIPv6Prefix, 0, 20, v4body(1, 24, 24, "192.0.2.0", 1)),
			err: "rtr: PDU at offset 0 (IPv6 Prefix): bad length 20, want 32", is: ErrLength},
		{name: "ipv6 prefix length 129", in: raw(1, TypeIPv6Prefix, 0, 32, v6body(1, 129, 129, "2001:db8::", 1)),
			err: "rtr: PDU at offset 0 (IPv6 Prefix): corrupt data: prefix length 129, max length 129 for 128-bit addresses", is: ErrCorrupt},
		{name: "ipv6 host bits", in: raw(1, TypeIPv6Prefix, 0, 32, v6body(1, 32, 48, "2001:db8::1", 1)),
			err: "rtr: PDU at offset 0 (IPv6 Prefix): corrupt data: prefix 2001:db8::1/32 has host bits set", is: ErrCorrupt},
		// §5.8 End of Data: 24 bytes in version 1, 12 in version 0
		// (RFC 6810 §5.8 has no timers).
		{name: "end of data v1", in: raw(1, TypeEndOfData, 7, 24, u32(5), u32(3600), u32(600), u32(7200)),
			want: PDU{Version: 1, Type: TypeEndOfData, Session: 7, Length: 24, Serial: 5, Refresh: 3600, Retry: 600, Expire: 7200}, wantN: 24},
		{name: "end of data v0", in: raw(0, TypeEndOfData, 7, 12, u32(5)),
			want: PDU{Version: 0, Type: TypeEndOfData, Session: 7, Length: 12, Serial: 5}, wantN: 12},
		{name: "end of data v1 with v0 length", in: raw(1, TypeEndOfData, 7, 12, u32(5)),
			err: "rtr: PDU at offset 0 (End of Data): bad length 12, want 24", is: ErrLength},
		{name: "end of data v0 with v1 length", in: raw(0, TypeEndOfData, 7, 24, u32(5), u32(1), u32(1), u32(1)),
			err: "rtr: PDU at offset 0 (End of Data): bad length 24, want 12", is: ErrLength},
		// §5.9 Cache Reset.
		{name: "cache reset", in: raw(1, TypeCacheReset, 0, 8),
			want: PDU{Version: 1, Type: TypeCacheReset, Length: 8}, wantN: 8},
		{name: "cache reset long", in: raw(1, TypeCacheReset, 0, 9, []byte{0}),
			err: "rtr: PDU at offset 0 (Cache Reset): bad length 9, want 8", is: ErrLength},
		// §5.10 Router Key: SKI(20) ASN(4) SPKI; skipped, kept raw.
		{name: "router key", in: raw(1, TypeRouterKey, 0x0100, 8+20+4+91, ski, u32(64500), spki),
			want: PDU{Version: 1, Type: TypeRouterKey, Session: 0x0100, Length: 123, Body: append(append(append([]byte(nil), ski...), u32(64500)...), spki...)}, wantN: 123},
		{name: "router key without ASN", in: raw(1, TypeRouterKey, 0, 28, ski),
			err: "rtr: PDU at offset 0 (Router Key): bad length 28, want 32..65536", is: ErrLength},
		{name: "router key over 64 KiB", in: raw(1, TypeRouterKey, 0, MaxPDULen+1, ski),
			err: "rtr: PDU at offset 0 (Router Key): bad length 65537, want 32..65536", is: ErrLength},
		// §5.11 Error Report: len(PDU) PDU len(text) text.
		{name: "error report", in: raw(1, TypeErrorReport, 7, 8+4+20+4+3, u32(20), quoted, u32(3), []byte("dup")),
			want: PDU{Version: 1, Type: TypeErrorReport, Session: 7, Length: 39, ErrPDU: quoted, ErrText: "dup"}, wantN: 39},
		{name: "error report empty (v0 reply to v1 query, RFC 8210 §7)", in: raw(0, TypeErrorReport, 4, 16, u32(0), u32(0)),
			want: PDU{Version: 0, Type: TypeErrorReport, Session: 4, Length: 16}, wantN: 16},
		{name: "error report length 15", in: raw(1, TypeErrorReport, 0, 15, u32(0), []byte{0, 0, 0}),
			err: "rtr: PDU at offset 0 (Error Report): bad length 15, want 16..65536", is: ErrLength},
		{name: "error report 4 GiB length", in: raw(1, TypeErrorReport, 0, 0xffffffff, u32(0), u32(0)),
			err: "rtr: PDU at offset 0 (Error Report): bad length 4294967295, want 16..65536", is: ErrLength},
		{name: "error report PDU length past end", in: raw(1, TypeErrorReport, 0, 20, u32(5), u32(0), []byte{0, 0, 0, 0}),
			err: "rtr: PDU at offset 0 (Error Report): bad length: encapsulated PDU length 5 exceeds the 4 bytes left", is: ErrLength},
		{name: "error report PDU length 2^32-1", in: raw(1, TypeErrorReport, 0, 16, u32(0xffffffff), u32(0)),
			err: "rtr: PDU at offset 0 (Error Report): bad length: encapsulated PDU length 4294967295 exceeds the 0 bytes left", is: ErrLength},
		{name: "error report text length short", in: raw(1, TypeErrorReport, 0, 20, u32(0), u32(3), []byte("abcd")),
			err: "rtr: PDU at offset 0 (Error Report): bad length: error text length 3, PDU leaves 4", is: ErrLength},
		{name: "error report text length long", in: raw(1, TypeErrorReport, 0, 20, u32(0), u32(5), []byte("abcd")),
			err: "rtr: PDU at offset 0 (Error Report): bad length: error text length 5, PDU leaves 4", is: ErrLength},
		// draft-ietf-sidrops-8210bis-26 §5.12 ASPA: version, type 11,
		// Flags, zero, Length, Customer ASN, then Provider ASNs.
		{name: "aspa v2 announce", in: raw(2, TypeASPA, 0x0100, 20, u32(64500), u32(64501), u32(64502)),
			want: PDU{Version: 2, Type: TypeASPA, Session: 0x0100, Length: 20, ASN: 64500, Providers: []uint32{64501, 64502}}, wantN: 20},
		{name: "aspa v2 withdraw (length 12)", in: raw(2, TypeASPA, 0, 12, u32(64500)),
			want: PDU{Version: 2, Type: TypeASPA, Length: 12, ASN: 64500}, wantN: 12},
		// draft-ietf-sidrops-8210bis-11 §5.12 (stayrtr 0.5.1): zero
		// header; Flags, AFI Flags, Provider AS Count; customer; providers.
		{name: "aspa -11 layout announce ipv4", in: raw(2, TypeASPA, 0, 24, []byte{1, 0, 0, 2}, u32(64500), u32(64501), u32(64502)),
			want: PDU{Version: 2, Type: TypeASPA, Length: 24, ASN: 64500, Providers: []uint32{64501, 64502},
				ASPALegacy: true, LegacyFlags: 1}, wantN: 24},
		{name: "aspa -11 layout withdraw ipv6 with providers", in: raw(2, TypeASPA, 0, 20, []byte{0, 1, 0, 1}, u32(64500), u32(64501)),
			want: PDU{Version: 2, Type: TypeASPA, Length: 20, ASN: 64500, Providers: []uint32{64501},
				ASPALegacy: true, AFIFlags: 1}, wantN: 20},
		{name: "aspa -11 layout no providers", in: raw(2, TypeASPA, 0, 16, []byte{1, 0, 0, 0}, u32(64500)),
			want: PDU{Version: 2, Type: TypeASPA, Length: 16, ASN: 64500, ASPALegacy: true, LegacyFlags: 1}, wantN: 16},
		{name: "aspa -11 layout count does not fit length", in: raw(2, TypeASPA, 0, 20, []byte{1, 0, 0, 2}, u32(64500), u32(64501)),
			err: "rtr: PDU at offset 0 (ASPA): bad length 20: draft-8210bis-11 layout with Provider AS Count 2 needs length 24", is: ErrLength},
		{name: "aspa zero header, 14 bytes", in: raw(2, TypeASPA, 0, 14, []byte{1, 0, 0, 0, 0, 0}),
			err: "rtr: PDU at offset 0 (ASPA): bad length 14: a zero header and more than a customer ASN is the draft-8210bis-11 layout, which needs at least 16 bytes", is: ErrLength},
		{name: "aspa provider list not whole ASNs", in: raw(2, TypeASPA, 0x0100, 18, u32(64500), u32(64501), []byte{0, 0}),
			err: "rtr: PDU at offset 0 (ASPA): bad length 18: the provider list is not a whole number of 4-byte ASNs", is: ErrLength},
		{name: "aspa short", in: raw(2, TypeASPA, 0, 8),
			err: "rtr: PDU at offset 0 (ASPA): bad length 8, want 12..65536", is: ErrLength},
		// §12 code 5 Unsupported PDU Type; code 4 Unsupported Version.
		{name: "type 5 unassigned", in: raw(1, 5, 0, 8),
			err: "rtr: PDU at offset 0 (type 5): unsupported PDU type", is: ErrType, errCode: ErrUnsupportedPDUType},
		{name: "type 255 with huge length", in: raw(1, 255, 0, 0xfffffff0),
			err: "rtr: PDU at offset 0 (type 255): bad length 4294967280, want 8..65536", is: ErrLength},
		{name: "version 3", in: raw(3, TypeResetQuery, 0, 8),
			err: "rtr: PDU at offset 0 (Reset Query): unsupported protocol version 3 (highest known 2)", is: ErrVersion, errCode: ErrUnsupportedVersion},
		// Truncated input.
		{name: "empty", in: nil,
			err: "rtr: PDU at offset 0 (type 255): header: 0 of 8 bytes: unexpected EOF", is: io.ErrUnexpectedEOF},
		{name: "header cut", in: raw(1, TypeSerialNotify, 7, 12)[:5],
			err: "rtr: PDU at offset 0 (Serial Notify): header: 5 of 8 bytes: unexpected EOF", is: io.ErrUnexpectedEOF},
		{name: "body cut", in: raw(1, TypeIPv4Prefix, 0, 20, v4body(1, 24, 24, "192.0.2.0", 1))[:15],
			err: "rtr: PDU at offset 0 (IPv4 Prefix): length 20, only 15 bytes: unexpected EOF", is: io.ErrUnexpectedEOF},
		// Trailing bytes belong to the next PDU.
		{name: "two PDUs", in: append(raw(1, TypeResetQuery, 0, 8), raw(1, TypeResetQuery, 0, 8)...),
			want: PDU{Version: 1, Type: TypeResetQuery, Length: 8}, wantN: 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, n, err := DecodePDU(tt.in)
			if tt.err != "" {
				if err == nil {
					t.Fatalf("got %+v, want error %q", got, tt.err)
				}
				if err.Error() != tt.err {
					t.Errorf("got error %q, want %q", err, tt.err)
				}
				if !errors.Is(err, tt.is) {
					t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
				}
				var de *DecodeError
				if !errors.As(err, &de) {
					t.Fatalf("got %T, want *DecodeError", err)
				}
				if de.Code != tt.errCode {
					t.Errorf("got code %v, want %v", de.Code, tt.errCode)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v", err)
			}
			if n != tt.wantN {
				t.Errorf("got n %d, want %d", n, tt.wantN)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if enc := AppendPDU(nil, &got); !bytes.Equal(enc, tt.in[:n]) {
				t.Errorf("re-encoded % x, want % x", enc, tt.in[:n])
			}
		})
	}
}

// TestReader checks stream framing: offsets advance, a clean end is io.EOF,
// a cut PDU is io.ErrUnexpectedEOF, and an impossible length fails at once
// without waiting for (or buffering) its body.
func TestReader(t *testing.T) {
	stream := append(raw(1, TypeCacheResponse, 3, 8), raw(1, TypeIPv4Prefix, 0, 20, v4body(1, 24, 24, "192.0.2.0", 64500))...)
	stream = append(stream, raw(1, TypeEndOfData, 3, 24, u32(1), u32(1), u32(1), u32(600))...)

	t.Run("clean", func(t *testing.T) {
		r := NewReader(bytes.NewReader(stream))
		var p PDU
		var types []Type
		for {
			err := r.Next(&p)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			types = append(types, p.Type)
		}
		if want := []Type{TypeCacheResponse, TypeIPv4Prefix, TypeEndOfData}; !reflect.DeepEqual(types, want) {
			t.Errorf("got %v, want %v", types, want)
		}
		if r.Offset() != int64(len(stream)) {
			t.Errorf("got offset %d, want %d", r.Offset(), len(stream))
		}
	})
	t.Run("cut inside a PDU", func(t *testing.T) {
		r := NewReader(bytes.NewReader(stream[:22]))
		var p PDU
		if err := r.Next(&p); err != nil {
			t.Fatal(err)
		}
		err := r.Next(&p)
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("got %v, want io.ErrUnexpectedEOF", err)
		}
		if want := "rtr: PDU at offset 8 (IPv4 Prefix): length 20, only 14 bytes: unexpected EOF"; err.Error() != want {
			t.Errorf("got %q, want %q", err, want)
		}
	})
	t.Run("huge length does not wait", func(t *testing.T) {
		// A pipe that never delivers more than the header: Next must not
		// block reading the 4 GiB body.
		pr, pw := io.Pipe()
		go pw.Write(raw(1, TypeErrorReport, 0, 0xffffffff))
		defer pw.Close()
		var p PDU
		err := NewReader(pr).Next(&p)
		if !errors.Is(err, ErrLength) {
			t.Fatalf("got %v, want ErrLength", err)
		}
	})
}
