package rtr

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// describe renders a PDU stream one line per PDU, for golden files.
func describe(b []byte) string {
	var sb strings.Builder
	r := NewReader(bytes.NewReader(b))
	var p PDU
	for {
		off := r.Offset()
		err := r.Next(&p)
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Fprintf(&sb, "error: %v\n", err)
			break
		}
		fmt.Fprintf(&sb, "%d: v%d %s session=%d len=%d", off, p.Version, p.Type, p.Session, p.Length)
		switch p.Type {
		case TypeSerialNotify, TypeSerialQuery:
			fmt.Fprintf(&sb, " serial=%d", p.Serial)
		case TypeIPv4Prefix, TypeIPv6Prefix:
			fmt.Fprintf(&sb, " announce=%t %s-%d AS%d", p.Announce(), p.Prefix, p.MaxLen, p.ASN)
		case TypeEndOfData:
			fmt.Fprintf(&sb, " serial=%d refresh=%d retry=%d expire=%d", p.Serial, p.Refresh, p.Retry, p.Expire)
		case TypeErrorReport:
			fmt.Fprintf(&sb, " code=%q pdu=% x text=%q", p.Code(), p.ErrPDU, p.ErrText)
		case TypeRouterKey, TypeASPA:
			fmt.Fprintf(&sb, " body=%d bytes", len(p.Body))
		}
		sb.WriteByte('\n')
	}
	return sb.String()
}

func captures(t testing.TB) []string {
	files, err := filepath.Glob("testdata/stayrtr/*.bin")
	if err != nil || len(files) == 0 {
		t.Fatalf("no captures in testdata/stayrtr: %v", err)
	}
	return files
}

// TestStayrtrCaptures decodes sessions captured from a real cache
// (testdata/stayrtr/README.md) and compares them with golden files.
func TestStayrtrCaptures(t *testing.T) {
	for _, f := range captures(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			got := describe(b)
			golden := strings.TrimSuffix(f, ".bin") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
			if strings.Contains(got, "error:") {
				t.Errorf("a real capture failed to decode:\n%s", got)
			}
		})
	}
}

