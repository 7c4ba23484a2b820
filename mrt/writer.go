package mrt

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
)

// WriterOptions configure a Writer.
type WriterOptions struct {
	// Time is the dump time written in every record header (RFC 6396 §2)
	// and as the originated time of entries whose Route.Time is zero.
	// Zero means time.Now().
	Time time.Time
	// CollectorID is the BGP identifier of the collector in the
	// PEER_INDEX_TABLE (RFC 6396 §4.3.1); an invalid or non-IPv4 address
	// writes 0.0.0.0.
	CollectorID netip.Addr
	// ViewName is the optional view name of the PEER_INDEX_TABLE.
	ViewName string
}

// Writer writes a routing table as MRT TABLE_DUMP_V2 (RFC 6396 §4.3): one
// PEER_INDEX_TABLE, then one RIB_IPV4_UNICAST / RIB_IPV6_UNICAST record per
// prefix, or the RIB_*_UNICAST_ADDPATH subtype of RFC 8050 §4 when an entry
// of the prefix has a non-zero path identifier. It is what the Reader
// reads, so a table collected live becomes a file `analyze` studies.
//
// Routes are streamed: each call to Add encodes the route into the record
// being built for its prefix, and the record is written when the next
// prefix arrives (or at Close). Prefixes must arrive in the order RIB.All
// yields them (IPv4 first, then by address, then shorter first), each
// prefix's routes together; Add refuses a prefix that goes backwards, since
// a second record for a prefix already written would silently break the
// one-record-per-prefix shape readers rely on.
//
// Each entry carries ORIGIN, AS_PATH with 4-byte ASNs (RFC 6396 §4.3.4),
// NEXT_HOP for an IPv4 next hop of an IPv4 prefix, otherwise the
// abbreviated MP_REACH_NLRI of RFC 6396 §4.3.4 (next hop length and
// address), and the RFC 8097 origin validation state community when the
// route had one. Route does not keep the ORIGIN attribute, so IGP is
// written; nothing in rovimpact reads it.
//
// The Writer buffers its output; Close flushes it. Writing atomically
// (temporary file then rename) is the caller's job. A Writer is not safe
// for concurrent use.
type Writer struct {
	w     *bufio.Writer
	opt   WriterOptions
	ts    uint32
	peers int
	begun bool

	// record being built: the current prefix and its encoded entries.
	prefix  netip.Prefix
	have    bool
	addPath bool
	entries []byte // entries encoded without path ids
	apIDs   []entryRef
	count   int
	seq     uint32

	rec   []byte // record assembly buffer
	attrs []byte

	stats WriterStats
	err   error
}

// entryRef locates one entry in Writer.entries and remembers its path id,
// so a record that turns out to need ADD-PATH can be re-encoded.
type entryRef struct {
	off, end int
	pathID   uint32
}

// WriterStats counts what a Writer wrote.
type WriterStats struct {
	Records int64 // MRT records, the PEER_INDEX_TABLE included
	Entries int64 // RIB entries (paths)
	Bytes   int64 // bytes written
}

// maxEntries is the RIB entry count limit of one record (a 2-octet field,
// RFC 6396 §4.3.2); a prefix with more paths is split across records.
const maxEntries = 0xffff

// maxSegment is the ASN count limit of one AS_PATH segment (a 1-octet
// field, RFC 4271 §4.3); longer segments are split into several of the
// same type.
const maxSegment = 255

// NewWriter returns a Writer on w. Call WritePeers first.
func NewWriter(w io.Writer, opt WriterOptions) *Writer {
	if opt.Time.IsZero() {
		opt.Time = time.Now()
	}
	return &Writer{w: bufio.NewWriterSize(w, 64<<10), opt: opt, ts: unix32(opt.Time)}
}

func unix32(t time.Time) uint32 {
	s := t.Unix()
	if s < 0 {
		return 0
	}
	if s > 0xffffffff {
		return 0xffffffff
	}
	return uint32(s)
}

// WritePeers writes the PEER_INDEX_TABLE (RFC 6396 §4.3.1). Route.Peer.Index
// of every later Add indexes peers. Every peer is written with a 4-byte AS;
// an invalid peer address is written as 0.0.0.0.
func (w *Writer) WritePeers(peers []route.Peer) error {
	if w.err != nil {
		return w.err
	}
	if w.begun {
		return w.fail(errors.New("mrt: writer: PEER_INDEX_TABLE written twice"))
	}
	if len(peers) > 0xffff {
		return w.fail(fmt.Errorf("mrt: writer: %d peers, PEER_INDEX_TABLE holds at most 65535", len(peers)))
	}
	if len(w.opt.ViewName) > 0xffff {
		return w.fail(fmt.Errorf("mrt: writer: view name of %d bytes, at most 65535", len(w.opt.ViewName)))
	}
	w.begun = true
	w.peers = len(peers)
	b := w.header(w.rec[:0], tdPeerIndexTable)
	b = append(b, addr4(w.opt.CollectorID)...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(w.opt.ViewName)))
	b = append(b, w.opt.ViewName...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(peers)))
	for _, p := range peers {
		typ := byte(0x02) // AS4: every AS is written in 4 octets
		ip := p.IP
		if ip.Is6() {
			typ |= 0x01
		}
		b = append(b, typ)
		b = append(b, addr4(p.BGPID)...)
		if ip.Is6() {
			a := ip.As16()
			b = append(b, a[:]...)
		} else {
			b = append(b, addr4(ip)...)
		}
		b = binary.BigEndian.AppendUint32(b, p.AS)
	}
	w.rec = b
	return w.emit()
}

