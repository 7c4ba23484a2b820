// Package rtr is an RPKI-to-Router protocol client: it keeps the VRPs (and,
// in version 2, the ASPAs) of one RPKI cache current over
// draft-ietf-sidrops-8210bis (version 2), stepping down to RFC 8210
// (version 1) and RFC 6810 (version 0) when the cache says it does not
// speak the version offered, and reports every change as a delta so that
// a live validator re-validates only the routes a change can affect. A
// cache that does not answer in time, loops, or floods is declared down
// and retried with backoff. Set combines several caches: their union (RFC
// 8210 §10), kept per source, with the disagreements between them.
//
// The wire format is decoded here with a length check before every field
// is read: a short, long or absurdly long PDU is an error naming its offset
// and type, never a panic or a gigabyte allocation.
package rtr

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
)

// Type is an RTR PDU type (RFC 8210 §5, IANA "rpki-rtr-pdu" registry).
type Type uint8

// PDU types. RouterKey exists from version 1 (RFC 8210 §5.10) and is only
// skipped: rovimpact does not do BGPsec. ASPA exists from version 2
// (draft-ietf-sidrops-8210bis §5.12) and is decoded into ASN (the customer)
// and Providers, for AS_PATH verification.
const (
	TypeSerialNotify  Type = 0
	TypeSerialQuery   Type = 1
	TypeResetQuery    Type = 2
	TypeCacheResponse Type = 3
	TypeIPv4Prefix    Type = 4
	TypeIPv6Prefix    Type = 6
	TypeEndOfData     Type = 7
	TypeCacheReset    Type = 8
	TypeRouterKey     Type = 9
	TypeErrorReport   Type = 10
	TypeASPA          Type = 11
)

func (t Type) String() string {
	switch t {
	case TypeSerialNotify:
		return "Serial Notify"
	case TypeSerialQuery:
		return "Serial Query"
	case TypeResetQuery:
		return "Reset Query"
	case TypeCacheResponse:
		return "Cache Response"
	case TypeIPv4Prefix:
		return "IPv4 Prefix"
	case TypeIPv6Prefix:
		return "IPv6 Prefix"
	case TypeEndOfData:
		return "End of Data"
	case TypeCacheReset:
		return "Cache Reset"
	case TypeRouterKey:
		return "Router Key"
	case TypeErrorReport:
		return "Error Report"
	case TypeASPA:
		return "ASPA"
	}
	return fmt.Sprintf("type %d", uint8(t))
}

// ErrorCode is the Error Report error code (RFC 8210 §12).
type ErrorCode uint16

// Error codes, RFC 8210 §12; 9 and above are new in version 2
// (draft-ietf-sidrops-8210bis-26 §12) and may be sent only in a version 2
// session.
const (
	ErrCorruptData            ErrorCode = 0
	ErrInternalError          ErrorCode = 1
	ErrNoDataAvailable        ErrorCode = 2
	ErrInvalidRequest         ErrorCode = 3
	ErrUnsupportedVersion     ErrorCode = 4
	ErrUnsupportedPDUType     ErrorCode = 5
	ErrWithdrawalUnknown      ErrorCode = 6
	ErrDuplicateAnnouncement  ErrorCode = 7
	ErrUnexpectedProtoVersion ErrorCode = 8
	ErrASPAProviderList       ErrorCode = 9
	ErrTransport              ErrorCode = 10
	ErrOrdering               ErrorCode = 11
	ErrCacheRestart           ErrorCode = 12
	ErrCacheShutdown          ErrorCode = 13
)

func (c ErrorCode) String() string {
	switch c {
	case ErrCorruptData:
		return "Corrupt Data"
	case ErrInternalError:
		return "Internal Error"
	case ErrNoDataAvailable:
		return "No Data Available"
	case ErrInvalidRequest:
		return "Invalid Request"
	case ErrUnsupportedVersion:
		return "Unsupported Protocol Version"
	case ErrUnsupportedPDUType:
		return "Unsupported PDU Type"
	case ErrWithdrawalUnknown:
		return "Withdrawal of Unknown Record"
	case ErrDuplicateAnnouncement:
		return "Duplicate Announcement Received"
	case ErrUnexpectedProtoVersion:
		return "Unexpected Protocol Version"
	case ErrASPAProviderList:
		return "ASPA Provider List Error"
	case ErrTransport:
		return "Transport Error"
	case ErrOrdering:
		return "Ordering Error"
	case ErrCacheRestart:
		return "Cache Restart"
	case ErrCacheShutdown:
		return "Cache Shutdown"
	}
	return fmt.Sprintf("error code %d", uint16(c))
}

