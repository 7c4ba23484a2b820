package collector

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jwhited/corebgp"

	"github.com/rovimpact/rovimpact/mrt"
	"github.com/rovimpact/rovimpact/route"
)

// DefaultBGPListen is where the BGP collector listens unless told
// otherwise: loopback, on an unprivileged port, so that starting it exposes
// nothing and needs no root.
var DefaultBGPListen = netip.MustParseAddrPort("127.0.0.1:1179")

// Neighbor is a BGP peer the collector accepts a session from. AS 0 accepts
// whatever AS the peer's OPEN announces.
type Neighbor struct {
	Addr netip.Addr
	AS   uint32
}

// BGPConfig configures the BGP collector.
type BGPConfig struct {
	// Listen is the TCP address to accept sessions on; zero means
	// DefaultBGPListen. Port 0 is rejected: peers must be told the port.
	Listen netip.AddrPort
	// LocalAS and RouterID are what the collector announces in its OPEN.
	// Both are required. LocalAS is also the AS whose presence in a path
	// makes it a loop (RFC 4271 §9.1.2): configure the operator's AS and
	// the collector drops exactly the paths the operator's routers drop.
	LocalAS  uint32
	RouterID netip.Addr
	// Neighbors are accepted by address; Accept admits any peer whose
	// address falls in one of the prefixes with AcceptAS as its AS (0:
	// any). At least one of the two must be set: the collector never
	// accepts sessions from anyone. Connections from other addresses are
	// closed at once and counted ("conn_refused").
	Neighbors []Neighbor
	Accept    []netip.Prefix
	AcceptAS  uint32
	// MaxPrefixes is the per-peer, per-family limit on paths held; a peer
	// exceeding it is sent a CEASE "Maximum Number of Prefixes Reached"
	// (RFC 4486 §4 subcode 1) and its routes are flushed. 0: no limit.
	MaxPrefixes uint32
	// Logger receives session and error events; nil: slog.Default.
	Logger *slog.Logger
	// OnSession, if set, hears each session reaching Established and
	// leaving it (see SessionHandler): a peer that sends no route is seen
	// up all the same.
	OnSession SessionHandler
}

// GracefulRestartStaleLimit bounds how long routes a restarting peer left
// stale are kept once its session is back, waiting for its End-of-RIB
// (RFC 4724 §4.2: an implementation "MAY support a (configurable) timer
// that limits the time for which the stale routes are retained").
var GracefulRestartStaleLimit = 360 * time.Second

// openPeekTimeout bounds how long a peer whose AS is not configured may
// take to send its OPEN: its AS is read from it before the session starts.
const openPeekTimeout = 10 * time.Second

// BGP is a passive, listen-only BGP speaker (github.com/jwhited/corebgp's
// FSM) that accepts sessions from configured peers and never advertises a
// route. It negotiates 4-octet ASNs (RFC 6793), IPv4 and IPv6 unicast
// (RFC 4760), ADD-PATH receive (RFC 7911), route refresh (RFC 2918: a
// received ROUTE-REFRESH is answered by nothing, as our Adj-RIB-Out is
// empty) and graceful restart in the receiving-speaker role (RFC 4724).
//
// Every UPDATE goes through mrt.UpdateDecoder, and its RFC 7606 handling
// is applied: treat-as-withdraw withdraws the NLRI, AFI/SAFI disable
// flushes the family and ignores it until the session ends, session reset
// sends the NOTIFICATION. A path containing LocalAS is a loop: its prefix
// is withdrawn (the router holds nothing usable from the peer for it).
//
// Memory: the collector keeps, per peer, the set of (prefix, path ID) it
// holds (a map of 20–30 bytes a path; a full-table peer's IPv4 prefixes up
// to /24 in 4 MiB of bitmaps, see pathSet): it needs it to flush a family,
// to sweep stale routes after a graceful restart and to count towards
// MaxPrefixes. Paths themselves live only in the Handler's table.
//
// Speed: an established session's UPDATEs are applied on the reading
// goroutine of its connection rather than handed through corebgp's FSM
// goroutine, wherever the order and the FSM's answers stay the same (see
// bgpConn.intercept).
type BGP struct {
	cfg BGPConfig
	em  *emitter
	log *slog.Logger
	srv *corebgp.Server
	ln  net.Listener
	acc *acceptor

	mu      sync.Mutex // guards peers; never held while taking em.mu
	peers   map[netip.Addr]*bgpPeer
	closing atomic.Bool

	cancel context.CancelFunc
	once   sync.Once
	served chan struct{}
}

