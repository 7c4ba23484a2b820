package collector

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/osrg/gobgp/v3/pkg/packet/bgp"
	"github.com/osrg/gobgp/v3/pkg/packet/bmp"

	"github.com/rovimpact/rovimpact/mrt"
	"github.com/rovimpact/rovimpact/route"
)

// DefaultBMPListen is where the BMP station listens unless told otherwise:
// loopback, on the IANA-unassigned port gobgp and OpenBMP conventionally use.
var DefaultBMPListen = netip.MustParseAddrPort("127.0.0.1:11019")

// DefaultBMPMaxMessage bounds one BMP message. RFC 7854 allows 2^32-1
// bytes; a route monitoring message carries one BGP UPDATE (at most 65535
// bytes with RFC 8654 extended messages) and a peer up two OPENs, so 16 MiB
// is far above anything legitimate and still bounds what a broken or hostile
// router can make us allocate.
const DefaultBMPMaxMessage = 16 << 20

// DefaultBMPMaxPeers bounds the peers one router connection reports at
// once. The largest route servers have a few thousand sessions (IPv4 and
// IPv6 ones are separate peers); every peer the table holds costs a bit per
// route, so a router inventing peers must not be able to grow it without
// bound.
const DefaultBMPMaxPeers = 4096

// BMPConfig configures the BMP station.
type BMPConfig struct {
	// Listen is the TCP address routers connect to; zero means
	// DefaultBMPListen. Port 0 picks a free port (see BMP.Addr).
	Listen netip.AddrPort
	// Accept lists the router addresses allowed to connect; empty means
	// loopback only. Others are closed at once and counted.
	Accept []netip.Prefix
	// PostPolicy selects post-policy Adj-RIB-In (RFC 7854 §4.2 L flag) and
	// Loc-RIB (RFC 9069) route monitoring instead of pre-policy Adj-RIB-In;
	// the other kind is skipped and counted. ROV impact is a question about
	// what peers send before any policy, hence the default.
	PostPolicy bool
	// MaxMessage bounds one message; 0 means DefaultBMPMaxMessage.
	MaxMessage int
	// MaxPeers bounds the peers one router connection reports at once;
	// 0 means DefaultBMPMaxPeers. Messages about further peers are skipped
	// and counted as "bmp_peer_limit" until some peer goes down.
	MaxPeers int
	// MaxPrefixes bounds the paths (prefix, path ID) held per monitored
	// peer; announcements of new paths beyond it are skipped and counted
	// as "prefix_limit" (a station cannot tear the peer down, unlike a BGP
	// speaker). Tracking costs about 50 bytes per path, so 0, the default,
	// means no limit and no tracking.
	MaxPrefixes int
	// Logger receives connection-level events; nil: slog.Default.
	Logger *slog.Logger
	// OnSession, if set, hears each monitored peer's session coming up
	// (Peer Up) and going down (Peer Down, or its router's connection
	// closing); see SessionHandler.
	OnSession SessionHandler
}

