package snapshot

import (
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"

	"github.com/rovimpact/rovimpact/rov"
)

// The byte helpers: the writer Encode appends with and the bounded
// reader Decode trusts nothing through.

type writer struct{ b []byte }

func (w *writer) u8(v uint8)   { w.b = append(w.b, v) }
func (w *writer) u16(v uint16) { w.b = binary.LittleEndian.AppendUint16(w.b, v) }
func (w *writer) u32(v uint32) { w.b = binary.LittleEndian.AppendUint32(w.b, v) }

func (w *writer) u32s(v []uint32) {
	w.u32(uint32(len(v)))
	for _, x := range v {
		w.u32(x)
	}
}

func (w *writer) addr(a netip.Addr) {
	switch {
	case a.Is4():
		b := a.As4()
		w.b = append(w.b, b[:]...)
	case a.Is6():
		b := a.As16()
		w.b = append(w.b, b[:]...)
	}
}

// section starts a section; end patches its length.
func (w *writer) section(tag string) int {
	w.b = append(w.b, tag...)
	w.b = append(w.b, make([]byte, 8)...)
	return len(w.b)
}

func (w *writer) end(start int) {
	binary.LittleEndian.PutUint64(w.b[start-8:start], uint64(len(w.b)-start))
}

// reader is a cursor over a snapshot, or one section of it, with a sticky
// error: after the first failure every read returns zero, so decoders check
// once per record.
type reader struct {
	b    []byte // up to the end of the current section
	off  int
	name string
	tag  string
	err  *FormatError
	// start is where a section's body begins.
	start int
}

func (r *reader) failAt(off int, format string, args ...any) {
	if r.err != nil {
		return
	}
	what := fmt.Sprintf(format, args...)
	if r.tag != "" {
		what = "section " + r.tag + ": " + what
	}
	r.err = &FormatError{File: r.name, Offset: int64(off), What: what}
}

func (r *reader) fail(format string, args ...any) { r.failAt(r.off, format, args...) }

func (r *reader) need(n int) bool {
	if r.err != nil {
		return false
	}
	if n < 0 || len(r.b)-r.off < n {
		r.fail("truncated: %d bytes needed, %d left", n, len(r.b)-r.off)
		r.err.Err = io.ErrUnexpectedEOF
		return false
	}
	return true
}

func (r *reader) u8() uint8 {
	if !r.need(1) {
		return 0
	}
	r.off++
	return r.b[r.off-1]
}

func (r *reader) u16() uint16 {
	if !r.need(2) {
		return 0
	}
	r.off += 2
	return binary.LittleEndian.Uint16(r.b[r.off-2:])
}

func (r *reader) u32() uint32 {
	if !r.need(4) {
		return 0
	}
	r.off += 4
	return binary.LittleEndian.Uint32(r.b[r.off-4:])
}

func (r *reader) u64() uint64 {
	if !r.need(8) {
		return 0
	}
	r.off += 8
	return binary.LittleEndian.Uint64(r.b[r.off-8:])
}

func (r *reader) bytes(n int) []byte {
	if !r.need(n) {
		return nil
	}
	r.off += n
	return r.b[r.off-n : r.off]
}

// count reads a u32 count of records of at least size bytes each, refusing
// one the bytes left cannot hold (so a damaged count never allocates).
func (r *reader) count(size int) int {
	at := r.off
	n := int(r.u32())
	if r.err == nil && n > (len(r.b)-r.off)/size {
		r.failAt(at, "count %d needs at least %d bytes, %d left", n, n*size, len(r.b)-r.off)
	}
	if r.err != nil {
		return 0
	}
	return n
}

// records reads a u32 count of records of size bytes each, which must
// fill the rest of the section exactly, and moves past them.
func (r *reader) records(size int) records {
	at := r.off
	n := r.count(size)
	if r.err != nil {
		return records{size: size}
	}
	if left := len(r.b) - r.off; left != n*size {
		r.failAt(at, "%d records of %d bytes in %d bytes", n, size, left)
		return records{size: size}
	}
	recs := records{b: r.b[r.off:len(r.b):len(r.b)], n: n, size: size, at: r.off}
	r.off = len(r.b)
	return recs
}

