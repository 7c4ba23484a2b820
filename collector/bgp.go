package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"

	api "github.com/osrg/gobgp/v3/api"
	gobgplog "github.com/osrg/gobgp/v3/pkg/log"
	"github.com/osrg/gobgp/v3/pkg/server"

	"github.com/rovimpact/rovimpact/mrt"
)

// DefaultBGPListen is where the BGP collector listens unless told
// otherwise: loopback, on an unprivileged port, so that starting it exposes
// nothing and needs no root.
var DefaultBGPListen = netip.MustParseAddrPort("127.0.0.1:1179")

// Neighbor is a BGP peer the collector accepts a session from. AS 0 accepts
// whatever AS the peer's OPEN announces (gobgp skips the peer-AS check).
type Neighbor struct {
	Addr netip.Addr
	AS   uint32
}

// BGPConfig configures the BGP collector.
type BGPConfig struct {
	// Listen is the TCP address to accept sessions on; zero means
	// DefaultBGPListen. Port 0 is rejected: gobgp cannot report the port
	// it would pick.
	Listen netip.AddrPort
	// LocalAS and RouterID are what the collector announces in its OPEN.
	// Both are required.
	LocalAS  uint32
	RouterID netip.Addr
	// Neighbors are accepted by address; Accept admits any peer whose
	// address falls in one of the prefixes (gobgp dynamic neighbors) with
	// AcceptAS as its AS (0: any). At least one of the two must be set:
	// the collector never accepts sessions from anyone.
	Neighbors []Neighbor
	Accept    []netip.Prefix
	AcceptAS  uint32
	// MaxPrefixes is the per-peer, per-family limit; a peer exceeding it is
	// torn down by gobgp with a CEASE (RFC 4486 §4 subcode 1). 0: no limit.
	MaxPrefixes uint32
	// Logger receives gobgp's log lines at Warn and above; nil: slog.Default.
	Logger *slog.Logger
	// OnSession, if set, hears each session reaching Established and
	// leaving it (see SessionHandler), as soon as gobgp's FSM changes state:
	// a peer that sends no route is seen up all the same.
	OnSession SessionHandler
}

// BGP is an embedded gobgp speaker that accepts sessions from configured
// peers, receives IPv4 and IPv6 unicast (with ADD-PATH receive), and never
// advertises anything: its export policy rejects every route. Each path in
// a peer's pre-policy Adj-RIB-In reaches the Handler as an mrt.Route.
//
// gobgp applies RFC 7606 error handling (counted, see Stats) and excludes,
// before any watcher sees them and without logging, paths whose AS_PATH
// contains LocalAS (RFC 4271 §9.1.2 loop detection) or, from iBGP peers,
// whose ORIGINATOR_ID is RouterID (RFC 4456 §8): configure the collector
// with the operator's own AS and these are exactly the paths the operator's
// routers drop too. They are not counted.
//
// Memory: gobgp keeps every received path (Adj-RIB-In plus its best-path
// tables); see BenchmarkBGPSession for the measured cost per path. The
// collector itself keeps only the peer list.
type BGP struct {
	cfg     BGPConfig
	em      *emitter
	srv     *server.BgpServer
	log     *slog.Logger
	reasons *downReasons
	cancel  context.CancelFunc
	once    sync.Once

	// Guarded by em.mu: the watch callback runs in one gobgp goroutine.
	conv        pathConverter
	route       mrt.Route
	established map[netip.Addr]bool
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
	return &BGP{cfg: cfg, em: em, log: l, reasons: &downReasons{m: map[netip.Addr]string{}}, established: map[netip.Addr]bool{}}, nil
}

const dynamicGroup = "rovimpact-dynamic"