// FuzzDecodePDU checks, for any input, that DecodePDU does not panic and
// that an accepted PDU consumed exactly its header length, re-encodes to as
// many bytes, and decodes back to the same value; and that Reader agrees
// with DecodePDU on the first PDU.
func FuzzDecodePDU(f *testing.F) {
	// Every PDU of every real capture, each as its own seed.
	for _, file := range captures(f) {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b) // the whole stream
		for len(b) > 0 {
			_, n, err := DecodePDU(b)
			if err != nil {
				f.Fatalf("%s: %v", file, err)
			}
			f.Add(b[:n])
			b = b[n:]
		}
	}
	// Hand-made edge cases: ASPAs (8210bis-26 §5.12: an announcement, a
	// withdrawal, a provider list cut mid-ASN), host bits, a 4 GiB length.
	f.Add(raw(2, TypeASPA, 0x0100, 16, u32(945), u32(13213)))
	f.Add(raw(2, TypeASPA, 0x0000, 12, u32(945)))
	f.Add(raw(2, TypeASPA, 0x0100, 22, u32(945), u32(13213), []byte{0, 0, 0, 1, 2, 3}))
	// The draft-8210bis-11 layout stayrtr 0.5.1 sends (zero header; Flags,
	// AFI Flags, Provider AS Count; customer; providers): an IPv4
	// announcement, an IPv6 withdrawal repeating its providers, a count
	// the length does not fit, no providers, a body cut before the count.
	f.Add(raw(2, TypeASPA, 0, 24, []byte{1, 0, 0, 2}, u32(945), u32(13213), u32(150369)))
	f.Add(raw(2, TypeASPA, 0, 20, []byte{0, 1, 0, 1}, u32(945), u32(13213)))
	f.Add(raw(2, TypeASPA, 0, 20, []byte{1, 0, 0, 2}, u32(945), u32(13213)))
	f.Add(raw(2, TypeASPA, 0, 16, []byte{1, 0, 0, 0}, u32(945)))
	f.Add(raw(2, TypeASPA, 0, 14, []byte{1, 0, 0, 0, 0, 0}))
	f.Add(raw(1, TypeIPv4Prefix, 0, 20, v4body(1, 24, 24, "192.0.2.1", 1)))
	f.Add(raw(1, TypeErrorReport, 0, 0xffffffff))
	f.Fuzz(func(t *testing.T, in []byte) {
		p, n, err := DecodePDU(in)
		var rp PDU
		rerr := NewReader(bytes.NewReader(in)).Next(&rp)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %v is %T, want *DecodeError", err, err)
			}
			if rerr == nil {
				t.Fatalf("DecodePDU failed (%v) but Reader accepted %+v", err, rp)
			}
			return
		}
		if rerr != nil {
			t.Fatalf("DecodePDU accepted %+v but Reader failed: %v", p, rerr)
		}
		if !reflect.DeepEqual(p, rp) {
			t.Fatalf("DecodePDU %+v, Reader %+v", p, rp)
		}
		if n != int(p.Length) || n > len(in) || n < HeaderLen {
			t.Fatalf("consumed %d, header length %d, input %d", n, p.Length, len(in))
		}
		if p.Type == TypeASPA && (p.ASPALegacy != (p.Session == 0 && p.Length > 12)) {
			// decodeASPA: the -11 layout exactly when the header's octets
			// 2-3 are zero and the PDU is longer than a -26 withdrawal.
			t.Fatalf("ASPA header % x length %d read as legacy=%v", in[2:4], p.Length, p.ASPALegacy)
		}
		if p.Type == TypeASPA && p.ASPALegacy {
			// -11 §5.12: Flags, AFI Flags, Provider AS Count, customer,
			// exactly count providers.
			if int(p.Length) != HeaderLen+8+4*len(p.Providers) || int(binary.BigEndian.Uint16(in[10:])) != len(p.Providers) ||
				p.LegacyFlags != in[8] || p.AFIFlags != in[9] || p.ASN != binary.BigEndian.Uint32(in[12:]) ||
				p.Announce() != (in[8]&FlagAnnounce != 0) {
				t.Fatalf("legacy ASPA %+v from % x", p, in[:n])
			}
			for i, a := range p.Providers {
				if a != binary.BigEndian.Uint32(in[16+4*i:]) {
					t.Fatalf("provider %d: %d from % x", i, a, in[:n])
				}
			}
		} else if p.Type == TypeASPA {
			// -26 §5.12: the customer, then every provider, 4 bytes each,
			// exactly filling the PDU; the Flags octet is read where
			// other PDUs keep the Session ID.
			if int(p.Length) != HeaderLen+4+4*len(p.Providers) || (p.Providers != nil && len(p.Providers) == 0) {
				t.Fatalf("ASPA of length %d decoded with %d providers (%v)", p.Length, len(p.Providers), p.Providers)
			}
			if p.ASN != binary.BigEndian.Uint32(in[8:]) || p.ASPAFlags() != in[2] || p.Announce() != (in[2]&FlagAnnounce != 0) {
				t.Fatalf("ASPA fields %+v from % x", p, in[:n])
			}
			for i, a := range p.Providers {
				if a != binary.BigEndian.Uint32(in[12+4*i:]) {
					t.Fatalf("provider %d: %d from % x", i, a, in[:n])
				}
			}
		}
		enc := AppendPDU(nil, &p)
		if len(enc) != n {
			t.Fatalf("re-encoded %d bytes, consumed %d", len(enc), n)
		}
		p2, n2, err := DecodePDU(enc)
		if err != nil {
			t.Fatalf("re-decoding % x: %v", enc, err)
		}
		if n2 != n || !reflect.DeepEqual(p, p2) {
			t.Fatalf("round trip: got %+v, want %+v", p2, p)
		}
	})
}