// BMP is a BMP station (RFC 7854 §3.2 "monitoring station"): routers
// connect to it and stream their peers' routes. Each connection is framed
// and parsed independently; a bad message closes only its connection.
// Events from all connections go through one Handler, one call at a time.
type BMP struct {
	cfg BMPConfig
	em  *emitter
	ln  net.Listener
	log *slog.Logger

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// ListenBMP binds the station's listener; Serve accepts connections.
func ListenBMP(cfg BMPConfig, h Handler) (*BMP, error) {
	if !cfg.Listen.IsValid() {
		cfg.Listen = DefaultBMPListen
	}
	if cfg.MaxMessage <= 0 {
		cfg.MaxMessage = DefaultBMPMaxMessage
	}
	if cfg.MaxPeers <= 0 {
		cfg.MaxPeers = DefaultBMPMaxPeers
	}
	if len(cfg.Accept) == 0 {
		cfg.Accept = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	}
	l := cfg.Logger
	if l == nil {
		l = slog.Default()
	}
	ln, err := net.Listen("tcp", cfg.Listen.String())
	if err != nil {
		return nil, fmt.Errorf("collector: BMP listen: %w", err)
	}
	em := newEmitter(h)
	em.onSession = cfg.OnSession
	return &BMP{cfg: cfg, em: em, ln: ln, log: l, conns: map[net.Conn]struct{}{}}, nil
}

// Addr is the bound listener address.
func (b *BMP) Addr() netip.AddrPort {
	return b.ln.Addr().(*net.TCPAddr).AddrPort()
}

// Serve accepts routers until ctx is cancelled or Close is called, then
// waits for every connection to finish; it returns nil after a Close.
func (b *BMP) Serve(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { b.Close() })
	defer stop()
	for {
		c, err := b.ln.Accept()
		if err != nil {
			b.wg.Wait()
			b.mu.Lock()
			closed := b.closed
			b.mu.Unlock()
			if closed {
				return nil
			}
			return fmt.Errorf("collector: BMP accept: %w", err)
		}
		ra := c.RemoteAddr().(*net.TCPAddr).AddrPort().Addr().Unmap()
		if !b.accepted(ra) {
			b.em.skip("bmp_conn_refused", 1)
			b.log.Warn("bmp_connection_refused", "router", ra, "reason", "router not in accepted prefixes")
			c.Close()
			continue
		}
		b.mu.Lock()
		if b.closed {
			b.mu.Unlock()
			c.Close()
			continue
		}
		b.conns[c] = struct{}{}
		b.wg.Add(1)
		b.mu.Unlock()
		go func() {
			defer b.wg.Done()
			b.serveConn(c)
			b.mu.Lock()
			delete(b.conns, c)
			b.mu.Unlock()
		}()
	}
}

func (b *BMP) accepted(a netip.Addr) bool {
	for _, p := range b.cfg.Accept {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Close stops accepting and closes every router connection; each
// connection's peers get a PeerDown event.
func (b *BMP) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	for c := range b.conns {
		c.Close()
	}
	b.mu.Unlock()
	return b.ln.Close()
}

// Stats counts BMP messages (Records), bytes and routes, and every message
// or route skipped, by reason.
func (b *BMP) Stats() route.Stats { return b.em.snapshot() }

// Peers lists the monitored peers, indexed by route.Peer.Index. An index is
// reused once its peer went down (Peer Down, a superseding per-peer
// header, or its router's connection closing), so an entry may name a peer
// that is down.
func (b *BMP) Peers() []route.Peer { return b.em.peerList() }

func (b *BMP) serveConn(c net.Conn) {
	defer c.Close()
	router := c.RemoteAddr().String()
	o := sessionOpts{post: b.cfg.PostPolicy, max: b.cfg.MaxMessage, maxPeers: b.cfg.MaxPeers, maxPrefixes: b.cfg.MaxPrefixes}
	err := runSession(bufio.NewReaderSize(c, 64<<10), b.em, o, router, b.log, nil)
	if err != nil && !errors.Is(err, net.ErrClosed) {
		b.log.Error("bmp_connection_closed", "router", router, "err", err)
	}
}

// runSession reads one router's BMP stream until EOF or a framing error,
// then reports the router's peers down. onMessage, if set, sees each framed
// message and what handling it returned (tests use it to check that events
// come only from well-formed messages).
//
// Error handling: RFC 7854 has no error messages from station to router
// and no resynchronisation marker, so a message that cannot be framed (bad
// version or length in the common header, §4.1) ends the connection, and
// with it every route the connection reported (§3.3: the routes of a BMP
// session go with the session). A framed message whose body cannot be
// parsed, or is of an unknown type, is skipped and counted
// ("bmp_malformed", "bmp_parser_panic") and the stream goes on: the next
// message starts at the length the header declared.
func runSession(r io.Reader, em *emitter, o sessionOpts, router string, log *slog.Logger, onMessage func(msg []byte, err error)) error {
	s := newBMPSession(em, o.post)
	s.conn = bmpConns.Add(1)
	s.maxPeers = o.maxPeers
	if s.maxPeers <= 0 {
		s.maxPeers = DefaultBMPMaxPeers
	}
	s.conv.maxPrefixes = o.maxPrefixes
	s.router, _ = netip.ParseAddrPort(router)
	defer s.close()
	f := frameReader{r: r, max: o.max}
	for {
		msg, err := f.next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				log.Info("bmp_router_disconnected", "router", router, "messages", f.n)
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			em.problem("bmp_bad_frame", f.n+1, f.off, fmt.Errorf("router %s: %w", router, err))
			return err
		}
		em.mu.Lock()
		em.stats.Records++
		em.stats.Bytes += int64(len(msg))
		em.mu.Unlock()
		err = s.handle(msg)
		if onMessage != nil {
			onMessage(msg, err)
		}
		if err != nil {
			em.problem(reasonOf(err), f.n, f.off-int64(len(msg)), fmt.Errorf("router %s: %w", router, err))
			log.Warn("bmp_message_skipped", "router", router, "err", err)
		}
	}
}