// Start starts the speaker, configures peers and begins delivering events.
// It returns once the listener is bound. Cancelling ctx or calling Close
// stops it.
func (b *BGP) Start(ctx context.Context) error {
	ctx, b.cancel = context.WithCancel(ctx)
	context.AfterFunc(ctx, func() { b.Close() })
	b.srv = server.NewBgpServer(server.LoggerOption(&gobgpLogger{l: b.log, em: b.em, reasons: b.reasons}))
	// Serve runs gobgp's management loop; every API call below blocks
	// until it runs.
	go b.srv.Serve()

	if err := b.srv.StartBgp(ctx, &api.StartBgpRequest{Global: &api.Global{
		Asn:             b.cfg.LocalAS,
		RouterId:        b.cfg.RouterID.String(),
		ListenPort:      int32(b.cfg.Listen.Port()),
		ListenAddresses: []string{b.cfg.Listen.Addr().String()},
	}}); err != nil {
		b.Close()
		return fmt.Errorf("collector: BGP start on %s: %w", b.cfg.Listen, err)
	}
	fail := func(what string, err error) error {
		b.Close()
		return fmt.Errorf("collector: BGP %s: %w", what, err)
	}
	// Never advertise: the export default action rejects everything
	// (gobgp would otherwise re-advertise one peer's routes to the others).
	if err := b.srv.SetPolicyAssignment(ctx, &api.SetPolicyAssignmentRequest{Assignment: &api.PolicyAssignment{
		Name: "global", Direction: api.PolicyDirection_EXPORT, DefaultAction: api.RouteAction_REJECT,
	}}); err != nil {
		return fail("export policy", err)
	}
	if err := b.srv.SetPolicyAssignment(ctx, &api.SetPolicyAssignmentRequest{Assignment: &api.PolicyAssignment{
		Name: "global", Direction: api.PolicyDirection_IMPORT, DefaultAction: api.RouteAction_ACCEPT,
	}}); err != nil {
		return fail("import policy", err)
	}
	// One watch for both tables and peers: gobgp then calls us from a single
	// goroutine, in the order things happened.
	if err := b.srv.WatchEvent(ctx, &api.WatchEventRequest{
		Peer: &api.WatchEventRequest_Peer{},
		Table: &api.WatchEventRequest_Table{Filters: []*api.WatchEventRequest_Table_Filter{
			{Type: api.WatchEventRequest_Table_Filter_ADJIN, Init: true},
		}},
	}, b.onEvent); err != nil {
		return fail("watch", err)
	}
	for _, n := range b.cfg.Neighbors {
		if err := b.srv.AddPeer(ctx, &api.AddPeerRequest{Peer: &api.Peer{
			Conf:         &api.PeerConf{NeighborAddress: n.Addr.String(), PeerAsn: n.AS},
			Transport:    &api.Transport{PassiveMode: true},
			EbgpMultihop: anyHop,
			AfiSafis:     b.afiSafis(),
		}}); err != nil {
			return fail("neighbor "+n.Addr.String(), err)
		}
	}
	if len(b.cfg.Accept) > 0 {
		// The group must exist before a dynamic neighbor names it (gobgp
		// panics on a nil map otherwise).
		if err := b.srv.AddPeerGroup(ctx, &api.AddPeerGroupRequest{PeerGroup: &api.PeerGroup{
			Conf:         &api.PeerGroupConf{PeerGroupName: dynamicGroup, PeerAsn: b.cfg.AcceptAS},
			Transport:    &api.Transport{PassiveMode: true},
			EbgpMultihop: anyHop,
			AfiSafis:     b.afiSafis(),
		}}); err != nil {
			return fail("peer group", err)
		}
		for _, p := range b.cfg.Accept {
			if err := b.srv.AddDynamicNeighbor(ctx, &api.AddDynamicNeighborRequest{DynamicNeighbor: &api.DynamicNeighbor{
				Prefix: p.String(), PeerGroup: dynamicGroup,
			}}); err != nil {
				return fail("accepted prefix "+p.String(), err)
			}
		}
	}
	return nil
}

// anyHop lets eBGP peers be any number of hops away. gobgp otherwise sends
// on an eBGP session (with a configured peer AS) with IP TTL 1, as a router
// on a shared link would (RFC 4271 §5.1.3's directly connected default);
// a collector is usually several hops from the routers feeding it, and
// with TTL 1 its OPEN and KEEPALIVEs would die on the first router. The
// peers' own TTL is theirs to set; this only affects what we send.
var anyHop = &api.EbgpMultihop{Enabled: true, MultihopTtl: 255}

func (b *BGP) afiSafis() []*api.AfiSafi {
	var out []*api.AfiSafi
	for _, afi := range []api.Family_Afi{api.Family_AFI_IP, api.Family_AFI_IP6} {
		f := &api.Family{Afi: afi, Safi: api.Family_SAFI_UNICAST}
		a := &api.AfiSafi{
			Config:   &api.AfiSafiConfig{Family: f, Enabled: true},
			AddPaths: &api.AddPaths{Config: &api.AddPathsConfig{Receive: true}},
		}
		if b.cfg.MaxPrefixes > 0 {
			a.PrefixLimits = &api.PrefixLimit{Family: f, MaxPrefixes: b.cfg.MaxPrefixes}
		}
		out = append(out, a)
	}
	return out
}