func (r *reader) u32s() []uint32 {
	n := r.count(4)
	if r.err != nil {
		return nil
	}
	v := make([]uint32, n)
	for i := range v {
		v[i] = binary.LittleEndian.Uint32(r.b[r.off+4*i:])
	}
	r.off += 4 * n
	return v
}

func (r *reader) addr(fam uint8) netip.Addr {
	switch fam {
	case 0:
		return netip.Addr{}
	case 4:
		if !r.need(4) {
			return netip.Addr{}
		}
		r.off += 4
		return netip.AddrFrom4([4]byte(r.b[r.off-4 : r.off]))
	case 6:
		if !r.need(16) {
			return netip.Addr{}
		}
		r.off += 16
		return netip.AddrFrom16([16]byte(r.b[r.off-16 : r.off]))
	}
	r.fail("address family %d (want 4, 6 or 0)", fam)
	return netip.Addr{}
}

// record reads a record's fixed head of n bytes, whose first byte is an
// address family, and the address after it: one bounds check each.
func (r *reader) record(n int) ([]byte, netip.Addr, bool) {
	if !r.need(n) {
		return nil, netip.Addr{}, false
	}
	h := r.b[r.off : r.off+n]
	r.off += n
	a := r.addr(h[0])
	return h, a, r.err == nil
}

// prefix makes a prefix of a (from the record at at) and bits; the zero
// address with 0 bits is the invalid prefix. Host bits are refused: every
// source masks prefixes and the index and impact walks rely on it.
func (r *reader) prefix(at int, a netip.Addr, bits uint8) (netip.Prefix, bool) {
	if !a.IsValid() {
		if bits != 0 {
			r.failAt(at, "prefix length %d without an address", bits)
			return netip.Prefix{}, false
		}
		return netip.Prefix{}, true
	}
	if int(bits) > a.BitLen() {
		r.failAt(at, "prefix length %d beyond %d bits", bits, a.BitLen())
		return netip.Prefix{}, false
	}
	p := netip.PrefixFrom(a, int(bits))
	if !masked(a, bits) {
		r.failAt(at, "prefix %s has host bits set", p)
		return netip.Prefix{}, false
	}
	return p, true
}

// masked reports whether a has no bits set past the first bits: Masked
// without building a second prefix (a quarter of the decode time).
func masked(a netip.Addr, bits uint8) bool {
	if a.Is4() {
		b := a.As4()
		return binary.BigEndian.Uint32(b[:])<<bits == 0
	}
	b := a.As16()
	hi, lo := binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
	if bits <= 64 {
		return hi<<bits == 0 && lo == 0
	}
	return lo<<(bits-64) == 0
}

func (r *reader) origin(at int, kind uint8, asn uint32) (rov.Origin, bool) {
	o := rov.Origin{Kind: rov.OriginKind(kind), ASN: asn}
	if o.Kind > rov.OriginLocal {
		r.failAt(at, "unknown origin kind %d", kind)
		return o, false
	}
	if o.Kind != rov.OriginAS && asn != 0 {
		r.failAt(at, "origin kind %d with AS %d", kind, asn)
		return o, false
	}
	return o, true
}

// section reads the next section's tag and length, moves past the section
// and returns a reader bounded by it. Section readers keep their own error,
// so sections can be decoded concurrently.
func (r *reader) section(tag string) *reader {
	s := &reader{name: r.name, tag: tag}
	if r.err != nil {
		s.err = r.err
		return s
	}
	at := r.off
	got := r.bytes(4)
	n := r.u64()
	if r.err != nil {
		s.err = r.err
		return s
	}
	if string(got) != tag {
		r.failAt(at, "section %q where %q belongs", got, tag)
		s.err = r.err
		return s
	}
	if n > uint64(len(r.b)-r.off) {
		r.failAt(at+4, "section %s: length %d, only %d bytes left", tag, n, len(r.b)-r.off)
		r.err.Err = io.ErrUnexpectedEOF
		s.err = r.err
		return s
	}
	s.b, s.off, s.start = r.b[:r.off+int(n)], r.off, r.off
	r.off += int(n)
	return s
}

// done checks the section was read to its end.
func (r *reader) done() {
	if r.err == nil && r.off != len(r.b) {
		r.fail("%d bytes left over at the end of the section", len(r.b)-r.off)
	}
}
