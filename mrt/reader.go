// Package mrt reads BGP routing data, binary MRT (RFC 6396) and bgpdump -m
// text, into a stream of Route events that every later stage consumes the
// same way, whatever the source (see Source).
package mrt

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"time"

	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
)

// Options configure a Reader.
type Options struct {
	// Name is the file name used in error messages; empty means "input".
	Name string
}

// MRT record types (RFC 6396 §4).
const (
	typeTableDump   = 12
	typeTableDumpV2 = 13
	typeBGP4MP      = 16
	typeBGP4MPET    = 17
)

// headerLen is the MRT common header length (RFC 6396 §2).
const headerLen = 12

// maxRecordLen bounds the body we buffer: the largest real TABLE_DUMP_V2
// record (one prefix seen by every peer of a big collector) is a few
// hundred KiB, so a larger length is corruption, and buffering it could
// exhaust memory. Such a record is discarded without being buffered.
const maxRecordLen = 16 << 20

// readerBufSize is the bufio buffer: large reads amortise the cost of the
// decompressor's Read calls.
const readerBufSize = 1 << 20

// Reader decodes binary MRT (RFC 6396) into Route events: TABLE_DUMP_V2
// RIB entries (with RFC 8050 ADD-PATH), legacy TABLE_DUMP, and BGP4MP /
// BGP4MP_ET UPDATEs and state changes. It implements Source.
//
// The hot path (RIB entries, UPDATE NLRI) allocates nothing per event: the
// Route returned by Route and its Path segments are reused by the next call
// to Next, so copy what must outlive it. A Reader is not safe for concurrent
// use.
//
// Corrupt records are skipped and counted (Stats.Skipped["corrupt"],
// Stats.Problems); a malformed path attribute drops only the entries or NLRI
// it belongs to (Stats.Skipped["malformed_attribute"]). A truncated last
// record ends the stream with an error wrapping io.ErrUnexpectedEOF.
//
// Route.Time is the MRT header time (with BGP4MP_ET microseconds): the dump
// time for RIB entries, as bgpdump prints it, not the entry's originated
// time.
//
// NLRI and RIB prefixes with host bits set are masked, not dropped (RFC 4271
// §4.3: the prefix is "padded with enough trailing bits to make the end of
// the field fall on an octet boundary ... the value of trailing bits is
// irrelevant"); they are counted by Masked, not in Stats.Skipped, since the
// route is still delivered.
type Reader struct {
	br   *bufio.Reader
	name string
	buf  []byte // bodies larger than the bufio buffer
	// peeked is the length of the body last used in place in br's buffer.
	peeked int

	pos     int64 // bytes consumed from br
	off     int64 // end of the current record: pos plus the record peeked
	recNo   int64 // 1-based number of the current record
	recOff  int64 // offset of the current record
	recTime time.Time
	err     error
	done    bool
	// suspect: the current record was corrupt, so its length may be wrong
	// and the next one must validate strictly (see readRecord).
	suspect bool
	lastTS  uint32 // header time of the last sound record, for resync
	haveTS  bool
	prevPIT bool // the last record was a sound PEER_INDEX_TABLE

	route     route.Route
	peers     []route.Peer
	peerByKey map[peerKey]int
	stats     route.Stats
	masked    int64

	pend pendKind

	// TABLE_DUMP_V2 RIB record being iterated.
	rib ribState
	// BGP4MP UPDATE being iterated.
	upd updState

	attr attrs
	// AS path buffers: A is AS_PATH, B is AS4_PATH, M is the merged path.
	segA, segB, segM []rov.Segment
	asnA, asnB, asnM []uint32
}

type pendKind uint8

const (
	pendNone pendKind = iota
	pendRIB
	pendUpdate
)

type peerKey struct {
	as uint32
	ip netip.Addr
}

// NewReader returns a Reader over r, which must already be decompressed.
func NewReader(r io.Reader, opt Options) *Reader {
	name := opt.Name
	if name == "" {
		name = "input"
	}
	rd := &Reader{
		br:        bufio.NewReaderSize(r, readerBufSize),
		name:      name,
		peerByKey: make(map[peerKey]int),
	}
	rd.stats.Skipped = make(map[string]int64)
	rd.route.RPKIState = route.RPKIAbsent
	return rd
}

// Route returns the current event. It and its Path are overwritten by the
// next call to Next.
func (r *Reader) Route() *route.Route { return &r.route }

// Err returns nil after a clean end of input, or the error that stopped
// the Reader (wrapping io.ErrUnexpectedEOF for a truncated last record).
func (r *Reader) Err() error { return r.err }