// Close stops the speaker. Peers still established get a PeerDown event:
// once the collector is gone nothing vouches for their routes.
func (b *BGP) Close() error {
	b.once.Do(func() {
		if b.cancel != nil {
			b.cancel()
		}
		if b.srv != nil {
			b.srv.Stop()
		}
		b.em.mu.Lock()
		defer b.em.mu.Unlock()
		for a := range b.established {
			b.peerDownLocked(a, 0, SessionIdle, "collector closed")
		}
	})
	return nil
}

// Stats counts paths received and skipped (Records: paths gobgp handed
// over). Skipped keys: family, bad_path, missing_aspath, peer_down,
// treat_as_withdraw, attribute_discard, prefix_limit, ...
func (b *BGP) Stats() mrt.Stats { return b.em.snapshot() }

// Peers lists peers seen so far, indexed by mrt.Peer.Index.
func (b *BGP) Peers() []mrt.Peer { return b.em.peerList() }

func (b *BGP) onEvent(ev *api.WatchEventResponse) {
	b.em.mu.Lock()
	defer b.em.mu.Unlock()
	if t := ev.GetTable(); t != nil {
		for _, p := range t.Paths {
			b.onPathLocked(p)
		}
	}
	if pe := ev.GetPeer(); pe != nil && pe.Type == api.WatchEventResponse_PeerEvent_STATE {
		b.onPeerLocked(pe.Peer)
	}
}

func (b *BGP) onPathLocked(p *api.Path) {
	b.em.stats.Records++
	if p.GetNlri() == nil {
		// End-of-RIB markers (RFC 4724 §2) come without NLRI.
		b.em.stats.Skipped["end_of_rib"]++
		return
	}
	addr, err := netip.ParseAddr(p.GetNeighborIp())
	if err != nil {
		b.em.stats.Skipped[skipBadPath]++
		return
	}
	addr = addr.Unmap()
	reason, err := b.conv.convert(p, &b.route)
	if err != nil {
		b.em.stats.Skipped[reason]++
		if reason == skipBadPath && len(b.em.stats.Problems) < mrt.MaxProblems {
			b.em.stats.Problems = append(b.em.stats.Problems, mrt.Problem{Record: b.em.stats.Records,
				Err: fmt.Sprintf("peer %s: %v", addr, err)})
		}
		return
	}
	id, _ := netip.ParseAddr(p.GetSourceId())
	b.route.Peer = b.em.peerLocked(peerKey{Addr: addr}, p.GetSourceAsn(), id)
	b.em.emitLocked(&b.route)
}

func (b *BGP) onPeerLocked(p *api.Peer) {
	st := p.GetState()
	addr, err := netip.ParseAddr(st.GetNeighborAddress())
	if err != nil {
		return
	}
	addr = addr.Unmap()
	state := sessionStateOf(st.GetSessionState())
	if state == SessionEstablished {
		id, _ := netip.ParseAddr(st.GetRouterId())
		p := b.em.peerLocked(peerKey{Addr: addr}, st.GetPeerAsn(), id)
		if !b.established[addr] {
			b.established[addr] = true
			b.reasons.take(addr) // a reason left from an earlier session
			b.em.sessionLocked(SessionEvent{Peer: p, State: SessionEstablished, Time: timeNow()})
		}
		return
	}
	if b.established[addr] {
		b.peerDownLocked(addr, st.GetPeerAsn(), state, b.reasons.take(addr))
	}
}

// sessionStateOf maps gobgp's API state to ours; UNKNOWN (never sent for a
// state change) counts as Idle.
func sessionStateOf(s api.PeerState_SessionState) SessionState {
	if s >= api.PeerState_IDLE && s <= api.PeerState_ESTABLISHED {
		return SessionState(s)
	}
	return SessionIdle
}

// peerDownLocked reports the session of addr down, then emits PeerDown:
// leaving Established drops every route learned over the session
// (RFC 4271 §8.2.2, ConnectionClosed → "deletes all routes associated with
// this connection").
func (b *BGP) peerDownLocked(addr netip.Addr, as uint32, state SessionState, reason string) {
	delete(b.established, addr)
	p := b.em.peerLocked(peerKey{Addr: addr}, as, netip.Addr{})
	b.em.sessionLocked(SessionEvent{Peer: p, State: state, Reason: reason, Time: timeNow()})
	b.route = mrt.Route{Kind: mrt.PeerDown, Time: timeNow(), FromUpdate: true, RPKIState: mrt.RPKIAbsent,
		Peer: p, Path: b.route.Path[:0]}
	b.em.emitLocked(&b.route)
}