// addr4 returns the 4 octets of an IPv4 address, or 0.0.0.0.
func addr4(a netip.Addr) []byte {
	a = a.Unmap()
	if !a.Is4() {
		return []byte{0, 0, 0, 0}
	}
	b := a.As4()
	return b[:]
}

// ErrBadRoute marks an Add error about the route itself (not an
// announcement, no valid prefix, unknown peer index, a path too long to
// frame): the route is not written and the Writer stays usable, so the
// caller can count it and go on. Any other error is final.
var ErrBadRoute = errors.New("route cannot be written")

// Add encodes one path. r.Kind must be Announce, r.Prefix valid,
// r.Peer.Index a position in the peers given to WritePeers. r is not
// retained. Its attributes are encoded into a buffer reused across calls,
// so a dump allocates only as its largest record grows.
func (w *Writer) Add(r *route.Route) error {
	if w.err != nil {
		return w.err
	}
	if !w.begun {
		return w.fail(errors.New("mrt: writer: Add before WritePeers"))
	}
	if r.Kind != route.Announce {
		return fmt.Errorf("mrt: writer: %s: %w: kind %d, only announcements go into a RIB dump", r.Prefix, ErrBadRoute, r.Kind)
	}
	if !r.Prefix.IsValid() {
		return fmt.Errorf("mrt: writer: %w: invalid prefix", ErrBadRoute)
	}
	if r.Peer.Index < 0 || r.Peer.Index >= w.peers {
		return fmt.Errorf("mrt: writer: %s: %w: peer index %d, the PEER_INDEX_TABLE has %d peers", r.Prefix, ErrBadRoute, r.Peer.Index, w.peers)
	}
	p := r.Prefix.Masked()
	if !w.have || p != w.prefix {
		if w.have {
			if rov.ComparePrefix(p, w.prefix) < 0 {
				return w.fail(fmt.Errorf("mrt: writer: prefix %s after %s: prefixes must arrive in order", p, w.prefix))
			}
			if err := w.flushPrefix(); err != nil {
				return err
			}
		}
		w.prefix, w.have = p, true
	}
	w.attrs = appendAttrs(w.attrs[:0], r)
	// ORIGIN 4, NEXT_HOP or MP_REACH ≤ 20 and the community 11 bytes leave
	// room in the 2-octet attribute length for over 16,000 ASNs, far
	// beyond any real path; a longer one cannot be framed.
	if len(w.attrs) > 0xffff {
		return fmt.Errorf("mrt: writer: %s from peer %d: %w: attributes of %d bytes exceed 65535", p, r.Peer.Index, ErrBadRoute, len(w.attrs))
	}
	// A record holds at most 65535 entries and must stay under the size
	// readers accept (12 bytes of entry header with the RFC 8050 path id,
	// plus the record header and prefix): split it when either would
	// overflow.
	if w.count == maxEntries || len(w.entries)+4*w.count+12+len(w.attrs)+64 > maxRecordLen {
		if err := w.flushPrefix(); err != nil {
			return err
		}
	}
	off := len(w.entries)
	w.entries = w.appendEntry(w.entries, r)
	w.apIDs = append(w.apIDs, entryRef{off: off, end: len(w.entries), pathID: r.PathID})
	if r.PathID != 0 {
		w.addPath = true
	}
	w.count++
	return nil
}

// appendEntry encodes a RIB entry without path identifier (RFC 6396
// §4.3.4): peer index, originated time, attribute length, attributes.
func (w *Writer) appendEntry(b []byte, r *route.Route) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(r.Peer.Index))
	ts := w.ts
	if !r.Time.IsZero() {
		ts = unix32(r.Time)
	}
	b = binary.BigEndian.AppendUint32(b, ts)
	b = binary.BigEndian.AppendUint16(b, uint16(len(w.attrs)))
	return append(b, w.attrs...)
}

// BGP path attribute codes written (RFC 4271 §5, RFC 4760, RFC 4360).
const attrOrigin = 1