// Peers lists the peers seen so far, indexed by Peer.Index: the latest
// PEER_INDEX_TABLE for TABLE_DUMP_V2, first-seen (AS, IP) order for
// BGP4MP and TABLE_DUMP. The slice is shared; do not modify it.
func (r *Reader) Peers() []route.Peer { return r.peers }

// Masked counts the events whose prefix had host bits set on the wire and
// was masked (as bgpdumptext.Reader.Masked does for text input).
func (r *Reader) Masked() int64 { return r.masked }

// Stats returns the counters so far. Skipped and Problems are copies, so
// the result stays valid while the Reader goes on.
func (r *Reader) Stats() route.Stats {
	s := r.stats
	s.Bytes = r.off
	s.Skipped = make(map[string]int64, len(r.stats.Skipped))
	for k, v := range r.stats.Skipped {
		s.Skipped[k] = v
	}
	s.Problems = append([]route.Problem(nil), r.stats.Problems...)
	return s
}

// Next advances to the next event. It returns false at the end of input or
// when reading failed (see Err).
func (r *Reader) Next() bool {
	for {
		switch r.pend {
		case pendRIB:
			if r.nextRIB() {
				r.stats.Routes++
				return true
			}
		case pendUpdate:
			if r.nextUpdate() {
				r.stats.Routes++
				return true
			}
		}
		r.pend = pendNone
		if r.done {
			return false
		}
		if r.readRecord() {
			r.stats.Routes++
			return true
		}
	}
}

// readRecord reads and dispatches one record. It returns true when the
// record itself produced an event (PeerDown); otherwise it may have set
// r.pend so that Next iterates the record's entries.
//
// A record found corrupt stays in the buffer (when it fits) until the next
// header has been checked: if what follows it is not a sound record, the
// corrupt record's length was probably wrong, and resynchronisation starts
// inside it rather than after it (see resync).
func (r *Reader) readRecord() bool {
	base := 0 // bytes of a suspect previous record still in the buffer
	if r.peeked > 0 {
		if r.suspect && r.peeked+headerLen <= r.br.Size() {
			base = r.peeked
		} else {
			r.consume(r.peeked)
		}
		r.peeked = 0
	}
	suspect := r.suspect
	r.suspect = false
	hdr, err := r.br.Peek(base + headerLen)
	if len(hdr) < base+headerLen {
		if suspect && base > 0 && len(hdr) > base && err == io.EOF {
			// A few bytes after a corrupt record, too few for a header:
			// the corrupt record's length was probably short.
			r.off = r.recOff
			return r.resync(r.recOff, r.recNo, "input ends with a partial header after it")
		}
		r.consume(base)
		r.recOff = r.off
		if len(hdr) == base && err == io.EOF {
			r.done = true
			return false
		}
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		r.consume(len(hdr) - base)
		r.fail(err)
		return false
	}
	h := hdr[base:]
	ts := binary.BigEndian.Uint32(h[0:4])
	typ := binary.BigEndian.Uint16(h[4:6])
	sub := binary.BigEndian.Uint16(h[6:8])
	length := binary.BigEndian.Uint32(h[8:12])
	var why string
	switch {
	case !registeredType(typ):
		why = fmt.Sprintf("record type %d is not an MRT type", typ)
	case length > maxLenFor(typ):
		why = fmt.Sprintf("record length %d exceeds the %d limit", length, maxLenFor(typ))
	case suspect && !r.soundAt(base):
		why = "no sound record after it"
	}
	if why != "" {
		if r.prevPIT && base == 0 {
			// The PEER_INDEX_TABLE just read decoded, but the framing is
			// lost right after it: its length, and so its peers, may be
			// wrong, and RIB entries would name the wrong peers. Drop it:
			// RIB records are skipped until the next one.
			r.peers = nil
			clear(r.peerByKey)
			r.addProblem("PEER_INDEX_TABLE before lost framing dropped: RIB entries are skipped until the next one")
		}
		// Framing lost: resynchronise from inside the suspect record if it
		// is still buffered, else from this header.
		from, fromNo := r.off, r.recNo+1
		if base > 0 {
			from, fromNo = r.recOff, r.recNo
			r.off = r.recOff
		}
		return r.resync(from, fromNo, why)
	}
	r.consume(base)
	r.recOff = r.off
	r.recNo++
	r.stats.Records++
	body, err := r.readBody(int(length))
	if err != nil {
		r.fail(err)
		return false
	}
	r.recTime = time.Unix(int64(ts), 0).UTC()
	event := r.dispatch(typ, sub, body)
	r.prevPIT = !r.suspect && typ == typeTableDumpV2 && sub == tdPeerIndexTable
	if !r.suspect && knownSubtype(typ, sub) {
		r.lastTS, r.haveTS = ts, true
		r.stats.NoteTime(r.recTime)
	}
	return event
}