// downReasons carries why a session went down from gobgp's log to its
// state event: gobgp's watch API reports the new state without the reason
// (v3.37.0 server.go drops watchEventPeer.StateReason), but its FSM logs
// "Peer Down" with the reason just before it queues the state change the
// watch event comes from, so the log line always arrives first.
type downReasons struct {
	mu sync.Mutex
	m  map[netip.Addr]string
}

func (d *downReasons) put(f gobgplog.Fields) {
	key, _ := f["Key"].(string)
	addr, err := netip.ParseAddr(key)
	if err != nil {
		return
	}
	reason, _ := f["Reason"].(string)
	d.mu.Lock()
	d.m[addr.Unmap()] = reason
	d.mu.Unlock()
}

func (d *downReasons) take(addr netip.Addr) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	r := d.m[addr]
	delete(d.m, addr)
	return r
}

// gobgpLogger forwards gobgp's warnings and errors to slog, and counts the
// ones that mean a route was lost or altered: gobgp applies RFC 7606 error
// handling itself and only tells its log.
type gobgpLogger struct {
	l       *slog.Logger
	em      *emitter
	reasons *downReasons
}

// Log lines of gobgp v3.37.0 that mean something was dropped, and the
// Stats.Skipped key each is counted under.
var gobgpDrops = []struct{ substr, key string }{
	{"treated as withdraw", "treat_as_withdraw"},       // RFC 7606 §2 treat-as-withdraw
	{"attributes were discarded", "attribute_discard"}, // RFC 7606 §2 attribute discard
	{"Capability was disabled", "afisafi_disable"},     // RFC 7606 §2 AFI/SAFI disable
	{"prefix limit reached", "prefix_limit"},
	{"Prefix limit reached", "prefix_limit_shutdown"},
}

func (g *gobgpLogger) count(msg string) {
	for _, d := range gobgpDrops {
		if strings.Contains(msg, d.substr) {
			g.em.skip(d.key, 1)
			return
		}
	}
}

func (g *gobgpLogger) attrs(f gobgplog.Fields) []any {
	out := make([]any, 0, 2*len(f)+2)
	out = append(out, "component", "gobgp")
	for k, v := range f {
		out = append(out, k, v)
	}
	return out
}

func (g *gobgpLogger) Panic(msg string, f gobgplog.Fields) {
	g.l.Error(msg, g.attrs(f)...)
	panic(msg)
}
func (g *gobgpLogger) Fatal(msg string, f gobgplog.Fields) { g.l.Error(msg, g.attrs(f)...) }
func (g *gobgpLogger) Error(msg string, f gobgplog.Fields) {
	g.count(msg)
	g.l.Error(msg, g.attrs(f)...)
}
func (g *gobgpLogger) Warn(msg string, f gobgplog.Fields) {
	g.count(msg)
	if msg == listenerTTLWarning {
		g.l.Debug(msg, g.attrs(f)...)
		return
	}
	g.l.Warn(msg, g.attrs(f)...)
}
func (g *gobgpLogger) Info(msg string, f gobgplog.Fields) {
	g.count(msg)
	if msg == "Peer Down" && g.reasons != nil {
		g.reasons.put(f)
	}
	g.l.Debug(msg, g.attrs(f)...)
}

// listenerTTLWarning is logged by gobgp (v3.37.0 server.go newTCPListener)
// at every start on Linux, and is harmless for the collector, so it is
// demoted to Debug. Since Go 1.24 a net.ListenConfig opens MPTCP sockets
// by default where the kernel enables MPTCP, and Linux's MPTCP socket
// rejects IP_TTL with EOPNOTSUPP (net/mptcp/sockopt.c accepts only a few
// SOL_IP options), so gobgp cannot raise the listener's TTL to 255. That
// TTL exists only for neighbours with TTL security (GTSM, RFC 5082), which
// the collector never configures; each accepted connection falls back to
// plain TCP (our peers do not speak MPTCP) and gets its own TTL set
// afterwards, which works. Turning MPTCP off (GODEBUG=multipathtcp=0)
// would fix it for the whole program, which is not a library's call.
const listenerTTLWarning = "cannot set TTL (255) for TCPListener"

func (g *gobgpLogger) Debug(string, gobgplog.Fields) {}
func (g *gobgpLogger) SetLevel(gobgplog.LogLevel)    {}
func (g *gobgpLogger) GetLevel() gobgplog.LogLevel   { return gobgplog.InfoLevel }