// Sizes on the wire (RFC 8210 §5).
const (
	HeaderLen = 8
	// MaxPDULen bounds the PDUs whose length the cache chooses (Error
	// Report, Router Key, ASPA, unknown types). The largest legitimate one
	// is an Error Report quoting a PDU plus a message; 64 KiB is far above
	// that and keeps a corrupt length from costing more than 64 KiB.
	MaxPDULen = 64 << 10
	// MaxVersion is the highest protocol version the decoder accepts and
	// the client offers: version 2 (draft-ietf-sidrops-8210bis), which adds
	// the ASPA PDU to version 1.
	MaxVersion = 2

	lenNotify     = 12
	lenQuery      = 12
	lenReset      = 8
	lenResponse   = 8
	lenIPv4       = 20
	lenIPv6       = 32
	lenEODv0      = 12 // RFC 6810 §5.8
	lenEODv1      = 24 // RFC 8210 §5.8: + refresh, retry, expire
	lenCacheReset = 8
	minRouterKey  = HeaderLen + 20 + 4 // SKI, ASN; the SPKI follows
	minErrReport  = HeaderLen + 4 + 4  // two length fields
	minASPA       = HeaderLen + 4      // customer ASN; providers follow, 4 bytes each
)

// FlagAnnounce is bit 0 of the flags of a prefix PDU: 1 announces the VRP,
// 0 withdraws it (RFC 8210 §5.6). The other bits are reserved. ASPA PDUs
// use the same bit of their own Flags (8210bis §5.12).
const FlagAnnounce = 1

// PDU is one decoded RTR PDU. Only the fields of its Type are meaningful;
// the others are zero. It is a plain value so the hot path (prefix PDUs)
// decodes without allocating.
type PDU struct {
	Version uint8
	Type    Type
	// Session is the 16-bit header field: the Session ID in Serial Notify,
	// Serial Query, Cache Response and End of Data, the error code in an
	// Error Report (see Code), Flags and a zero octet in an ASPA PDU (see
	// ASPAFlags), zero or flags in the others. It is kept as read so that
	// a PDU re-encodes to the same bytes.
	Session uint16
	// Length is the PDU length from the header, header included.
	Length uint32

	Serial uint32 // Serial Notify, Serial Query, End of Data

	// Prefix PDUs (types 4 and 6). Prefix is always Masked: a prefix with
	// host bits set is rejected as Corrupt Data. ASN is also the Customer
	// Autonomous System Number of an ASPA PDU.
	Flags  uint8
	Prefix netip.Prefix
	MaxLen uint8
	ASN    uint32

	// Providers are the Provider Autonomous System Numbers of an ASPA PDU
	// in wire order; nil when there are none.
	Providers []uint32

	// ASPALegacy marks an ASPA PDU in the layout of draft-ietf-sidrops-
	// 8210bis up to -11 (see decodeASPA), as Debian's stayrtr 0.5.1 sends
	// it: the header's octets 2-3 zero, then Flags, AFI Flags and a 16-bit
	// Provider AS Count in the body before the customer. LegacyFlags and
	// AFIFlags are those two body octets; an ASPA of that layout is one
	// customer's providers for one address family.
	ASPALegacy  bool
	LegacyFlags uint8
	AFIFlags    uint8

	// End of Data, version 1 and above (RFC 8210 §6), in seconds.
	Refresh, Retry, Expire uint32

	// Error Report (RFC 8210 §5.11): the erroneous PDU as the sender
	// quoted it, and its diagnostic text.
	ErrPDU  []byte
	ErrText string

	// Body is the payload after the header of a skipped PDU (Router Key),
	// kept so tests can re-encode it; the client never reads it.
	Body []byte
}