// dispatch decodes a record body by type.
func (r *Reader) dispatch(typ, sub uint16, body []byte) bool {
	switch typ {
	case typeTableDumpV2:
		r.tableDumpV2(sub, body)
	case typeTableDump:
		return r.tableDump(sub, body)
	case typeBGP4MP:
		return r.bgp4mp(sub, body)
	case typeBGP4MPET:
		// RFC 6396 §3: the ET types carry a microsecond timestamp after the
		// common header, counted in its Length.
		if len(body) < 4 {
			r.corrupt(errors.New("BGP4MP_ET: no room for the microsecond timestamp"))
			return false
		}
		us := binary.BigEndian.Uint32(body[:4])
		// A value of a second or more is nonsense; the whole seconds of
		// the common header still stand.
		if us < 1000000 {
			r.recTime = r.recTime.Add(time.Duration(us) * time.Microsecond)
		}
		return r.bgp4mp(sub, body[4:])
	default:
		r.skip("unknown_type")
	}
	return false
}

// consume drops n bytes the Reader is done with from the buffer.
func (r *Reader) consume(n int) {
	d, _ := r.br.Discard(n)
	r.pos += int64(d)
	r.off = r.pos
}

// readBody returns the record body of the header at the buffer's start. A
// record that fits the bufio buffer is used in place (Peek), saving a copy;
// it stays valid until the next record is read, and r.peeked bytes (header
// and body) are consumed then. A larger body is copied into the reused
// buffer, which grows with the bytes actually read, so a corrupt or cut
// record claiming megabytes cannot make the Reader allocate them. On error,
// every byte that was there is consumed.
func (r *Reader) readBody(length int) ([]byte, error) {
	if headerLen+length <= r.br.Size() {
		rec, err := r.br.Peek(headerLen + length)
		if err != nil {
			r.consume(len(rec))
			return nil, err
		}
		r.peeked = headerLen + length
		r.off = r.pos + int64(r.peeked)
		return rec[headerLen:], nil
	}
	r.consume(headerLen)
	buf := r.buf[:0]
	for len(buf) < length {
		chunk := min(length-len(buf), max(len(buf), 64<<10))
		buf = slices.Grow(buf, chunk)
		n, err := io.ReadFull(r.br, buf[len(buf):len(buf)+chunk])
		buf = buf[:len(buf)+n]
		r.pos += int64(n)
		r.off = r.pos
		if err != nil {
			r.buf = buf[:0]
			return nil, err
		}
	}
	r.buf = buf
	return buf, nil
}

// fail ends the stream after a read error. Running out of input inside a
// record (or the decompressor reporting a cut stream) is a truncated record.
func (r *Reader) fail(err error) {
	r.done = true
	no := r.recNo
	if r.off-r.recOff < headerLen {
		no++ // the header itself was not read whole: the record was not counted
	}
	// io.EOF here means the input ended inside a record; ErrUnexpectedEOF
	// may also come from the decompressor, even on a record boundary.
	if ie := route.InputErrorOf(r.name, err, no, r.recOff, no-1, r.stats.Routes); ie != nil {
		r.err = ie
		return
	}
	r.err = fmt.Errorf("mrt: %s: reading record %d at offset %d: %w", r.name, no, r.recOff, err)
}

// corrupt counts the current record as corrupt and remembers why; the
// record after it must then validate strictly (readRecord).
func (r *Reader) corrupt(err error) {
	r.suspect = true
	r.stats.Skipped["corrupt"]++
	if len(r.stats.Problems) < route.MaxProblems {
		r.stats.Problems = append(r.stats.Problems, route.Problem{Record: r.recNo, Offset: r.recOff, Err: err.Error()})
	}
}

func (r *Reader) skip(reason string) { r.stats.Skipped[reason]++ }

// peerFor returns the index of the BGP4MP / TABLE_DUMP peer (as, ip),
// adding it on first sight.
func (r *Reader) peerFor(as uint32, ip netip.Addr) int {
	k := peerKey{as, ip}
	if i, ok := r.peerByKey[k]; ok {
		return i
	}
	i := len(r.peers)
	r.peers = append(r.peers, route.Peer{Index: i, AS: as, IP: ip})
	r.peerByKey[k] = i
	return i
}

// setEventHeader resets the reused Route for a new event.
func (r *Reader) setEventHeader(kind route.Kind, peer int, fromUpdate bool) {
	rt := &r.route
	rt.Kind = kind
	rt.Time = r.recTime
	rt.Peer = r.peers[peer]
	rt.FromUpdate = fromUpdate
	rt.PathID = 0
	rt.Path = nil
	rt.Origin = rov.Origin{}
	rt.NextHop = netip.Addr{}
	rt.RPKIState = route.RPKIAbsent
	rt.Prefix = netip.Prefix{}
}