// Framing errors. A framing error loses synchronisation with the stream, so
// the connection is closed: RFC 7854 has no resynchronisation marker.
var (
	ErrBMPVersion = errors.New("BMP version is not 3")
	ErrBMPLength  = errors.New("BMP message length out of range")
)

// frameReader splits a BMP stream into messages by the common header
// (RFC 7854 §4.1: version 1 byte, length 4 bytes including the header,
// type 1 byte). It reads exactly the declared length, never beyond. The
// returned slice is reused by the next call.
type frameReader struct {
	r   io.Reader
	max int
	buf []byte
	n   int64 // messages read
	off int64 // stream offset after the last message
}

func (f *frameReader) next() ([]byte, error) {
	var hdr [bmp.BMP_HEADER_SIZE]byte
	if _, err := io.ReadFull(f.r, hdr[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("message %d at offset %d: header: %w", f.n+1, f.off, err)
		}
		return nil, err // io.EOF: clean end between messages
	}
	if hdr[0] != bmp.BMP_VERSION {
		return nil, fmt.Errorf("message %d at offset %d: version %d: %w", f.n+1, f.off, hdr[0], ErrBMPVersion)
	}
	n := binary.BigEndian.Uint32(hdr[1:5])
	if n < bmp.BMP_HEADER_SIZE || uint64(n) > uint64(f.max) {
		return nil, fmt.Errorf("message %d at offset %d: length %d not in [%d, %d]: %w", f.n+1, f.off, n, bmp.BMP_HEADER_SIZE, f.max, ErrBMPLength)
	}
	if cap(f.buf) < int(n) {
		f.buf = make([]byte, n)
	}
	f.buf = f.buf[:n]
	copy(f.buf, hdr[:])
	if _, err := io.ReadFull(f.r, f.buf[bmp.BMP_HEADER_SIZE:]); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("message %d at offset %d: body of %d bytes: %w", f.n+1, f.off, n, err)
	}
	f.n++
	f.off += int64(n)
	return f.buf, nil
}

// BMP message-level errors: the message is skipped, the connection kept.
var (
	errParse = errors.New("malformed")
	errPanic = errors.New("parser panic")
)

func reasonOf(err error) string {
	switch {
	case errors.Is(err, errPanic):
		return "bmp_parser_panic"
	default:
		return "bmp_malformed"
	}
}

// sessionOpts are the per-connection settings taken from BMPConfig.
type sessionOpts struct {
	post        bool
	max         int
	maxPeers    int // 0: DefaultBMPMaxPeers
	maxPrefixes int
}

// bmpConns numbers router connections across the process, so that a peer
// key names the connection that reported it.
var bmpConns atomic.Uint64

// bmpSession is the state of one router connection: its monitored peers
// and which of them send ADD-PATH path identifiers.
type bmpSession struct {
	em       *emitter
	post     bool
	conn     uint64
	maxPeers int
	router   netip.AddrPort // for session events; zero if unknown
	peers    map[slotKey]*bmpPeer
	conv     updateConverter
}

// slotKey is where a router has at most one BGP session at a time: one
// neighbour address in one instance (RFC 7854 §4.2: the peer distinguisher
// tells instances, e.g. VRFs, apart).
type slotKey struct {
	Dist uint64
	Addr netip.Addr
}

type bmpPeer struct {
	key   peerKey // the whole identity: connection and per-peer header
	peer  route.Peer
	up    bool                     // Peer Up seen, no Peer Down since
	opts  []*bgp.MarshallingOption // ADD-PATH receive families, from peer up
	paths map[pathKey]struct{}     // held paths, only with MaxPrefixes
	// families the session carries (both OPENs of the Peer Up), and those
	// whose End-of-RIB (RFC 4724 §2) has come since; eorDone once all did.
	families, eor [mrt.NumFamilies]bool
	eorDone       bool
}

