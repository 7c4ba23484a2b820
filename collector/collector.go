// Package collector holds the live route sources of `rovimpact watch`: an
// embedded BGP speaker that only listens (BGP), and a BMP station (BMP,
// RFC 7854). Both turn what they hear into route.Route events, the same event
// type the MRT readers yield, so the table downstream treats a live peer and
// a peer read from a file alike.
//
// Sources only produce routes; they never validate. Everything they do not
// turn into an event is counted in Stats, by reason.
package collector

import (
	"net/netip"
	"sync"
	"time"

	"github.com/rovimpact/rovimpact/route"
)

// Handler receives route events. A source calls it from one goroutine at a
// time (calls never overlap), and reuses the Route and its Path slices after
// the call returns: copy what must outlive the call. A slow Handler slows
// the source down (BGP stops reading the peer's socket, so TCP flow
// control slows the peer; BMP stops reading its sockets), it never loses
// events. The source's lock is held during the
// call: a Handler must not call the source's Stats or Peers (it would
// deadlock); read the Route's Peer instead.
type Handler func(r *route.Route)

// peerKey identifies a peer inside one source. A BGP peer is its neighbour
// address (the other fields zero; its AS and BGP identifier are refreshed
// from the session). A BMP peer is the router connection it was reported
// on and the whole per-peer header identity (RFC 7854 §4.2: distinguisher,
// address, AS, BGP ID): the same address under another AS or BGP ID is
// another BGP session, hence another peer (see bmpSession.peer).
type peerKey struct {
	Conn  uint64 // BMP: the router connection (numbered from 1); BGP: 0
	Dist  uint64
	Addr  netip.Addr
	AS    uint32     // BMP only
	BGPID netip.Addr // BMP only
}

// emitter serialises calls to the Handler and owns the peer numbering and
// the counters, so every goroutine of a source shares one view of them.
type emitter struct {
	mu    sync.Mutex
	h     Handler
	stats route.Stats
	index map[peerKey]int
	peers []route.Peer
	// free lists the indexes of released peers (BMP peers after their
	// PeerDown event), reused before new ones so that a router that
	// reconnects, or renumbers its peers, does not grow the numbering.
	free []int
	// onSession is the source's SessionHandler (nil: none), set before the
	// source starts.
	onSession SessionHandler
}

func newEmitter(h Handler) *emitter {
	return &emitter{h: h, stats: route.Stats{Skipped: map[string]int64{}}, index: map[peerKey]int{}}
}

// peerLocked returns the peer for k, numbering it on first sight and
// refreshing its AS and BGP identifier when they are known (non-zero).
func (e *emitter) peerLocked(k peerKey, as uint32, id netip.Addr) route.Peer {
	i, ok := e.index[k]
	if !ok {
		if n := len(e.free); n > 0 {
			i = e.free[n-1]
			e.free = e.free[:n-1]
			e.peers[i] = route.Peer{Index: i, IP: k.Addr}
		} else {
			i = len(e.peers)
			e.peers = append(e.peers, route.Peer{Index: i, IP: k.Addr})
		}
		e.index[k] = i
	}
	p := &e.peers[i]
	if as != 0 {
		p.AS = as
	}
	if id.IsValid() && !id.IsUnspecified() {
		p.BGPID = id
	}
	return *p
}

// releaseLocked forgets peer k after its PeerDown event: its index is
// reused by the next new peer. e.mu must be held.
func (e *emitter) releaseLocked(k peerKey) {
	if i, ok := e.index[k]; ok {
		delete(e.index, k)
		e.free = append(e.free, i)
	}
}

// emitLocked counts r and hands it to the Handler; e.mu must be held.
func (e *emitter) emitLocked(r *route.Route) {
	e.stats.Routes++
	e.h(r)
}

func (e *emitter) skip(reason string, n int64) {
	e.mu.Lock()
	e.stats.Skipped[reason] += n
	e.mu.Unlock()
}

func (e *emitter) problem(reason string, rec, off int64, err error) {
	e.mu.Lock()
	e.stats.Skipped[reason]++
	if len(e.stats.Problems) < route.MaxProblems {
		e.stats.Problems = append(e.stats.Problems, route.Problem{Record: rec, Offset: off, Err: err.Error()})
	}
	e.mu.Unlock()
}

func (e *emitter) snapshot() route.Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.stats
	s.Skipped = make(map[string]int64, len(e.stats.Skipped))
	for k, v := range e.stats.Skipped {
		s.Skipped[k] = v
	}
	s.Problems = append([]route.Problem(nil), e.stats.Problems...)
	return s
}

func (e *emitter) peerList() []route.Peer {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]route.Peer(nil), e.peers...)
}

// timeNow is time.Now; events without a timestamp of their own get it.
var timeNow = time.Now
