package collector

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/osrg/gobgp/v3/pkg/packet/bgp"

	"github.com/rovimpact/rovimpact/internal/testutil"
	"github.com/rovimpact/rovimpact/internal/testutil/gobgpd"
	"github.com/rovimpact/rovimpact/route"
)

func startCollector(t testing.TB, cfg BGPConfig, h Handler) *BGP {
	t.Helper()
	if cfg.LocalAS == 0 {
		cfg.LocalAS = 65000
	}
	if !cfg.RouterID.IsValid() {
		cfg.RouterID = netip.MustParseAddr("192.0.2.254")
	}
	b, err := NewBGP(cfg, h)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// TestBGPWithGobgpd: a real speaker (Debian gobgpd) announces IPv4 and IPv6
// routes, one with an AS_SET and two paths for one prefix under ADD-PATH
// (RFC 7911), withdraws one, then dies.
func TestBGPWithGobgpd(t *testing.T) {
	port := freePort(t)
	var rec recorder
	var sess eventLog
	var logBuf testutil.SyncBuffer
	b := startCollector(t, BGPConfig{
		Listen:    netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port),
		Neighbors: []Neighbor{{Addr: netip.MustParseAddr("127.0.0.1"), AS: 65001}},
		Logger:    slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelWarn})),
		OnSession: sess.session,
	}, func(r *route.Route) { rec.handle(r); sess.route(r) })
	g := gobgpd.Start(t, gobgpd.Config{AS: 65001, PeerAS: 65000, PeerPort: port, AddPath: true})
	// The session is up before anything is announced.
	sess.waitFor(t, 15*time.Second, "session up", func(ev []string) bool { return len(ev) > 0 })
	if got := sess.snapshot(); got[0] != "session 127.0.0.1 AS65001 established" {
		t.Errorf("first event: got %q, want the session established", got[0])
	}
	g.MustRun(t, "global", "rib", "add", "-a", "ipv4", "192.0.2.0/24", "identifier", "1", "aspath", "64500", "nexthop", "127.0.0.1")
	g.MustRun(t, "global", "rib", "add", "-a", "ipv4", "192.0.2.0/24", "identifier", "2", "aspath", "64501 64502", "nexthop", "127.0.0.1")
	g.MustRun(t, "global", "rib", "add", "-a", "ipv4", "198.51.100.0/24", "aspath", "64503 {64504,64505}", "nexthop", "127.0.0.1")
	g.MustRun(t, "global", "rib", "add", "-a", "ipv6", "2001:db8::/32", "aspath", "64506", "nexthop", "::1")

	// gobgpd prepends its own AS 65001 towards the eBGP collector, and
	// numbers paths without an explicit identifier 1.
	want := []string{
		"announce 127.0.0.1 AS65001 192.0.2.0/24 id=1 path=[65001 64500] origin=AS64500 nh=127.0.0.1 rpki=-1",
		"announce 127.0.0.1 AS65001 192.0.2.0/24 id=2 path=[65001 64501 64502] origin=AS64502 nh=127.0.0.1 rpki=-1",
		// RFC 6811 §2: final segment AS_SET → origin NONE.
		"announce 127.0.0.1 AS65001 198.51.100.0/24 id=1 path=[65001 64503 {64504,64505}] origin=NONE nh=127.0.0.1 rpki=-1",
		"announce 127.0.0.1 AS65001 2001:db8::/32 id=1 path=[65001 64506] origin=AS64506 nh=::1 rpki=-1",
	}
	start := time.Now()
	rec.waitFor(t, 15*time.Second, "4 announcements", func(ev []route.Route) bool {
		return !slices.ContainsFunc(want, func(w string) bool { return !has(ev, w) })
	})
	t.Logf("announcements after %v", time.Since(start))
	g.MustRun(t, "global", "rib", "del", "-a", "ipv4", "192.0.2.0/24", "identifier", "2")
	rec.waitFor(t, 5*time.Second, "withdraw", func(ev []route.Route) bool {
		return has(ev, "withdraw 127.0.0.1 192.0.2.0/24 id=2")
	})
	g.Stop()
	ev := rec.waitFor(t, 5*time.Second, "peer down", func(ev []route.Route) bool { return has(ev, "down 127.0.0.1") })
	if n := len(ev); n != 6 {
		t.Errorf("got %d events, want 6:\n%s", n, dump(ev))
	}
	// The session's end comes before the PeerDown that flushes its paths;
	// gobgpd died, so the collector read EOF.
	if got := sess.sessions(); len(got) != 2 || !slices.Contains([]string{"session 127.0.0.1 AS65001 idle (connection closed by peer)"}, got[1]) {
		t.Errorf("session events: got %q, want established then idle (connection closed by peer)", got)
	}
	if all := sess.snapshot(); len(all) < 2 || all[len(all)-1] != "down 127.0.0.1" || !strings.HasPrefix(all[len(all)-2], "session ") {
		t.Errorf("events end with %q, want the session event then the PeerDown", all[max(0, len(all)-2):])
	}
	if s := logBuf.String(); s != "" {
		t.Errorf("a peer that connects, idles and leaves logged warnings:\n%s", s)
	}
	st := b.Stats()
	if st.Routes != 6 || st.Records != 5 {
		t.Errorf("stats: got routes=%d records=%d, want 6 and 5 (%+v)", st.Routes, st.Records, st)
	}
	if p := b.Peers(); len(p) != 1 || p[0].AS != 65001 || p[0].BGPID != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("peers: got %+v, want one AS65001 peer with BGP ID 127.0.0.1", p)
	}
}

