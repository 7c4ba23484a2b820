package collector

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/internal/testutil"
	"github.com/rovimpact/rovimpact/internal/testutil/bird"
)

// birdAddr is the address the shared bird helper (internal/testutil/bird)
// peers from.
const birdAddr = "127.0.0.1"

// TestBGPWithBird: a real bird2 peer with graceful restart (RFC 4724)
// exports IPv4 and IPv6 routes. Killed, its routes are kept stale; back
// with one route fewer, the stale one is withdrawn at its End-of-RIB and
// the rest kept. Disabled in birdc (a CEASE NOTIFICATION), every route
// goes at once, graceful restart or not; enabled, they come back.
func TestBGPWithBird(t *testing.T) {
	testutil.NeedTool(t, "bird", "bird2")
	port := freePort(t)
	var b *bird.Bird
	routes := func(ps ...string) []bird.Route {
		var out []bird.Route
		for _, p := range ps {
			out = append(out, bird.Route{Prefix: p})
		}
		return out
	}
	table := newHeldTable()
	var sess eventLog
	col := startCollector(t, BGPConfig{
		Listen:    netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port),
		Neighbors: []Neighbor{{Addr: netip.MustParseAddr(birdAddr), AS: 64520}},
		LocalAS:   65000,
		Logger:    quiet,
		OnSession: func(e SessionEvent) { sess.session(e) },
	}, table.handle)
	want := func(what string, routes ...string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			got := table.list(birdAddr)
			if slices.Equal(got, routes) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: collector holds %q, want %q\nsessions %q\nstats %+v\nbird log:\n%s", what, got, routes, sess.snapshot(), col.Stats(), b.Log())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	all := []string{"192.0.2.0/24#0 AS64520", "198.51.100.0/24#0 AS64520", "2001:db8::/32#0 AS64520"}
	b = bird.Start(t, bird.Config{AS: 64520, PeerAS: 65000, PeerPort: port, Routes: routes("192.0.2.0/24", "198.51.100.0/24", "2001:db8::/32")})
	want("bird up", all...)

	downs := table.peerDowns()
	b.Stop()
	waitSession := func(what, prefix string, n int) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			c := 0
			for _, s := range sess.sessions() {
				if strings.Contains(s, prefix) {
					c++
				}
			}
			if c >= n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: sessions %q", what, sess.sessions())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitSession("bird killed", "graceful restart", 1)
	time.Sleep(200 * time.Millisecond)
	if got := table.list(birdAddr); !slices.Equal(got, all) || table.peerDowns() != downs {
		t.Fatalf("during the restart the collector holds %q (PeerDowns %d → %d), want the stale routes %q", got, downs, table.peerDowns(), all)
	}

	// Back without 198.51.100.0/24. A bird restarted from scratch kept no
	// forwarding state, so its OPEN sets no F bit: the three stale routes
	// go at once (RFC 4724 §4.2) and the two it still has come back.
	// (TestGracefulRestartEndOfRIB covers a peer that sets the F bit.)
	b = bird.Start(t, bird.Config{AS: 64520, PeerAS: 65000, PeerPort: port, Routes: routes("192.0.2.0/24", "2001:db8::/32")})
	want("bird restarted", "192.0.2.0/24#0 AS64520", "2001:db8::/32#0 AS64520")
	if n := col.Stats().Skipped["gr_stale_flushed"]; n != 3 {
		t.Errorf("Skipped[gr_stale_flushed] = %d, want 3", n)
	}

	// A session flap with a NOTIFICATION (Cease): everything goes.
	b.Disable(t)
	want("session disabled")
	b.Birdc(t, "enable", "col")
	want("session enabled", "192.0.2.0/24#0 AS64520", "2001:db8::/32#0 AS64520")
	waitSession("sessions", "established", 3)
}
