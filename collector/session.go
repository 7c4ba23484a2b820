package collector

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/rovimpact/rovimpact/route"
)

// SessionState is the state of a BGP session's finite state machine
// (RFC 4271 §8.2.2). A BMP station learns only two of them from the router:
// a Peer Up notification means Established (RFC 7854 §4.10), a Peer Down
// notification means the session left it (§4.9); it reports the latter as
// Idle.
type SessionState uint8

const (
	SessionIdle SessionState = iota + 1
	SessionConnect
	SessionActive
	SessionOpenSent
	SessionOpenConfirm
	SessionEstablished
)

func (s SessionState) String() string {
	switch s {
	case SessionIdle:
		return "idle"
	case SessionConnect:
		return "connect"
	case SessionActive:
		return "active"
	case SessionOpenSent:
		return "opensent"
	case SessionOpenConfirm:
		return "openconfirm"
	case SessionEstablished:
		return "established"
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// SessionEvent reports a session reaching Established or leaving it. Only
// these two edges are reported: a peer that is simply absent cycles through
// Active, OpenSent and Idle at every connection attempt, and none of that
// changes which routes are held.
type SessionEvent struct {
	// Peer is the peer as route events name it (same Index); its AS is the
	// last one the session announced (for a neighbour configured without
	// an AS, or a dynamic neighbour, the one its OPEN gave).
	Peer route.Peer
	// State is SessionEstablished, or the state the session went to on
	// leaving it (always Idle: RFC 4271 §8.2.2 sends every error and
	// close from Established to Idle).
	State SessionState
	// Reason says why a session left Established. BGP: the first
	// NOTIFICATION sent or received ("notification-sent code 1(header)
	// subcode 3(bad message type)", "notification-received code 6(cease)
	// subcode 2(administrative shutdown)", hold timer expiry is a
	// NOTIFICATION sent), "connection closed by peer", "read-failed: ...",
	// "collector closed", followed by "; graceful restart: N routes kept
	// stale for up to T" when RFC 4724 keeps its routes. BMP: the Peer Down
	// reason (RFC 7854 §4.9) or "router connection closed". Empty for
	// Established.
	Reason string
	// Router is the BMP router that reported the peer; zero for BGP.
	Router netip.AddrPort
	// Time is when it happened: the BMP per-peer header's timestamp, or the
	// collector's clock.
	Time time.Time
	// EndOfRIB marks an established session's initial table as complete:
	// the End-of-RIB marker (RFC 4724 §2) of every family the session
	// carries has arrived (BGP: from the peer; BMP: in route monitoring,
	// RFC 7854 §5). State is SessionEstablished.
	EndOfRIB bool
}

// Up reports whether the event is a session reaching Established.
func (e SessionEvent) Up() bool { return e.State == SessionEstablished }

// SessionHandler receives session events. It is called under the same
// lock as the Handler, never concurrently with it or with itself, and in
// order with the route events: a session's Established event comes before
// its first route, its leaving event before the PeerDown route event that
// flushes its paths. Like a Handler, it must not call the source's Stats or
// Peers.
type SessionHandler func(SessionEvent)

// sessionLocked passes ev to the session handler, if any; e.mu must be held.
func (e *emitter) sessionLocked(ev SessionEvent) {
	if e.onSession != nil {
		e.onSession(ev)
	}
}