// NewBGP checks cfg and returns a collector that calls h for each event;
// nothing listens before Start.
func NewBGP(cfg BGPConfig, h Handler) (*BGP, error) {
	if !cfg.Listen.IsValid() {
		cfg.Listen = DefaultBGPListen
	}
	if cfg.Listen.Port() == 0 {
		return nil, fmt.Errorf("collector: BGP listen %s: port 0 is not supported", cfg.Listen)
	}
	if cfg.LocalAS == 0 {
		return nil, errors.New("collector: BGP local AS is required")
	}
	if !cfg.RouterID.Is4() {
		return nil, fmt.Errorf("collector: BGP router ID %q must be an IPv4 address", cfg.RouterID)
	}
	if len(cfg.Neighbors) == 0 && len(cfg.Accept) == 0 {
		return nil, errors.New("collector: BGP needs at least one neighbor or accepted prefix")
	}
	for _, n := range cfg.Neighbors {
		if !n.Addr.IsValid() {
			return nil, errors.New("collector: BGP neighbor without address")
		}
	}
	for i, p := range cfg.Accept {
		if !p.IsValid() {
			return nil, fmt.Errorf("collector: BGP accepted prefix %d is invalid", i)
		}
		cfg.Accept[i] = p.Masked()
	}
	l := cfg.Logger
	if l == nil {
		l = slog.Default()
	}
	em := newEmitter(h)
	em.onSession = cfg.OnSession
	return &BGP{cfg: cfg, em: em, log: l, peers: map[netip.Addr]*bgpPeer{}, served: make(chan struct{})}, nil
}

// Start binds the listener and starts accepting sessions; it returns once
// the listener is bound. Cancelling ctx or calling Close stops it.
func (b *BGP) Start(ctx context.Context) error {
	srv, err := corebgp.NewServer(b.cfg.RouterID)
	if err != nil {
		return fmt.Errorf("collector: BGP: %w", err)
	}
	ln, err := net.Listen("tcp", b.cfg.Listen.String())
	if err != nil {
		return fmt.Errorf("collector: BGP listen on %s: %w", b.cfg.Listen, err)
	}
	b.srv, b.ln = srv, ln
	b.acc = &acceptor{ln: ln, ch: make(chan net.Conn), done: make(chan struct{})}
	ctx, b.cancel = context.WithCancel(ctx)
	context.AfterFunc(ctx, func() { b.Close() })
	go func() {
		defer close(b.served)
		srv.Serve([]net.Listener{b.acc}) // returns at Close
	}()
	go b.acceptLoop()
	return nil
}

// Close stops the speaker. Peers still established get a NOTIFICATION
// (CEASE), then a session event and a PeerDown event: once the collector
// is gone nothing vouches for their routes. Routes kept stale for a
// restarting peer are flushed too.
func (b *BGP) Close() error {
	b.once.Do(func() {
		b.closing.Store(true)
		if b.cancel != nil {
			b.cancel()
		}
		if b.srv != nil {
			b.acc.Close()
			b.srv.Close() // stops every peer: OnClose runs for established ones
			<-b.served
		}
		b.mu.Lock()
		peers := make([]*bgpPeer, 0, len(b.peers))
		for _, p := range b.peers {
			peers = append(peers, p)
		}
		b.mu.Unlock()
		b.em.mu.Lock()
		defer b.em.mu.Unlock()
		for _, p := range peers {
			if p.established {
				p.downLocked("collector closed", false)
			} else if p.paths.len() > 0 {
				p.flushLocked()
			}
			p.stopTimerLocked()
		}
	})
	return nil
}

// Stats counts UPDATEs received (Records, Bytes), route events (Routes)
// and everything not turned into a route, by reason (Skipped):
// treat_as_withdraw, attribute_discard, afisafi_disable, session_reset,
// as_loop, family, prefix_limit, end_of_rib, route_refresh, conn_refused,
// gr_stale_flushed, ...
func (b *BGP) Stats() route.Stats { return b.em.snapshot() }