// Code is the error code of an Error Report PDU.
func (p *PDU) Code() ErrorCode { return ErrorCode(p.Session) }

// Announce reports whether a prefix or ASPA PDU announces (rather than
// withdraws).
func (p *PDU) Announce() bool {
	if p.Type == TypeASPA {
		return p.ASPAFlags()&FlagAnnounce != 0
	}
	return p.Flags&FlagAnnounce != 0
}

// ASPAFlags is the Flags octet of an ASPA PDU: the first octet after the
// type in its header (8210bis-26 §5.12), where other PDUs carry a Session
// ID; in the older layout (ASPALegacy) the first octet of the body.
func (p *PDU) ASPAFlags() uint8 {
	if p.ASPALegacy {
		return p.LegacyFlags
	}
	return uint8(p.Session >> 8)
}

// Sentinel causes of a decode error, for errors.Is.
var (
	ErrLength  = errors.New("bad length")
	ErrVersion = errors.New("unsupported protocol version")
	ErrType    = errors.New("unsupported PDU type")
	ErrCorrupt = errors.New("corrupt data")
)

// DecodeError says which PDU was wrong, where, and how. Code is the Error
// Report code the receiver should send back (RFC 8210 §12); PDU holds the
// offending bytes when they were read (at most MaxPDULen), for quoting.
type DecodeError struct {
	Offset int64
	Type   Type
	Code   ErrorCode
	PDU    []byte
	Err    error
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("rtr: PDU at offset %d (%s): %v", e.Offset, e.Type, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }

// checkHeader validates version, type and length of the header alone, so a
// reader knows how many bytes to read (or that it must not) before it reads
// them.
func checkHeader(version uint8, t Type, length uint32) (ErrorCode, error) {
	if version > MaxVersion {
		return ErrUnsupportedVersion, fmt.Errorf("%w %d (highest known %d)", ErrVersion, version, MaxVersion)
	}
	fixed := func(want uint32) (ErrorCode, error) {
		if length != want {
			return ErrCorruptData, fmt.Errorf("%w %d, want %d", ErrLength, length, want)
		}
		return 0, nil
	}
	bounded := func(min uint32) (ErrorCode, error) {
		if length < min || length > MaxPDULen {
			return ErrCorruptData, fmt.Errorf("%w %d, want %d..%d", ErrLength, length, min, MaxPDULen)
		}
		return 0, nil
	}
	switch t {
	case TypeSerialNotify:
		return fixed(lenNotify)
	case TypeSerialQuery:
		return fixed(lenQuery)
	case TypeResetQuery:
		return fixed(lenReset)
	case TypeCacheResponse:
		return fixed(lenResponse)
	case TypeIPv4Prefix:
		return fixed(lenIPv4)
	case TypeIPv6Prefix:
		return fixed(lenIPv6)
	case TypeEndOfData:
		if version == 0 {
			return fixed(lenEODv0)
		}
		return fixed(lenEODv1)
	case TypeCacheReset:
		return fixed(lenCacheReset)
	case TypeRouterKey:
		return bounded(minRouterKey)
	case TypeErrorReport:
		return bounded(minErrReport)
	case TypeASPA:
		return bounded(minASPA)
	}
	// RFC 8210 §12, code 5: the type is unknown. The length is still
	// checked so that the bytes can be quoted in the Error Report.
	if code, err := bounded(HeaderLen); err != nil {
		return code, err
	}
	return ErrUnsupportedPDUType, ErrType
}

// DecodePDU decodes the PDU at the start of b and returns it with the
// number of bytes it took (its header length). b may hold more bytes after
// it. A b shorter than the PDU is an error wrapping io.ErrUnexpectedEOF.
// Error Report and skipped PDUs are copied out of b; nothing else refers to
// b after the call.
func DecodePDU(b []byte) (PDU, int, error) {
	var p PDU
	n, err := decodeAt(b, 0, &p)
	return p, n, err
}

func decodeAt(b []byte, off int64, p *PDU) (int, error) {
	fail := func(t Type, code ErrorCode, quote []byte, err error) (int, error) {
		return 0, &DecodeError{Offset: off, Type: t, Code: code, PDU: quote, Err: err}
	}
	if len(b) < HeaderLen {
		t := Type(0xff)
		if len(b) >= 2 {
			t = Type(b[1])
		}
		return fail(t, ErrCorruptData, nil, fmt.Errorf("header: %d of %d bytes: %w", len(b), HeaderLen, io.ErrUnexpectedEOF))
	}
	*p = PDU{
		Version: b[0],
		Type:    Type(b[1]),
		Session: binary.BigEndian.Uint16(b[2:4]),
		Length:  binary.BigEndian.Uint32(b[4:8]),
	}
	if code, err := checkHeader(p.Version, p.Type, p.Length); err != nil {
		var quote []byte
		if p.Length <= MaxPDULen && uint64(len(b)) >= uint64(p.Length) {
			quote = append([]byte(nil), b[:p.Length]...)
		} else {
			quote = append([]byte(nil), b[:HeaderLen]...)
		}
		return fail(p.Type, code, quote, err)
	}
	n := int(p.Length)
	if len(b) < n {
		return fail(p.Type, ErrCorruptData, nil, fmt.Errorf("length %d, only %d bytes: %w", n, len(b), io.ErrUnexpectedEOF))
	}
	body := b[HeaderLen:n]
	switch p.Type {
	case TypeSerialNotify, TypeSerialQuery:
		p.Serial = binary.BigEndian.Uint32(body)
	case TypeIPv4Prefix, TypeIPv6Prefix:
		// flags(1) prefix length(1) max length(1) zero(1) prefix(4|16) ASN(4)
		p.Flags = body[0]
		bits, maxLen := int(body[1]), body[2]
		var a netip.Addr
		if p.Type == TypeIPv4Prefix {
			a = netip.AddrFrom4([4]byte(body[4:8]))
			p.ASN = binary.BigEndian.Uint32(body[8:12])
		} else {
			a = netip.AddrFrom16([16]byte(body[4:20]))
			p.ASN = binary.BigEndian.Uint32(body[20:24])
		}
		// RFC 8210 §5.6: "Max Length ... MUST NOT be less than the
		// Prefix Length element"; both are bounded by the address size.
		if bits > a.BitLen() || int(maxLen) > a.BitLen() || int(maxLen) < bits {
			return fail(p.Type, ErrCorruptData, append([]byte(nil), b[:n]...),
				fmt.Errorf("%w: prefix length %d, max length %d for %d-bit addresses", ErrCorrupt, bits, maxLen, a.BitLen()))
		}
		pfx := netip.PrefixFrom(a, bits)
		if pfx.Masked() != pfx {
			return fail(p.Type, ErrCorruptData, append([]byte(nil), b[:n]...),
				fmt.Errorf("%w: prefix %s has host bits set", ErrCorrupt, pfx))
		}
		p.Prefix, p.MaxLen = pfx, maxLen
	case TypeEndOfData:
		p.Serial = binary.BigEndian.Uint32(body)
		if p.Version > 0 {
			p.Refresh = binary.BigEndian.Uint32(body[4:])
			p.Retry = binary.BigEndian.Uint32(body[8:])
			p.Expire = binary.BigEndian.Uint32(body[12:])
		}
	case TypeErrorReport:
		// length of encapsulated PDU(4) PDU length of text(4) text
		l1 := binary.BigEndian.Uint32(body)
		if uint64(l1) > uint64(len(body)-8) {
			return fail(p.Type, ErrCorruptData, append([]byte(nil), b[:n]...),
				fmt.Errorf("%w: encapsulated PDU length %d exceeds the %d bytes left", ErrLength, l1, len(body)-8))
		}
		rest := body[4+l1:]
		l2 := binary.BigEndian.Uint32(rest)
		if uint64(l2) != uint64(len(rest)-4) {
			return fail(p.Type, ErrCorruptData, append([]byte(nil), b[:n]...),
				fmt.Errorf("%w: error text length %d, PDU leaves %d", ErrLength, l2, len(rest)-4))
		}
		if l1 > 0 {
			p.ErrPDU = append([]byte(nil), body[4:4+l1]...)
		}
		p.ErrText = string(rest[4:])
	case TypeRouterKey:
		p.Body = append([]byte(nil), body...)
	case TypeASPA:
		if err := decodeASPA(p, body); err != nil {
			return fail(p.Type, ErrCorruptData, append([]byte(nil), b[:n]...), err)
		}
	}
	return n, nil
}

// Two layouts of the ASPA PDU (type 11, version 2) are in use:
//
//	draft-ietf-sidrops-8210bis-26 §5.12 (current):
//	  Version | Type 11 | Flags | zero ; Length ;
//	  Customer ASN ; Provider ASNs to the end of the PDU
//	  "for a withdrawal ... there MUST be no Provider list, and the PDU
//	  Length MUST be 12"
//	draft-ietf-sidrops-8210bis up to -11 §5.12 (legacy; Debian's stayrtr
//	0.5.1, lib/structs.go PDUASPA.Write, whose comments name -10):
//	  Version | Type 11 | zero (16 bits) ; Length ;
//	  Flags | AFI Flags | Provider AS Count (16 bits) ;
//	  Customer ASN ; Provider AS Count Provider ASNs
//	  Length = 16 + 4 × count; a withdrawal repeats the providers.
//
// Both are version 2, so the version cannot tell them apart; the bytes can,
// for every PDU either draft allows:
//   - header octets 2-3 not zero: current layout (the legacy header has
//     zero there);
//   - header octets 2-3 zero and Length 12: a current-layout withdrawal
//     (a legacy PDU is at least 16 bytes);
//   - header octets 2-3 zero and Length above 12: legacy. Read as current
//     it would be a withdrawal carrying providers, which -26 forbids; it is
//     accepted only when Length = 16 + 4 × count exactly.
//
// So the one byte pattern that both could claim, a zero header with Length
// > 12, is resolved by the rule the current draft states for withdrawals;
// a cache speaking the current layout that breaks that rule is told its
// PDU is corrupt (the count check fails unless the customer's low 16 bits
// happen to equal the provider count minus one) or, in that unlucky case,
// is read as a legacy PDU of another customer: the error is the cache's.
func decodeASPA(p *PDU, body []byte) error {
	if p.Session == 0 && len(body) > 4 {
		// Legacy layout (draft-ietf-sidrops-8210bis-11 §5.12).
		if len(body) < 8 {
			return fmt.Errorf("%w %d: a zero header and more than a customer ASN is the draft-8210bis-11 layout, which needs at least 16 bytes", ErrLength, p.Length)
		}
		count := int(binary.BigEndian.Uint16(body[2:4]))
		if want := 8 + 4*count; len(body) != want {
			return fmt.Errorf("%w %d: draft-8210bis-11 layout with Provider AS Count %d needs length %d", ErrLength, p.Length, count, HeaderLen+want)
		}
		p.ASPALegacy, p.LegacyFlags, p.AFIFlags = true, body[0], body[1]
		body = body[4:]
	} else if (len(body)-4)%4 != 0 {
		// Current layout (draft-ietf-sidrops-8210bis-26 §5.12): Protocol
		// Version, PDU Type 11, Flags, zero; Length; Customer Autonomous
		// System Number; then the Provider Autonomous System Numbers,
		// 32 bits each, to the end of the PDU. A length that leaves part
		// of an ASN is corrupt.
		return fmt.Errorf("%w %d: the provider list is not a whole number of 4-byte ASNs", ErrLength, p.Length)
	}
	p.ASN = binary.BigEndian.Uint32(body)
	if np := (len(body) - 4) / 4; np > 0 {
		p.Providers = make([]uint32, np)
		for i := range p.Providers {
			p.Providers[i] = binary.BigEndian.Uint32(body[4+4*i:])
		}
	}
	return nil
}

// AppendPDU appends the wire form of p to dst. Length is computed, not
// taken from p; fields that p's Type does not carry are ignored.
func AppendPDU(dst []byte, p *PDU) []byte {
	start := len(dst)
	dst = append(dst, p.Version, byte(p.Type))
	dst = binary.BigEndian.AppendUint16(dst, p.Session)
	dst = append(dst, 0, 0, 0, 0) // length, set below
	switch p.Type {
	case TypeSerialNotify, TypeSerialQuery:
		dst = binary.BigEndian.AppendUint32(dst, p.Serial)
	case TypeIPv4Prefix, TypeIPv6Prefix:
		dst = append(dst, p.Flags, byte(p.Prefix.Bits()), p.MaxLen, 0)
		if p.Type == TypeIPv4Prefix {
			a := p.Prefix.Addr().As4()
			dst = append(dst, a[:]...)
		} else {
			a := p.Prefix.Addr().As16()
			dst = append(dst, a[:]...)
		}
		dst = binary.BigEndian.AppendUint32(dst, p.ASN)
	case TypeEndOfData:
		dst = binary.BigEndian.AppendUint32(dst, p.Serial)
		if p.Version > 0 {
			dst = binary.BigEndian.AppendUint32(dst, p.Refresh)
			dst = binary.BigEndian.AppendUint32(dst, p.Retry)
			dst = binary.BigEndian.AppendUint32(dst, p.Expire)
		}
	case TypeErrorReport:
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(p.ErrPDU)))
		dst = append(dst, p.ErrPDU...)
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(p.ErrText)))
		dst = append(dst, p.ErrText...)
	case TypeRouterKey:
		dst = append(dst, p.Body...)
	case TypeASPA:
		if p.ASPALegacy {
			dst = append(dst, p.LegacyFlags, p.AFIFlags)
			dst = binary.BigEndian.AppendUint16(dst, uint16(len(p.Providers)))
		}
		dst = binary.BigEndian.AppendUint32(dst, p.ASN)
		for _, a := range p.Providers {
			dst = binary.BigEndian.AppendUint32(dst, a)
		}
	}
	binary.BigEndian.PutUint32(dst[start+4:], uint32(len(dst)-start))
	return dst
}