// pathKey is one path of a peer: RFC 7911 §3, a path is (prefix, path ID).
type pathKey struct {
	Prefix netip.Prefix
	ID     uint32
}

func newBMPSession(em *emitter, post bool) *bmpSession {
	return &bmpSession{em: em, post: post, maxPeers: DefaultBMPMaxPeers, peers: map[slotKey]*bmpPeer{}}
}

// close reports every peer of the connection down: without the router's
// feed nothing vouches for their routes any more (RFC 7854 §3.3: the BMP
// session ends with its TCP connection).
func (s *bmpSession) close() {
	s.em.mu.Lock()
	defer s.em.mu.Unlock()
	for _, p := range s.peers {
		s.flushLocked(p, "router connection closed", timeNow())
	}
	clear(s.peers)
}

// flushLocked ends peer p: its session's leaving event (if it was up),
// then the PeerDown event that flushes exactly the paths p announced (the
// event names p's own AS and address, which is how the table keys it),
// and its index is released. s.em.mu must be held; the caller removes p
// from s.peers.
func (s *bmpSession) flushLocked(p *bmpPeer, reason string, t time.Time) {
	if p.up {
		s.em.sessionLocked(SessionEvent{Peer: p.peer, State: SessionIdle, Reason: reason, Router: s.router, Time: t})
	}
	s.conv.route = route.Route{Kind: route.PeerDown, Time: t, Peer: p.peer, FromUpdate: true,
		RPKIState: route.RPKIAbsent, Path: s.conv.route.Path[:0]}
	s.em.emitLocked(&s.conv.route)
	s.em.releaseLocked(p.key)
}

// keyOf returns the slot a per-peer header names and the peer's identity.
func (s *bmpSession) keyOf(h *bmp.BMPPeerHeader) (slotKey, peerKey) {
	a, _ := netip.AddrFromSlice(h.PeerAddress)
	id, _ := netip.AddrFromSlice(h.PeerBGPID)
	sk := slotKey{Dist: h.PeerDistinguisher, Addr: a.Unmap()}
	return sk, peerKey{Conn: s.conn, Dist: sk.Dist, Addr: sk.Addr, AS: h.PeerAS, BGPID: id.Unmap()}
}

// held returns the peer h names, if the connection holds it.
func (s *bmpSession) held(h *bmp.BMPPeerHeader) (slotKey, peerKey, *bmpPeer) {
	sk, k := s.keyOf(h)
	if p := s.peers[sk]; p != nil && p.key == k {
		return sk, k, p
	}
	return sk, k, nil
}

// parse runs gobgp's BMP parser on one framed message. gobgp recovers its
// own index panics, but not every path through bgp decoding is covered: a
// panic here must cost one message, not the process.
func (s *bmpSession) parse(msg []byte) (m *bmp.BMPMessage, err error) {
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("%w: %v", errPanic, r)
		}
	}()
	return bmp.ParseBMPMessageWithOptions(msg, func(h bmp.BMPPeerHeader) []*bgp.MarshallingOption {
		if _, _, p := s.held(&h); p != nil {
			return p.opts
		}
		return nil
	})
}

func (s *bmpSession) handle(msg []byte) error {
	typ := msg[5]
	if typ == bmp.BMP_MSG_ROUTE_MONITORING {
		// Decoded by mrt.UpdateDecoder, not gobgp (see bmpconv.go).
		return s.bmpRouteMonitoring(msg)
	}
	m, err := s.parse(msg)
	if m == nil {
		if err == nil {
			err = errParse
		}
		return fmt.Errorf("type %d: %w", typ, errors.Join(errParse, err))
	}
	switch body := m.Body.(type) {
	case *bmp.BMPPeerUpNotification:
		s.peerUp(m, body)
	case *bmp.BMPPeerDownNotification:
		s.peerDown(m, body)
	case *bmp.BMPInitiation:
		s.em.skip("bmp_initiation", 1)
	case *bmp.BMPTermination:
		s.em.skip("bmp_termination", 1)
	case *bmp.BMPStatisticsReport:
		s.em.skip("bmp_stats_report", 1)
	case *bmp.BMPRouteMirroring:
		s.em.skip("bmp_route_mirroring", 1)
	}
	return nil
}

