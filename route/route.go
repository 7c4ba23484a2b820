// Package route holds what every route reader yields and every route
// table consumes: the neutral path event (Route, from a binary MRT file, a
// bgpdump text line, a BGP session or a BMP station), the peer it came
// from, the one PeerKey that identifies a neighbour across sources, the
// Source interface and its Stats, and the one Adj-RIB-In replay rule
// (Replay) that every table built from path events applies.
package route

import (
	"net/netip"
	"time"

	"github.com/rovimpact/rovimpact/rov"
)

// Kind says what a Route event means.
type Kind uint8

const (
	// Announce: a RIB entry, or an UPDATE announcing Prefix.
	Announce Kind = iota
	// Withdraw: an UPDATE withdrawing Prefix (with PathID under ADD-PATH).
	// Only Kind, Time, Peer, Prefix and PathID are set.
	Withdraw
	// PeerDown: a STATE_CHANGE leaving Established for Peer: every route
	// learned from Peer is gone. Only Kind, Time and Peer are set.
	PeerDown
)

// Peer identifies the BGP neighbour a route was learned from.
// Index is the reader's compact number for the peer (the PEER_INDEX_TABLE
// position for TABLE_DUMP_V2, first-seen order otherwise); it is stable for
// the life of one Source and indexes Source.Peers().
type Peer struct {
	Index int
	AS    uint32
	IP    netip.Addr
	BGPID netip.Addr
}

// RPKIState is the RFC 8097 BGP Prefix Origin Validation State extended
// community a router attached to the route, if any.
type RPKIState int8

const (
	RPKIAbsent   RPKIState = -1
	RPKIValid    RPKIState = 0
	RPKINotFound RPKIState = 1
	RPKIInvalid  RPKIState = 2
)

// Route is one path event: a RIB entry, an UPDATE's announcement or
// withdrawal, or a session leaving Established.
//
// A Source reuses a Route and the Path slices between calls: copy what
// must outlive the next call to Next.
type Route struct {
	Kind      Kind
	Time      time.Time
	Peer      Peer
	Prefix    netip.Prefix // always masked
	PathID    uint32       // RFC 7911 / RFC 8050 path identifier; 0 without ADD-PATH
	Path      []rov.Segment
	Origin    rov.Origin // per RFC 6811 §2, from Path (after the AS4_PATH merge)
	NextHop   netip.Addr
	RPKIState RPKIState
	// FromUpdate is true when the event came from a BGP UPDATE or a state
	// change (BGP4MP records, or BGP4MP lines of bgpdump -m text) and false
	// for RIB dump entries (TABLE_DUMP, TABLE_DUMP_V2). Update streams must be
	// replayed (an announcement replaces the peer's previous path for the
	// prefix); RIB entries can be counted as they stream past.
	FromUpdate bool
}

// Source yields Route events one at a time: the binary MRT reader (package
// mrt) and the text reader (package bgpdumptext: bgpdump -m lines,
// "prefix origin" lines) both implement it, so
// everything downstream treats them alike.
//
//	for src.Next() { r := src.Route(); ... }
//	if err := src.Err(); err != nil { ... }
type Source interface {
	// Next advances to the next event; false at the end of input or on a
	// fatal error (see Err).
	Next() bool
	// Route returns the current event; it is reused by the next call to Next.
	Route() *Route
	// Err returns nil after a clean end of input. A truncated last record
	// yields an error wrapping io.ErrUnexpectedEOF, returned only after
	// every complete record was delivered.
	Err() error
	// Peers lists the peers seen so far, indexed by Peer.Index.
	Peers() []Peer
	// Stats counts what was read and what was skipped, and why.
	Stats() Stats
}

// Stats counts what a Source read and what it skipped: nothing is dropped
// without being counted here.
type Stats struct {
	Bytes   int64 // input bytes consumed (after decompression)
	Records int64 // MRT records, or text lines, read
	Routes  int64 // Route events yielded
	// Skipped counts records or entries not turned into routes, by reason,
	// with stable snake_case keys ("rib_generic", "multicast", "corrupt",
	// "bgp4mp_keepalive", ...).
	Skipped map[string]int64
	// SkippedBytes counts the bytes passed over while resynchronising
	// after the framing was lost (Skipped["resync"] counts the episodes),
	// from the start of the record that lost it; the binary reader only.
	// Like Skipped["corrupt"], it means routes may be missing although the
	// input was read to its end.
	SkippedBytes int64
	// Problems describes the first corrupt records (at most MaxProblems).
	Problems []Problem
	// First and Last are the earliest and latest timestamps of the sound
	// records read (the MRT common header's, RFC 6396 §2; bgpdump's TIME
	// field): the time the routes describe. Zero when no record carried
	// one ("prefix origin" text).
	First, Last time.Time
}

// NoteTime widens the record time range to t (zero t: no time).
func (s *Stats) NoteTime(t time.Time) {
	if t.IsZero() {
		return
	}
	if s.First.IsZero() || t.Before(s.First) {
		s.First = t
	}
	if t.After(s.Last) {
		s.Last = t
	}
}

// MaxProblems bounds Stats.Problems so a badly broken file cannot exhaust
// memory; Skipped still counts every corrupt record.
const MaxProblems = 100

// Problem describes one corrupt record that was skipped.
type Problem struct {
	Record int64  // 1-based record (or line) number
	Offset int64  // byte offset of the record in the decompressed input
	Err    string // what was wrong
}

// PeerKey identifies a BGP neighbour across files, readers and sources:
// two readers number the same peer differently (Peer.Index), but its AS
// and address stay the same.
type PeerKey struct {
	AS uint32
	IP netip.Addr
}

// KeyOf returns the PeerKey of p.
func KeyOf(p Peer) PeerKey { return PeerKey{AS: p.AS, IP: p.IP} }
