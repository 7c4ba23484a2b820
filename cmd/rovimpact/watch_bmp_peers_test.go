package main

import (
	"encoding/json"
	"net/netip"
	"testing"

	"github.com/rovimpact/rovimpact/internal/testutil/stayrtr"
	"github.com/rovimpact/rovimpact/internal/testutil/watchfix"
	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/route"
)

// TestWatchBMPPeerASChange: the case through watch. A monitored
// peer's AS changes mid-connection with no Peer Down (RFC 7854 §4.2: the
// per-peer header's AS is the session's): the routes under the old AS go
// at once, /api/invalids and the route gauges equal analyze of what the
// new session announces, and when the router's connection closes nothing
// of it stays (§3.3).
func TestWatchBMPPeerASChange(t *testing.T) {
	vrpFile := t.TempDir() + "/vrps.json"
	stayrtr.WriteVRPs(t, vrpFile, watchfix.VRPs0)
	run := startWatch(t, "--bmp", "127.0.0.1:0", "--vrps", vrpFile, "--file-poll", "0",
		"--http", freeLoopback(t), "--interval", "100ms", "--log-format", "json")
	send, conn := run.dialBMP(t)
	const addr = "192.0.2.5"
	var routes []annRoute
	for _, r := range watchfix.Without(watchfix.Routes0, watchfix.SameInvalid) {
		r.ID = 0
		routes = append(routes, r)
	}
	with := func(as string, rs []annRoute) []annRoute {
		var out []annRoute
		for _, r := range rs {
			r.Path = as + " " + r.Path
			out = append(out, r)
		}
		return out
	}
	old, cur := route.PeerKey{AS: 64496, IP: netip.MustParseAddr(addr)}, route.PeerKey{AS: 64497, IP: netip.MustParseAddr(addr)}
	send(bmpPeerUp(addr, 64496))
	for _, r := range with("64496", routes) {
		send(bmpRoute(t, addr, 64496, r, false))
	}
	run.converges(t, "routes under AS64496", truth(t, old, 0, with("64496", routes), watchfix.VRPs0))

	// The same address under AS64497, half the routes: the AS64496
	// session is over.
	half := routes[:len(routes)/2]
	for _, r := range with("64497", half) {
		send(bmpRoute(t, addr, 64497, r, false))
	}
	want := truth(t, cur, 0, with("64497", half), watchfix.VRPs0)
	run.converges(t, "routes under AS64497 only", want)
	if v, _ := run.metric(t, `rovimpact_skipped_total{reason="bmp_peer_superseded",source="bmp"}`); v != 1 {
		t.Errorf(`rovimpact_skipped_total{reason="bmp_peer_superseded",source="bmp"} = %v, want 1`, v)
	}
	_, body := run.get(t, "/api/summary")
	var sum struct{ Summary reports.Summary }
	if err := json.Unmarshal([]byte(body), &sum); err != nil {
		t.Fatal(err)
	}
	g, w := sum.Summary, want.Summary
	if g.Routes != w.Routes || g.Valid != w.Valid || g.Invalid != w.Invalid || g.NotFound != w.NotFound || g.Dropped != w.Dropped ||
		g.Classes != w.Classes || g.Impact != w.Impact {
		t.Errorf("/api/summary:\n%s\nwant analyze's:\n%s", jsonOf(t, g), jsonOf(t, w))
	}
	if v, _ := run.metric(t, `rovimpact_peer_paths{peer_as="64496",peer_ip="192.0.2.5"}`); v != 0 {
		t.Errorf("the old session still holds %v paths", v)
	}

	// Connection loss: nothing of the router stays.
	conn.Close()
	run.converges(t, "router gone", truth(t, cur, 0, nil, watchfix.VRPs0))
}
