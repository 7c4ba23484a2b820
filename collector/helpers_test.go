package collector

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/internal/testutil"
	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
)

// recorder keeps deep copies of the events a Handler saw.
type recorder struct {
	mu     sync.Mutex
	events []route.Route
}

func (r *recorder) handle(ev *route.Route) {
	c := *ev
	c.Path = nil
	for _, s := range ev.Path {
		c.Path = append(c.Path, rov.Segment{Type: s.Type, ASNs: slices.Clone(s.ASNs)})
	}
	r.mu.Lock()
	r.events = append(r.events, c)
	r.mu.Unlock()
}

func (r *recorder) snapshot() []route.Route {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// waitFor polls until cond holds on the recorded events or d passes.
func (r *recorder) waitFor(t *testing.T, d time.Duration, what string, cond func([]route.Route) bool) []route.Route {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		ev := r.snapshot()
		if cond(ev) {
			return ev
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s; got %d events:\n%s", d, what, len(ev), dump(ev))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func dump(ev []route.Route) string {
	var b strings.Builder
	for _, r := range ev {
		fmt.Fprintf(&b, "  %s\n", summary(r))
	}
	return b.String()
}

// summary is the compact, comparable form tests assert on.
func summary(r route.Route) string {
	switch r.Kind {
	case route.PeerDown:
		return fmt.Sprintf("down %s", r.Peer.IP)
	case route.Withdraw:
		return fmt.Sprintf("withdraw %s %s id=%d", r.Peer.IP, r.Prefix, r.PathID)
	}
	var path []string
	for _, s := range r.Path {
		var as []string
		for _, a := range s.ASNs {
			as = append(as, fmt.Sprint(a))
		}
		if s.Type == rov.ASSet {
			path = append(path, "{"+strings.Join(as, ",")+"}")
		} else {
			path = append(path, strings.Join(as, " "))
		}
	}
	o := fmt.Sprintf("AS%d", r.Origin.ASN)
	if r.Origin.Kind == rov.OriginNone {
		o = "NONE"
	} else if r.Origin.Kind == rov.OriginLocal {
		o = "LOCAL"
	}
	return fmt.Sprintf("announce %s AS%d %s id=%d path=[%s] origin=%s nh=%s rpki=%d", r.Peer.IP, r.Peer.AS, r.Prefix, r.PathID,
		strings.Join(path, " "), o, r.NextHop, r.RPKIState)
}

func freePort(t testing.TB) uint16 {
	return netip.MustParseAddrPort(testutil.FreeLoopback(t)).Port()
}

func has(ev []route.Route, s string) bool {
	return slices.ContainsFunc(ev, func(r route.Route) bool { return summary(r) == s })
}

type netipPrefix = netip.Prefix

func netipMust(s string) netip.AddrPort     { return netip.MustParseAddrPort(s) }
func netipPrefixMust(s string) netip.Prefix { return netip.MustParsePrefix(s) }
func errorsIs(err, target error) bool       { return errors.Is(err, target) }