// Peers lists peers seen so far, indexed by route.Peer.Index.
func (b *BGP) Peers() []route.Peer { return b.em.peerList() }

// acceptor is the listener corebgp serves: it hands over only connections
// the collector admitted, from registered peers.
type acceptor struct {
	ln   net.Listener
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
}

func (a *acceptor) Accept() (net.Conn, error) {
	select {
	case c := <-a.ch:
		return c, nil
	case <-a.done:
		return nil, net.ErrClosed
	}
}

func (a *acceptor) Close() error {
	a.once.Do(func() { close(a.done); a.ln.Close() })
	return nil
}

func (a *acceptor) Addr() net.Addr { return a.ln.Addr() }

func (b *BGP) acceptLoop() {
	for {
		c, err := b.ln.Accept()
		if err != nil {
			select {
			case <-b.acc.done:
				return
			default:
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			b.log.Error("bgp_accept_failed", "err", err, "effect", "no more sessions are accepted")
			return
		}
		go b.admit(c)
	}
}

// peerAS returns the AS configured for addr, and whether addr may connect
// at all.
func (b *BGP) peerAS(addr netip.Addr) (uint32, bool, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.allowedLocked(addr)
}

// allowedLocked is peerAS with b.mu held (SetPeers changes the lists).
func (b *BGP) allowedLocked(addr netip.Addr) (uint32, bool, bool) {
	for _, n := range b.cfg.Neighbors {
		if n.Addr.Unmap() == addr {
			return n.AS, false, true
		}
	}
	for _, p := range b.cfg.Accept {
		if p.Contains(addr) {
			return b.cfg.AcceptAS, true, true
		}
	}
	return 0, false, false
}

// admit checks an incoming connection against the allow-list, learns the
// peer's AS from its OPEN when none is configured, registers the peer with
// corebgp and hands the connection over.
func (b *BGP) admit(raw net.Conn) {
	addr := raw.RemoteAddr().(*net.TCPAddr).AddrPort().Addr().Unmap()
	as, dynamic, ok := b.peerAS(addr)
	if !ok {
		b.em.skip("conn_refused", 1)
		b.log.Warn("bgp_connection_refused", "peer_ip", addr, "reason", "peer not configured")
		raw.Close()
		return
	}
	c := newBGPConn(raw)
	if as == 0 {
		raw.SetReadDeadline(time.Now().Add(openPeekTimeout))
		var err error
		as, err = c.peekOpenAS()
		raw.SetReadDeadline(time.Time{})
		if err != nil {
			b.em.skip("conn_bad_open", 1)
			b.log.Warn("bgp_connection_closed_before_session", "peer_ip", addr, "err", err)
			raw.Close()
			return
		}
	}
	b.mu.Lock()
	if b.closing.Load() {
		b.mu.Unlock()
		raw.Close()
		return
	}
	// SetPeers may have removed the peer since it was looked up.
	if _, _, ok := b.allowedLocked(addr); !ok {
		b.mu.Unlock()
		b.em.skip("conn_refused", 1) // em.mu is never taken with b.mu held
		raw.Close()
		return
	}
	p := b.peers[addr]
	if p == nil {
		p = &bgpPeer{b: b, addr: addr, dynamic: dynamic}
		b.peers[addr] = p
	}
	// A fresh corebgp peer for each connection once the previous one is
	// gone: corebgp holds a peer down for 60 to 300 s after any error
	// NOTIFICATION (its damping), and a collector must take a peer back
	// as soon as it reconnects. A connection arriving while another is
	// live goes to the registered peer, whose FSM resolves the collision
	// (RFC 4271 §6.8).
	if p.conns.Load() == 0 && (p.registered || p.as != as) {
		if p.registered {
			b.srv.DeletePeer(addr)
			p.registered = false
		}
	}
	if !p.registered {
		err := b.srv.AddPeer(corebgp.PeerConfig{RemoteAddress: addr, LocalAS: b.cfg.LocalAS, RemoteAS: as}, p,
			corebgp.WithPassive())
		if err != nil {
			b.mu.Unlock()
			b.log.Error("bgp_peer_not_registered", "peer_ip", addr, "peer_as", as, "err", err)
			raw.Close()
			return
		}
		p.registered, p.as = true, as
	}
	p.conns.Add(1)
	c.p = p
	b.mu.Unlock()
	b.em.mu.Lock()
	p.live++
	p.lastConn = c
	b.em.mu.Unlock()
	select {
	case b.acc.ch <- c:
	case <-b.acc.done:
		c.Close()
	}
}

// Capabilities the collector advertises (RFC 5492), besides the 4-octet
// AS capability corebgp adds itself.
var bgpCapabilities = []corebgp.Capability{
	corebgp.NewMPExtensionsCapability(1, 1), // IPv4 unicast
	corebgp.NewMPExtensionsCapability(2, 1), // IPv6 unicast
	// RFC 7911 §4: Send/Receive 1, "able to receive multiple paths".
	corebgp.NewAddPathCapability([]corebgp.AddPathTuple{{AFI: 1, SAFI: 1, Rx: true}, {AFI: 2, SAFI: 1, Rx: true}}),
	// RFC 2918 §2: "willing to receive the ROUTE-REFRESH message".
	{Code: corebgp.CAP_ROUTE_REFRESH, Value: []byte{}},
	// RFC 4724 §3: "When a sender of this capability does not include any
	// <AFI, SAFI> in the capability, it means that the sender is not
	// capable of preserving its forwarding state during BGP restart, but
	// supports procedures for the Receiving Speaker". Restart Time 0:
	// we never restart with state.
	{Code: corebgp.CAP_GRACEFUL_RESTART, Value: []byte{0, 0}},
}

// bgpPeer is one neighbour address: its registration with corebgp (guarded
// by BGP.mu) and the state of its current session and of the paths held
// from it (guarded by the emitter's lock). It is corebgp's Plugin for the
// peer, and outlives the corebgp peer it is registered as.
type bgpPeer struct {
	b       *BGP
	addr    netip.Addr
	dynamic bool

	// Guarded by b.mu.
	registered bool
	as         uint32       // the AS corebgp expects
	conns      atomic.Int32 // connections handed to corebgp and not closed yet

	// reason says why the current session ended: the first
	// NOTIFICATION sent or received, or the read error; reasonMu guards it
	// (connections set it from their own goroutines).
	reasonMu    sync.Mutex
	reason      string
	reasonNotif bool

	// Guarded by b.em.mu.
	peer        route.Peer
	id          netip.Addr
	established bool
	next        sessionCaps // from the OPEN, applied at Established
	caps        sessionCaps // of the established session
	opts        mrt.UpdateOptions
	disabled    [mrt.NumFamilies]bool // RFC 7606 AFI/SAFI disable
	eor         [mrt.NumFamilies]bool
	paths       pathSet
	stale       [mrt.NumFamilies]bool // families with stale routes (RFC 4724)
	staleTimer  *time.Timer
	staleGen    int
	dec         mrt.UpdateDecoder
	route       route.Route
	// Connections (see bgpConn.intercept): live counts those handed to
	// corebgp and not closed, lastConn is the latest of them while it is
	// open, sessConn the one the established session runs on when that
	// is known (nil: UPDATEs all go through corebgp). pendingNotif is the
	// NOTIFICATION an intercepted UPDATE called for, returned when
	// corebgp delivers that UPDATE.
	live         int
	lastConn     *bgpConn
	sessConn     *bgpConn
	pendingNotif *corebgp.Notification
}

// initialTableDone: every family of the session has sent its End-of-RIB.
func (p *bgpPeer) initialTableDone() bool {
	for f, off := range p.opts.Disabled {
		if !off && !p.eor[f] {
			return false
		}
	}
	return true
}

// sessionCaps is what the peer's OPEN advertised.
type sessionCaps struct {
	families [mrt.NumFamilies]bool
	addPath  [mrt.NumFamilies]bool // the peer sends path identifiers
	gr       bool                  // RFC 4724 capability present
	grTime   time.Duration         // its Restart Time
	grFwd    [mrt.NumFamilies]bool // families listed (F bit in grKept)
	grKept   [mrt.NumFamilies]bool // F bit: forwarding state preserved
}

func (p *bgpPeer) GetCapabilities(corebgp.PeerConfig) []corebgp.Capability { return bgpCapabilities }

// OnOpenMessage reads the peer's capabilities. corebgp checked the AS,
// version, hold time and BGP Identifier (RFC 4271 §6.2) and the 4-octet AS
// capability, which it requires.
func (p *bgpPeer) OnOpenMessage(_ corebgp.PeerConfig, id netip.Addr, caps []corebgp.Capability) *corebgp.Notification {
	var c sessionCaps
	sawMP := false
	for _, cp := range caps {
		switch cp.Code {
		case corebgp.CAP_MP_EXTENSIONS:
			sawMP = true
			if len(cp.Value) == 4 {
				if f, ok := mrt.FamilyOf(binary.BigEndian.Uint16(cp.Value), cp.Value[3]); ok {
					c.families[f] = true
				}
			}
		case corebgp.CAP_ADD_PATH:
			// RFC 7911 §4: the peer may send path identifiers for a family
			// when it advertised Send (2 or 3) and we Receive (we do, for
			// both families).
			for v := cp.Value; len(v) >= 4; v = v[4:] {
				if f, ok := mrt.FamilyOf(binary.BigEndian.Uint16(v), v[2]); ok && v[3]&2 != 0 {
					c.addPath[f] = true
				}
			}
		case corebgp.CAP_GRACEFUL_RESTART:
			if len(cp.Value) < 2 {
				continue
			}
			c.gr = true
			c.grTime = time.Duration(binary.BigEndian.Uint16(cp.Value)&0x0fff) * time.Second
			for v := cp.Value[2:]; len(v) >= 4; v = v[4:] {
				if f, ok := mrt.FamilyOf(binary.BigEndian.Uint16(v), v[2]); ok {
					c.grFwd[f] = true
					c.grKept[f] = v[3]&0x80 != 0
				}
			}
		}
	}
	if !sawMP {
		// RFC 4760 §8 (and RFC 4271): a speaker without the
		// Multiprotocol capability speaks IPv4 unicast only.
		c.families[mrt.IPv4Unicast] = true
	}
	p.b.em.mu.Lock()
	p.next, p.id = c, id
	p.b.em.mu.Unlock()
	return nil
}

// OnEstablished starts a session: the families both ends advertised are
// accepted, nothing is disabled, and routes left stale by a graceful
// restart are kept only for the families the peer says it preserved.
func (p *bgpPeer) OnEstablished(pc corebgp.PeerConfig, _ corebgp.UpdateMessageWriter) corebgp.UpdateMessageHandler {
	p.reasonMu.Lock()
	p.reason, p.reasonNotif = "", false
	p.reasonMu.Unlock()
	em := p.b.em
	em.mu.Lock()
	defer em.mu.Unlock()
	p.established = true
	p.caps = p.next
	// The session's connection is known when only one is open; else
	// (a collision being resolved) every UPDATE goes through corebgp.
	p.sessConn, p.pendingNotif = nil, nil
	if p.live == 1 && p.lastConn != nil {
		p.sessConn = p.lastConn
	}
	p.disabled = [mrt.NumFamilies]bool{}
	p.eor = [mrt.NumFamilies]bool{}
	p.opts = mrt.UpdateOptions{AS4: true, AddPath: p.caps.addPath, IBGP: pc.RemoteAS == p.b.cfg.LocalAS, LocalAS: p.b.cfg.LocalAS}
	for f := range p.opts.Disabled {
		p.opts.Disabled[f] = !p.caps.families[f]
	}
	p.peer = em.peerLocked(peerKey{Addr: p.addr}, pc.RemoteAS, p.id)
	em.sessionLocked(SessionEvent{Peer: p.peer, State: SessionEstablished, Time: timeNow()})
	for f := range mrt.NumFamilies {
		if !p.stale[f] {
			continue
		}
		// RFC 4724 §4.2: "If the session does not get re-established
		// within the "Restart Time" ... [or] if the Graceful Restart
		// Capability is not received in the re-established session at
		// all, or if the F bit for an AFI/SAFI is not set ..., then the
		// Receiving Speaker MUST immediately remove all the stale routes
		// from the peer that it is retaining for that address family."
		if !p.caps.gr || !p.caps.grKept[f] {
			p.sweepLocked(f)
		}
	}
	if p.anyStale() {
		p.startTimerLocked(GracefulRestartStaleLimit)
	} else {
		p.stopTimerLocked()
	}
	return p.onUpdate
}

// OnClose ends the session. Without graceful restart, or when the session
// ended with a NOTIFICATION, every route of the session goes (RFC 4271
// §8.2.2: "deletes all routes associated with this connection").
func (p *bgpPeer) OnClose(corebgp.PeerConfig) {
	p.reasonMu.Lock()
	reason, tcp := p.reason, !p.reasonNotif
	p.reasonMu.Unlock()
	if p.b.closing.Load() {
		reason, tcp = "collector closed", false
	}
	if reason == "" {
		reason = "connection closed"
	}
	em := p.b.em
	em.mu.Lock()
	defer em.mu.Unlock()
	p.downLocked(reason, tcp)
}

// downLocked reports the session down and flushes its routes, or keeps
// them stale: RFC 4724 §4.2, "When the Receiving Speaker detects
// termination of the TCP session for a BGP session with a peer that has
// advertised the Graceful Restart Capability, it MUST retain the routes
// received from the peer for all the address families that were
// previously received in the Graceful Restart Capability and MUST mark
// them as stale routing information." A NOTIFICATION ends the session for
// good (RFC 4724 predates RFC 8538, which we do not negotiate).
func (p *bgpPeer) downLocked(reason string, tcp bool) {
	em := p.b.em
	if !p.established {
		return
	}
	p.established = false
	p.sessConn, p.pendingNotif = nil, nil
	p.peer = em.peerLocked(peerKey{Addr: p.addr}, p.peer.AS, netip.Addr{})
	gr := tcp && p.caps.gr && p.caps.grTime > 0
	kept := 0
	if gr {
		for f := range mrt.NumFamilies {
			if p.caps.grFwd[f] && !p.disabled[f] && p.paths.count(mrt.Family(f)) > 0 {
				p.stale[f] = true
				p.paths.markStale(mrt.Family(f))
				kept += p.paths.count(mrt.Family(f))
			} else {
				p.withdrawFamilyLocked(mrt.Family(f))
			}
		}
		if kept == 0 {
			gr = false
		}
	}
	if gr {
		reason = fmt.Sprintf("%s; graceful restart: %d routes kept stale for up to %s", reason, kept, p.caps.grTime)
		em.sessionLocked(SessionEvent{Peer: p.peer, State: SessionIdle, Reason: reason, Time: timeNow()})
		p.b.log.Info("bgp_session_down", "peer_ip", p.addr, "peer_as", p.peer.AS, "graceful_restart", true, "reason", reason)
		p.startTimerLocked(p.caps.grTime)
		return
	}
	em.sessionLocked(SessionEvent{Peer: p.peer, State: SessionIdle, Reason: reason, Time: timeNow()})
	p.b.log.Info("bgp_session_down", "peer_ip", p.addr, "peer_as", p.peer.AS, "graceful_restart", false, "reason", reason)
	p.flushLocked()
}

// flushLocked emits PeerDown: every route of the peer is gone.
func (p *bgpPeer) flushLocked() {
	p.paths.clear()
	p.stale = [mrt.NumFamilies]bool{}
	p.stopTimerLocked()
	p.route = route.Route{Kind: route.PeerDown, Time: timeNow(), FromUpdate: true, RPKIState: route.RPKIAbsent,
		Peer: p.peer, Path: p.route.Path[:0]}
	p.b.em.emitLocked(&p.route)
}

func (p *bgpPeer) anyStale() bool {
	for _, s := range p.stale {
		if s {
			return true
		}
	}
	return false
}

func (p *bgpPeer) startTimerLocked(d time.Duration) {
	p.stopTimerLocked()
	p.staleGen++
	gen := p.staleGen
	p.staleTimer = time.AfterFunc(d, func() {
		em := p.b.em
		em.mu.Lock()
		defer em.mu.Unlock()
		if gen != p.staleGen {
			return
		}
		// RFC 4724 §4.2: "If the session does not get re-established
		// within the "Restart Time" that the peer advertised previously,
		// the Receiving Speaker MUST delete all the stale routes from the
		// peer that it is retaining." The same at the end of our stale
		// limit when End-of-RIB never came.
		for f := range mrt.NumFamilies {
			if p.stale[f] {
				p.sweepLocked(mrt.Family(f))
			}
		}
		if !p.established && p.paths.len() == 0 {
			p.flushLocked()
		}
	})
}

func (p *bgpPeer) stopTimerLocked() {
	if p.staleTimer != nil {
		p.staleTimer.Stop()
		p.staleTimer = nil
	}
	p.staleGen++
}

// sweepLocked withdraws the routes of family f still marked stale.
func (p *bgpPeer) sweepLocked(f mrt.Family) {
	n := p.paths.sweep(f, p.withdrawLocked)
	p.stale[f] = false
	if n > 0 {
		p.b.em.stats.Skipped["gr_stale_flushed"] += int64(n)
	}
}

// withdrawFamilyLocked withdraws every route of family f.
func (p *bgpPeer) withdrawFamilyLocked(f mrt.Family) {
	p.paths.drain(f, p.withdrawLocked)
	p.stale[f] = false
}

func (p *bgpPeer) withdrawLocked(n mrt.NLRI) {
	p.route = route.Route{Kind: route.Withdraw, Time: timeNow(), Peer: p.peer, Prefix: n.Prefix, PathID: n.PathID,
		RPKIState: route.RPKIAbsent, FromUpdate: true, Path: p.route.Path[:0]}
	p.b.em.emitLocked(&p.route)
}

// onUpdate applies one UPDATE corebgp delivers. A returned NOTIFICATION
// is sent by corebgp, which then ends the session (OnClose flushes its
// routes). An UPDATE already applied by bgpConn.intercept, which asked for
// a NOTIFICATION, comes here only for corebgp to send it.
func (p *bgpPeer) onUpdate(_ corebgp.PeerConfig, msg []byte) *corebgp.Notification {
	em := p.b.em
	em.mu.Lock()
	defer em.mu.Unlock()
	if c := p.sessConn; c != nil {
		c.handled++
	}
	if n := p.pendingNotif; n != nil {
		p.pendingNotif = nil
		return n
	}
	return p.updateLocked(msg, timeNow())
}

// updateLocked applies one UPDATE (its body), received at t, with em.mu
// held; see onUpdate.
func (p *bgpPeer) updateLocked(msg []byte, t time.Time) *corebgp.Notification {
	em := p.b.em
	em.stats.Records++
	em.stats.Bytes += int64(len(msg)) + 19
	u := p.dec.Decode(msg, &p.opts)
	h := u.Handling()
	if h != mrt.Clean {
		em.stats.Skipped[handlingKey[h]]++
		if len(em.stats.Problems) < route.MaxProblems {
			em.stats.Problems = append(em.stats.Problems, route.Problem{Record: em.stats.Records,
				Err: fmt.Sprintf("peer %s AS%d: %v", p.addr, p.peer.AS, u.Err)})
		}
		if h >= mrt.TreatAsWithdraw {
			p.b.log.Warn("bgp_update_error", "peer_ip", p.addr, "peer_as", p.peer.AS, "handling", h, "err", u.Err.Reason)
		}
	}
	if h == mrt.SessionReset {
		// RFC 7606 §2 "session reset": the NOTIFICATION of RFC 4271 §6.3.
		n := &corebgp.Notification{Code: mrt.NotifUpdateError, Subcode: u.Err.Subcode, Data: append([]byte(nil), u.Err.Data...)}
		p.setReason("notification-sent "+notifName(n.Code, n.Subcode), true)
		return n
	}
	for f, off := range u.Disable {
		if off && !p.disabled[f] {
			p.disabled[f] = true
			p.opts.Disabled[f] = true
			n := p.paths.count(mrt.Family(f))
			p.withdrawFamilyLocked(mrt.Family(f))
			p.b.log.Warn("bgp_family_disabled", "peer_ip", p.addr, "peer_as", p.peer.AS, "family", mrt.Family(f).String(),
				"routes_withdrawn", n, "until", "the session resets", "rule", "RFC 7606 AFI/SAFI disable")
		}
	}
	if u.Discarded > 0 && h != mrt.AttributeDiscard {
		em.stats.Skipped["attribute_discard"] += int64(u.Discarded)
	}
	if u.Ignored > 0 {
		em.stats.Skipped["family"] += int64(u.Ignored)
	}
	if u.Looped {
		em.stats.Skipped["as_loop"] += int64(len(u.Withdrawn))
	}
	if u.EndOfRIB {
		em.stats.Skipped["end_of_rib"]++
		if !p.opts.Disabled[u.EORFamily] && !p.eor[u.EORFamily] {
			p.eor[u.EORFamily] = true
			p.b.log.Info("bgp_end_of_rib", "peer_ip", p.addr, "peer_as", p.peer.AS, "family", u.EORFamily.String(), "paths", p.paths.count(u.EORFamily))
			if p.initialTableDone() {
				em.sessionLocked(SessionEvent{Peer: p.peer, State: SessionEstablished, EndOfRIB: true, Time: timeNow()})
			}
		}
		// RFC 4724 §4.2: "Once the End-of-RIB marker for an address family
		// is received from the peer, it MUST immediately remove any routes
		// from the peer that are still marked as stale for that address
		// family."
		if p.stale[u.EORFamily] {
			p.sweepLocked(u.EORFamily)
			if !p.anyStale() {
				p.stopTimerLocked()
			}
		}
		return nil
	}
	for _, n := range u.Withdrawn {
		if p.paths.del(n) {
			p.route = route.Route{Kind: route.Withdraw, Time: t, Peer: p.peer, Prefix: n.Prefix, PathID: n.PathID,
				RPKIState: route.RPKIAbsent, FromUpdate: true, Path: p.route.Path[:0]}
			em.emitLocked(&p.route)
		}
	}
	max := int(p.b.cfg.MaxPrefixes)
	for _, n := range u.Announced {
		f := mrt.FamilyOfPrefix(n.Prefix)
		if !p.paths.add(n) && max > 0 && p.paths.count(f) > max {
			// RFC 4486 §4: "If a BGP speaker decides to terminate its
			// peering with a neighbor because the number of address
			// prefixes received from the neighbor exceeds a locally
			// configured upper bound ..., then the speaker MUST send to
			// the neighbor a NOTIFICATION message with the Error Code
			// Cease and the Error Subcode "Maximum Number of Prefixes
			// Reached". The message MAY optionally include the Address
			// Family information [BGP-MP] and the upper bound in the
			// "Data" field".
			p.paths.del(n)
			em.stats.Skipped["prefix_limit"]++
			data := make([]byte, 7)
			binary.BigEndian.PutUint16(data, f.AFI())
			data[2] = 1
			binary.BigEndian.PutUint32(data[3:], uint32(max))
			p.setReason(fmt.Sprintf("notification-sent cease/maximum-number-of-prefixes-reached (%s limit %d)", f, max), true)
			p.b.log.Warn("bgp_max_prefixes_exceeded", "peer_ip", p.addr, "peer_as", p.peer.AS, "family", f.String(), "limit", max)
			return &corebgp.Notification{Code: corebgp.NOTIF_CODE_CEASE, Subcode: corebgp.NOTIF_SUBCODE_MAX_NUM_OF_PREFIXES_REACHED, Data: data}
		}
		p.route = route.Route{Kind: route.Announce, Time: t, Peer: p.peer, Prefix: n.Prefix, PathID: n.PathID,
			Path: u.Path, Origin: u.Origin, NextHop: u.NextHopOf(n), RPKIState: u.RPKI, FromUpdate: true}
		em.emitLocked(&p.route)
	}
	p.route.Path = nil // it aliased the decoder's buffer
	return nil
}

// handlingKey is the Stats.Skipped key of each RFC 7606 handling.
var handlingKey = [...]string{mrt.AttributeDiscard: "attribute_discard", mrt.TreatAsWithdraw: "treat_as_withdraw",
	mrt.AFISAFIDisable: "afisafi_disable", mrt.SessionReset: "session_reset"}

// setReason records why the session ends; the first reason of a session
// wins. notif says a NOTIFICATION was involved (no graceful restart).
func (p *bgpPeer) setReason(r string, notif bool) {
	p.reasonMu.Lock()
	if p.reason == "" {
		p.reason, p.reasonNotif = r, notif
	}
	p.reasonMu.Unlock()
}

func (p *bgpPeer) connClosed(c *bgpConn) {
	p.conns.Add(-1)
	em := p.b.em
	em.mu.Lock()
	p.live--
	if p.lastConn == c {
		p.lastConn = nil
	}
	if p.sessConn == c {
		p.sessConn = nil
	}
	em.mu.Unlock()
}
