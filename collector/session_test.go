package collector

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/internal/testutil"

	"github.com/osrg/gobgp/v3/pkg/packet/bgp"
	"github.com/osrg/gobgp/v3/pkg/packet/bmp"

	"github.com/rovimpact/rovimpact/route"
)

// eventLog records route and session events in the order the source
// delivered them, in the compact form tests compare.
type eventLog struct {
	mu  sync.Mutex
	evs []string
}

func (l *eventLog) route(r *route.Route) {
	l.mu.Lock()
	l.evs = append(l.evs, summary(*r))
	l.mu.Unlock()
}

func (l *eventLog) session(e SessionEvent) {
	s := fmt.Sprintf("session %s AS%d %s", e.Peer.IP, e.Peer.AS, e.State)
	if e.Reason != "" {
		s += " (" + e.Reason + ")"
	}
	l.mu.Lock()
	l.evs = append(l.evs, s)
	l.mu.Unlock()
}

func (l *eventLog) snapshot() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.evs)
}

// sessions returns the session events only.
func (l *eventLog) sessions() []string {
	var out []string
	for _, s := range l.snapshot() {
		if strings.HasPrefix(s, "session ") {
			out = append(out, s)
		}
	}
	return out
}

func (l *eventLog) waitFor(t *testing.T, d time.Duration, what string, cond func([]string) bool) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		if cond(l.snapshot()) {
			return time.Since(start)
		}
		if time.Since(start) > d {
			t.Fatalf("timed out after %v waiting for %s; got:\n  %s", d, what, strings.Join(l.snapshot(), "\n  "))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func msgPeerDownReason(addr string, as uint32, reason uint8, notif *bgp.BGPMessage, data []byte) []byte {
	return must(bmp.NewBMPPeerDownNotification(peerHeader(addr, as, 0), reason, notif, data).Serialize())
}

// TestBMPSessionEvents pins which BMP messages make session events, with
// what reason, and their order among the route events.
func TestBMPSessionEvents(t *testing.T) {
	const a, b = "192.0.2.10", "192.0.2.11"
	up := func(addr string, as uint32) []byte { return msgPeerUp(addr, as, 0, 0) }
	route := msgUpdate(a, 64500, 0, false, []bgp.AsPathParamInterface{seq(64500)}, []*bgp.IPAddrPrefix{v4("198.51.100.0", 24, 0)}, nil)
	tests := []struct {
		name string
		msgs [][]byte
		want []string
	}{
		{
			// RFC 7854 §4.10: Peer Up = the session is Established, routes
			// or not; the stream ending takes every peer of the router down.
			name: "peer up without routes, then the router connection closes",
			msgs: [][]byte{up(a, 64500)},
			want: []string{
				"session 192.0.2.10 AS64500 established",
				"session 192.0.2.10 AS64500 idle (router connection closed)",
				"down 192.0.2.10",
			},
		},
		{
			// The session event precedes the peer's first route, the down
			// event the PeerDown that flushes its paths.
			name: "order among route events",
			msgs: [][]byte{up(a, 64500), route, msgPeerDown(a, 64500)},
			want: []string{
				"session 192.0.2.10 AS64500 established",
				"announce 192.0.2.10 AS64500 198.51.100.0/24 id=0 path=[64500] origin=AS64500 nh=192.0.2.1 rpki=-1",
				"session 192.0.2.10 AS64500 idle (remote system closed without NOTIFICATION)",
				"down 192.0.2.10",
			},
		},
		{
			// RFC 7854 §4.9 reason 3: the remote NOTIFICATION follows; RFC
			// 4486 §4 Cease subcode 2 = administrative shutdown.
			name: "peer down, NOTIFICATION received",
			msgs: [][]byte{up(a, 64500), msgPeerDownReason(a, 64500, bmp.BMP_PEER_DOWN_REASON_REMOTE_BGP_NOTIFICATION,
				bgp.NewBGPNotificationMessage(bgp.BGP_ERROR_CEASE, bgp.BGP_ERROR_SUB_ADMINISTRATIVE_SHUTDOWN, nil), nil)},
			want: []string{
				"session 192.0.2.10 AS64500 established",
				"session 192.0.2.10 AS64500 idle (remote system closed, NOTIFICATION received: code 6(cease) subcode 2(administrative shutdown))",
				"down 192.0.2.10",
			},
		},
		{
			// §4.9 reason 1: our side sent a NOTIFICATION (hold timer expired).
			name: "peer down, NOTIFICATION sent",
			msgs: [][]byte{up(a, 64500), msgPeerDownReason(a, 64500, bmp.BMP_PEER_DOWN_REASON_LOCAL_BGP_NOTIFICATION,
				bgp.NewBGPNotificationMessage(bgp.BGP_ERROR_HOLD_TIMER_EXPIRED, 0, nil), nil)},
			want: []string{
				"session 192.0.2.10 AS64500 established",
				"session 192.0.2.10 AS64500 idle (local system closed, NOTIFICATION sent: code 4(hold timer expired) subcode 0(undefined))",
				"down 192.0.2.10",
			},
		},
		{
			// §4.9 reason 2: a 2-byte FSM event code follows (RFC 4271 §8.1:
			// event 18 = TcpConnectionFails).
			name: "peer down, local FSM event",
			msgs: [][]byte{up(a, 64500), msgPeerDownReason(a, 64500, bmp.BMP_PEER_DOWN_REASON_LOCAL_NO_NOTIFICATION, nil, []byte{0, 18})},
			want: []string{
				"session 192.0.2.10 AS64500 established",
				"session 192.0.2.10 AS64500 idle (local system closed without NOTIFICATION, FSM event 18)",
				"down 192.0.2.10",
			},
		},
		{
			// §4.9 reason 5: the router's operator removed the peer.
			name: "peer de-configured",
			msgs: [][]byte{up(a, 64500), msgPeerDownReason(a, 64500, bmp.BMP_PEER_DOWN_REASON_PEER_DE_CONFIGURED, nil, nil)},
			want: []string{
				"session 192.0.2.10 AS64500 established",
				"session 192.0.2.10 AS64500 idle (peer de-configured)",
				"down 192.0.2.10",
			},
		},
		{
			// A Peer Down for a peer never reported up is no session edge
			// (the station may have connected after the Peer Up, or skipped
			// it); its paths are still flushed.
			name: "peer down without peer up",
			msgs: [][]byte{route, msgPeerDown(a, 64500)},
			want: []string{
				"announce 192.0.2.10 AS64500 198.51.100.0/24 id=0 path=[64500] origin=AS64500 nh=192.0.2.1 rpki=-1",
				"down 192.0.2.10",
			},
		},
		{
			// A repeated Peer Up (the router re-announcing its state) is
			// not a new session.
			name: "peer up twice",
			msgs: [][]byte{up(a, 64500), up(a, 64500), msgPeerDown(a, 64500)},
			want: []string{
				"session 192.0.2.10 AS64500 established",
				"session 192.0.2.10 AS64500 idle (remote system closed without NOTIFICATION)",
				"down 192.0.2.10",
			},
		},
		{
			// Up, down, up again: two sessions; only the one still up goes
			// down with the connection, the other peer's session stays apart.
			name: "session comes back",
			msgs: [][]byte{up(a, 64500), up(b, 64501), msgPeerDown(a, 64500), up(a, 64500), msgPeerDown(b, 64501)},
			want: []string{
				"session 192.0.2.10 AS64500 established",
				"session 192.0.2.11 AS64501 established",
				"session 192.0.2.10 AS64500 idle (remote system closed without NOTIFICATION)",
				"down 192.0.2.10",
				"session 192.0.2.10 AS64500 established",
				"session 192.0.2.11 AS64501 idle (remote system closed without NOTIFICATION)",
				"down 192.0.2.11",
				"session 192.0.2.10 AS64500 idle (router connection closed)",
				"down 192.0.2.10",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var l eventLog
			em := newEmitter(l.route)
			em.onSession = l.session
			err := runSession(bytes.NewReader(bytes.Join(tc.msgs, nil)), em, sessionOpts{max: DefaultBMPMaxMessage}, "192.0.2.99:40000", quiet, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := l.snapshot(); !slices.Equal(got, tc.want) {
				t.Errorf("events:\ngot  %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestBMPListenerSessionEvents: through a real connection, a peer that
// sends no route is up at its Peer Up, names its router, and goes down as
// soon as the router's connection closes.
func TestBMPListenerSessionEvents(t *testing.T) {
	var l eventLog
	var mu sync.Mutex
	var routers []netip.AddrPort
	b, err := ListenBMP(BMPConfig{Listen: netipMust("127.0.0.1:0"), Logger: quiet, OnSession: func(e SessionEvent) {
		mu.Lock()
		routers = append(routers, e.Router)
		mu.Unlock()
		l.session(e)
	}}, l.route)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Serve(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	c, err := net.Dial("tcp", b.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.Write(msgInitiation())
	c.Write(msgPeerUp("192.0.2.10", 64500, 0, 0))
	l.waitFor(t, 5*time.Second, "session up", func(ev []string) bool { return len(ev) == 1 })
	c.Close()
	l.waitFor(t, 5*time.Second, "session down", func(ev []string) bool { return len(ev) == 3 })
	want := []string{
		"session 192.0.2.10 AS64500 established",
		"session 192.0.2.10 AS64500 idle (router connection closed)",
		"down 192.0.2.10",
	}
	if got := l.snapshot(); !slices.Equal(got, want) {
		t.Errorf("events:\ngot  %q\nwant %q", got, want)
	}
	router := c.LocalAddr().(*net.TCPAddr).AddrPort()
	mu.Lock()
	defer mu.Unlock()
	for i, r := range routers {
		if r != router {
			t.Errorf("event %d: Router = %v, want %v (the connection's remote end)", i, r, router)
		}
	}
}

// TestBGPSessionEvents: a peer that announces nothing must be reported up
// at Established, down as soon as its connection dies, and up again when
// it comes back at once (no hold-down after a session ends).
// (TestBGPWithGobgpd checks the same against a real gobgpd.)
func TestBGPSessionEvents(t *testing.T) {
	port := freePort(t)
	var l eventLog
	var logBuf testutil.SyncBuffer
	cfg := BGPConfig{
		Listen: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port),
		// A dynamic neighbor of any AS: its AS is read from its OPEN.
		Accept:    []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		Logger:    slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelWarn})),
		OnSession: l.session,
	}
	startCollector(t, cfg, l.route)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	up := "session 127.0.0.5 AS64512 established"
	count := func(ev []string, s string) (n int) {
		for _, e := range ev {
			if strings.HasPrefix(e, s) {
				n++
			}
		}
		return n
	}

	s := dialSpeaker(t, addr, "127.0.0.5", 64512, false)
	l.waitFor(t, 5*time.Second, "session up", func(ev []string) bool { return count(ev, up) == 1 })
	s.c.Close()
	took := l.waitFor(t, 5*time.Second, "session down", func(ev []string) bool { return count(ev, "down 127.0.0.5") == 1 })
	t.Logf("down reported %v after the speaker's connection closed", took)
	dialSpeaker(t, addr, "127.0.0.5", 64512, false)
	l.waitFor(t, 5*time.Second, "session up again", func(ev []string) bool { return count(ev, up) == 2 })

	// The peer's socket closed: the collector reads EOF.
	wantDown := []string{"session 127.0.0.5 AS64512 idle (connection closed by peer)"}
	ev := l.snapshot()
	if len(ev) != 4 || ev[0] != up || !slices.Contains(wantDown, ev[1]) || ev[2] != "down 127.0.0.5" || ev[3] != up {
		t.Errorf("events: got %q, want up, down (%q), PeerDown, up", ev, wantDown)
	}
	if s := logBuf.String(); s != "" {
		t.Errorf("a peer that connects, idles and leaves logged warnings:\n%s", s)
	}
}