// Reader reads PDUs from a stream. It buffers up to MaxPDULen bytes and
// never allocates for a prefix PDU.
type Reader struct {
	br  *bufio.Reader
	off int64
}

// NewReader returns a Reader on r.
func NewReader(r io.Reader) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, MaxPDULen)}
}

// Offset is the stream offset of the next PDU.
func (r *Reader) Offset() int64 { return r.off }

// Next decodes the next PDU into p. It returns io.EOF when the stream ends
// between PDUs, and an error wrapping io.ErrUnexpectedEOF when it ends
// inside one. A *DecodeError leaves the stream at an unknown position: the
// caller must report it and close the session (RFC 8210 §12 errors are
// fatal).
func (r *Reader) Next(p *PDU) error {
	hdr, err := r.br.Peek(HeaderLen)
	if err != nil {
		if err == io.EOF && len(hdr) == 0 {
			return io.EOF
		}
		if err != io.EOF {
			// The transport failed (reset, closed, deadline): not a
			// malformed PDU, so no Error Report is due.
			return fmt.Errorf("rtr: reading PDU at offset %d: %w", r.off, err)
		}
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		if len(hdr) < HeaderLen {
			return &DecodeError{Offset: r.off, Type: Type(0xff), Code: ErrCorruptData,
				Err: fmt.Errorf("header: %d of %d bytes: %w", len(hdr), HeaderLen, err)}
		}
	}
	length := binary.BigEndian.Uint32(hdr[4:8])
	if _, err := checkHeader(hdr[0], Type(hdr[1]), length); err != nil {
		// Do not wait for (or buffer) a PDU already known to be wrong;
		// quote it if it has fully arrived.
		b, _ := r.br.Peek(r.br.Buffered())
		_, err := decodeAt(b, r.off, p)
		return err
	}
	b, err := r.br.Peek(int(length))
	if err != nil && len(b) < int(length) {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("rtr: PDU at offset %d (%s): %w", r.off, Type(hdr[1]), err)
		}
	}
	n, err := decodeAt(b, r.off, p)
	if err != nil {
		return err
	}
	r.br.Discard(n)
	r.off += int64(n)
	return nil
}