// peer returns the connection's peer for header h, creating it when new,
// or nil (counted as "bmp_peer_limit") when the connection already
// reports MaxPeers others.
//
// A peer is the whole per-peer header identity (RFC 7854 §4.2: Peer AS and
// Peer BGP ID are those of the session the PDU was received on), so the
// same address under another AS or BGP ID is another peer, whose routes
// never mix with the first one's. A router has one established session per
// neighbour address and instance (RFC 4271 §6.8 leaves one of two
// colliding connections), so such a header also says that the session held
// for that address has ended, whether or not its Peer Down came: the held
// peer is flushed first ("bmp_peer_superseded"). Without this a router
// that skips or loses a Peer Down would leave the old session's routes in
// the table for as long as the connection lasts.
func (s *bmpSession) peer(h *bmp.BMPPeerHeader) *bmpPeer {
	sk, k, p := s.held(h)
	if p != nil {
		return p
	}
	if old := s.peers[sk]; old != nil {
		s.supersede(sk, old, k, stamp(h))
	}
	if len(s.peers) >= s.maxPeers {
		s.em.skip("bmp_peer_limit", 1)
		return nil
	}
	p = &bmpPeer{key: k}
	s.em.mu.Lock()
	p.peer = s.em.peerLocked(k, h.PeerAS, k.BGPID)
	s.em.mu.Unlock()
	s.peers[sk] = p
	return p
}

// supersede flushes old, the peer held at slot sk, because the router now
// reports the session k there.
func (s *bmpSession) supersede(sk slotKey, old *bmpPeer, k peerKey, t time.Time) {
	s.em.mu.Lock()
	defer s.em.mu.Unlock()
	s.em.stats.Skipped["bmp_peer_superseded"]++
	s.flushLocked(old, fmt.Sprintf("superseded: the router reports %s as AS%d, BGP ID %s", k.Addr, k.AS, k.BGPID), t)
	delete(s.peers, sk)
}

func stamp(h *bmp.BMPPeerHeader) time.Time {
	if h.Timestamp == 0 {
		return timeNow()
	}
	sec := int64(h.Timestamp)
	return time.Unix(sec, int64((h.Timestamp-float64(sec))*1e9)).UTC()
}

// peerUp records the peer and whether it sends ADD-PATH path identifiers
// for each family: RFC 7911 §4 — the peer (received OPEN) must advertise
// Send and the monitored router (sent OPEN) Receive.
//
// A Peer Up repeating the identity of a peer already up is the router
// re-announcing its state, not a new session: its paths stay (and so does
// their count against MaxPrefixes). One with another AS or BGP ID for the
// address is a new session (see peer).
func (s *bmpSession) peerUp(m *bmp.BMPMessage, body *bmp.BMPPeerUpNotification) {
	p := s.peer(&m.PeerHeader)
	if p == nil {
		return
	}
	if !p.up {
		s.em.mu.Lock()
		s.em.sessionLocked(SessionEvent{Peer: p.peer, State: SessionEstablished, Router: s.router, Time: stamp(&m.PeerHeader)})
		s.em.mu.Unlock()
	}
	p.up = true
	p.opts = nil
	sent := addPathModes(body.SentOpenMsg)
	recv := addPathModes(body.ReceivedOpenMsg)
	am := map[bgp.RouteFamily]bgp.BGPAddPathMode{}
	for rf, mode := range recv {
		if mode&bgp.BGP_ADD_PATH_SEND != 0 && sent[rf]&bgp.BGP_ADD_PATH_RECEIVE != 0 {
			am[rf] = bgp.BGP_ADD_PATH_RECEIVE
		}
	}
	if len(am) > 0 {
		p.opts = []*bgp.MarshallingOption{{AddPath: am}}
	}
	sentF, recvF := openFamilies(body.SentOpenMsg), openFamilies(body.ReceivedOpenMsg)
	for f := range p.families {
		p.families[f] = sentF[f] && recvF[f]
	}
	p.eor, p.eorDone = [mrt.NumFamilies]bool{}, false
	s.em.skip("bmp_peer_up", 1)
}

