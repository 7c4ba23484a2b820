package mrt

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
// the life of one Reader and indexes Reader.Peers().
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

// Route is one path event read from an MRT file.
//
// The Reader reuses a Route and the Path slices between calls: copy what
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
}