// TestBGPTreatAsWithdraw: an UPDATE whose
// ORIGIN has an undefined value must be treated as a withdrawal of its NLRI
// (RFC 7606 §7.1), the session must stay up, and we count it.
func TestBGPTreatAsWithdraw(t *testing.T) {
	port := freePort(t)
	var rec recorder
	// A dynamic neighbor of any AS.
	cfg := BGPConfig{
		Listen: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port),
		Accept: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		Logger: quiet,
	}
	b := startCollector(t, cfg, rec.handle)
	s := dialSpeaker(t, fmt.Sprintf("127.0.0.1:%d", port), "127.0.0.5", 64512, false)
	good := []bgp.PathAttributeInterface{bgp.NewPathAttributeOrigin(0),
		bgp.NewPathAttributeAsPath([]bgp.AsPathParamInterface{seq(64512, 64513)}), bgp.NewPathAttributeNextHop("127.0.0.5")}
	s.write(t, s.update(good, []*bgp.IPAddrPrefix{v4("192.0.2.0", 24, 0)}))
	rec.waitFor(t, 5*time.Second, "announcement", func(ev []route.Route) bool {
		return has(ev, "announce 127.0.0.5 AS64512 192.0.2.0/24 id=0 path=[64512 64513] origin=AS64513 nh=127.0.0.5 rpki=-1")
	})
	bad := s.update(good, []*bgp.IPAddrPrefix{v4("192.0.2.0", 24, 0)})
	// ORIGIN is the first attribute: flags, type 1, length 1, value at
	// offset 19 (header) + 2 (withdrawn len) + 2 (attrs len) + 3.
	if bad[23] != 0x40 || bad[24] != 1 {
		t.Fatalf("unexpected layout % x", bad[:30])
	}
	bad[26] = 7 // RFC 4271 §4.3 defines 0..2
	s.write(t, bad)
	rec.waitFor(t, 5*time.Second, "treat-as-withdraw", func(ev []route.Route) bool {
		return has(ev, "withdraw 127.0.0.5 192.0.2.0/24 id=0")
	})
	// The session survived: a later good UPDATE still arrives.
	s.write(t, s.update(good, []*bgp.IPAddrPrefix{v4("198.51.100.0", 24, 0)}))
	rec.waitFor(t, 5*time.Second, "announcement after", func(ev []route.Route) bool {
		return has(ev, "announce 127.0.0.5 AS64512 198.51.100.0/24 id=0 path=[64512 64513] origin=AS64513 nh=127.0.0.5 rpki=-1")
	})
	if n := b.Stats().Skipped["treat_as_withdraw"]; n != 1 {
		t.Errorf("Skipped[treat_as_withdraw]: got %d, want 1", n)
	}
}

// TestNewBGPRejects pins the configuration checks: the collector must never
// start accepting sessions from anyone, nor with an identity a BGP OPEN cannot carry.
func TestNewBGPRejects(t *testing.T) {
	ok := BGPConfig{LocalAS: 65000, RouterID: netip.MustParseAddr("192.0.2.1"), Neighbors: []Neighbor{{Addr: netip.MustParseAddr("127.0.0.1")}}}
	tests := []struct {
		name string
		edit func(*BGPConfig)
		want string
	}{
		{"valid", func(*BGPConfig) {}, ""},
		{"nobody accepted", func(c *BGPConfig) { c.Neighbors = nil }, "at least one neighbor"},
		{"no local AS", func(c *BGPConfig) { c.LocalAS = 0 }, "local AS"},
		{"IPv6 router ID (RFC 4271 §4.2: 4 octets)", func(c *BGPConfig) { c.RouterID = netip.MustParseAddr("::1") }, "router ID"},
		{"port 0", func(c *BGPConfig) { c.Listen = netip.MustParseAddrPort("127.0.0.1:0") }, "port 0"},
		{"neighbor without address", func(c *BGPConfig) { c.Neighbors = []Neighbor{{AS: 1}} }, "without address"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.edit(&c)
			b, err := NewBGP(c, func(*route.Route) {})
			if tc.want == "" {
				if err != nil || b.cfg.Listen != DefaultBGPListen {
					t.Fatalf("got %v, listen %v; want nil and the loopback default", err, b.cfg.Listen)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