func addPathModes(m *bgp.BGPMessage) map[bgp.RouteFamily]bgp.BGPAddPathMode {
	out := map[bgp.RouteFamily]bgp.BGPAddPathMode{}
	if m == nil {
		return out
	}
	o, ok := m.Body.(*bgp.BGPOpen)
	if !ok {
		return out
	}
	for _, op := range o.OptParams {
		c, ok := op.(*bgp.OptionParameterCapability)
		if !ok {
			continue
		}
		for _, cap := range c.Capability {
			if ap, ok := cap.(*bgp.CapAddPath); ok {
				for _, t := range ap.Tuples {
					out[t.RouteFamily] |= t.Mode
				}
			}
		}
	}
	return out
}

// openFamilies lists the unicast families an OPEN offers: its
// Multiprotocol capabilities, or IPv4 unicast without any (RFC 4760 §8).
func openFamilies(m *bgp.BGPMessage) [mrt.NumFamilies]bool {
	var out [mrt.NumFamilies]bool
	var o *bgp.BGPOpen
	if m != nil {
		o, _ = m.Body.(*bgp.BGPOpen)
	}
	if o == nil {
		out[mrt.IPv4Unicast] = true
		return out
	}
	mp := false
	for _, op := range o.OptParams {
		c, ok := op.(*bgp.OptionParameterCapability)
		if !ok {
			continue
		}
		for _, cap := range c.Capability {
			if m, ok := cap.(*bgp.CapMultiProtocol); ok {
				mp = true
				switch m.CapValue {
				case bgp.RF_IPv4_UC:
					out[mrt.IPv4Unicast] = true
				case bgp.RF_IPv6_UC:
					out[mrt.IPv6Unicast] = true
				}
			}
		}
	}
	if !mp {
		out[mrt.IPv4Unicast] = true
	}
	return out
}

// peerDown ends the peer the header names (RFC 7854 §4.9: the session was
// terminated): exactly its paths are flushed. A Peer Down for a peer the
// connection does not hold changes nothing and is counted as
// "bmp_peer_down_unknown": in particular a late Peer Down for a session
// already superseded (see peer) must not flush the session that replaced
// it.
func (s *bmpSession) peerDown(m *bmp.BMPMessage, body *bmp.BMPPeerDownNotification) {
	h := &m.PeerHeader
	sk, _, p := s.held(h)
	if p == nil {
		s.em.skip("bmp_peer_down_unknown", 1)
		return
	}
	delete(s.peers, sk)
	s.em.mu.Lock()
	defer s.em.mu.Unlock()
	s.flushLocked(p, peerDownReason(body), stamp(h))
}

// peerDownReason renders a Peer Down notification's reason (RFC 7854
// §4.9; code 6, "local system closed, TLV data follows", from RFC 9069), with the NOTIFICATION's error code and
// subcode (RFC 4271 §4.5) when one is carried.
func peerDownReason(b *bmp.BMPPeerDownNotification) string {
	notif := func(what string) string {
		if b.BGPNotification != nil {
			if n, ok := b.BGPNotification.Body.(*bgp.BGPNotification); ok {
				return what + ": " + bgp.NewNotificationErrorCode(n.ErrorCode, n.ErrorSubcode).String()
			}
		}
		return what
	}
	switch b.Reason {
	case bmp.BMP_PEER_DOWN_REASON_LOCAL_BGP_NOTIFICATION:
		return notif("local system closed, NOTIFICATION sent")
	case bmp.BMP_PEER_DOWN_REASON_LOCAL_NO_NOTIFICATION:
		if len(b.Data) >= 2 {
			return fmt.Sprintf("local system closed without NOTIFICATION, FSM event %d", binary.BigEndian.Uint16(b.Data))
		}
		return "local system closed without NOTIFICATION"
	case bmp.BMP_PEER_DOWN_REASON_REMOTE_BGP_NOTIFICATION:
		return notif("remote system closed, NOTIFICATION received")
	case bmp.BMP_PEER_DOWN_REASON_REMOTE_NO_NOTIFICATION:
		return "remote system closed without NOTIFICATION"
	case bmp.BMP_PEER_DOWN_REASON_PEER_DE_CONFIGURED:
		return "peer de-configured"
	case 6:
		return "local system closed (Loc-RIB)"
	}
	return fmt.Sprintf("peer down reason %d", b.Reason)
}