// appendAttrs encodes r's path attributes.
func appendAttrs(b []byte, r *route.Route) []byte {
	b = append(b, 0x40, attrOrigin, 1, 0) // well-known transitive, IGP
	// AS_PATH, 4-octet ASNs.
	n := 0
	for _, s := range r.Path {
		for i := 0; i < len(s.ASNs); i += maxSegment {
			k := min(maxSegment, len(s.ASNs)-i)
			n += 2 + 4*k
		}
	}
	if n > 255 {
		b = append(b, 0x50, attrASPath) // Extended Length
		b = binary.BigEndian.AppendUint16(b, uint16(min(n, 0xffff)))
	} else {
		b = append(b, 0x40, attrASPath, byte(n))
	}
	for _, s := range r.Path {
		for i := 0; i < len(s.ASNs); i += maxSegment {
			k := min(maxSegment, len(s.ASNs)-i)
			b = append(b, byte(s.Type), byte(k))
			for _, a := range s.ASNs[i : i+k] {
				b = binary.BigEndian.AppendUint32(b, a)
			}
		}
	}
	// Addresses are written as they are held: an IPv4-mapped IPv6 next
	// hop or peer stays 16 octets, so the dump reads back identical.
	nh := r.NextHop
	switch {
	case !nh.IsValid():
	case r.Prefix.Addr().Is4() && nh.Is4():
		b = append(b, 0x40, attrNextHop, 4)
		a := nh.As4()
		b = append(b, a[:]...)
	default:
		// RFC 6396 §4.3.4: the MP_REACH_NLRI of a RIB entry keeps only
		// the next hop length and next hop.
		a := nh.AsSlice()
		b = append(b, 0x80, attrMPReach, byte(1+len(a)), byte(len(a)))
		b = append(b, a...)
	}
	if r.RPKIState >= route.RPKIValid && r.RPKIState <= route.RPKIInvalid {
		// RFC 8097 §2: non-transitive opaque extended community, type
		// 0x43, subtype 0x00, the state in the last octet.
		b = append(b, 0xc0, attrExtCommunity, 8, 0x43, 0, 0, 0, 0, 0, 0, byte(r.RPKIState))
	}
	return b
}

// flushPrefix writes the record of the current prefix, if it has entries.
func (w *Writer) flushPrefix() error {
	if w.count == 0 {
		return nil
	}
	p := w.prefix
	v6 := p.Addr().Is6()
	sub := uint16(tdRIBIPv4Unicast)
	switch {
	case v6 && w.addPath:
		sub = tdRIBIPv6UnicastAP
	case v6:
		sub = tdRIBIPv6Unicast
	case w.addPath:
		sub = tdRIBIPv4UnicastAP
	}
	b := w.header(w.rec[:0], sub)
	b = binary.BigEndian.AppendUint32(b, w.seq)
	w.seq++
	bits := p.Bits()
	b = append(b, byte(bits))
	b = append(b, p.Addr().AsSlice()[:(bits+7)/8]...)
	b = binary.BigEndian.AppendUint16(b, uint16(w.count))
	if w.addPath {
		// RFC 8050 §4.1: the path identifier follows the originated time.
		for _, e := range w.apIDs {
			ent := w.entries[e.off:e.end]
			b = append(b, ent[:6]...)
			b = binary.BigEndian.AppendUint32(b, e.pathID)
			b = append(b, ent[6:]...)
		}
	} else {
		b = append(b, w.entries...)
	}
	w.rec = b
	w.stats.Entries += int64(w.count)
	w.entries, w.apIDs, w.count, w.addPath = w.entries[:0], w.apIDs[:0], 0, false
	return w.emit()
}

// header appends an MRT common header (RFC 6396 §2) whose length emit
// patches.
func (w *Writer) header(b []byte, sub uint16) []byte {
	b = binary.BigEndian.AppendUint32(b, w.ts)
	b = binary.BigEndian.AppendUint16(b, typeTableDumpV2)
	b = binary.BigEndian.AppendUint16(b, sub)
	return append(b, 0, 0, 0, 0)
}

// emit patches the length of the record in w.rec and writes it.
func (w *Writer) emit() error {
	n := len(w.rec) - headerLen
	if n > maxRecordLen {
		return w.fail(fmt.Errorf("mrt: writer: record %d of %d bytes exceeds the %d readers accept", w.stats.Records+1, n, maxRecordLen))
	}
	binary.BigEndian.PutUint32(w.rec[8:12], uint32(n))
	if _, err := w.w.Write(w.rec); err != nil {
		return w.fail(fmt.Errorf("mrt: writer: record %d: %w", w.stats.Records+1, err))
	}
	w.stats.Records++
	w.stats.Bytes += int64(len(w.rec))
	return nil
}

func (w *Writer) fail(err error) error {
	w.err = err
	return err
}

// Close writes the last record and flushes the buffer. It does not close
// the underlying writer. A Writer that never had WritePeers called writes
// an empty PEER_INDEX_TABLE, so the file is still a valid dump.
func (w *Writer) Close() error {
	if w.err != nil {
		return w.err
	}
	if !w.begun {
		if err := w.WritePeers(nil); err != nil {
			return err
		}
	}
	if err := w.flushPrefix(); err != nil {
		return err
	}
	if err := w.w.Flush(); err != nil {
		return w.fail(fmt.Errorf("mrt: writer: %w", err))
	}
	w.err = errors.New("mrt: writer: closed")
	return nil
}

// Stats returns what was written so far (entries buffered for the current
// prefix are counted once their record is written).
func (w *Writer) Stats() WriterStats { return w.stats }
