package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/internal/testutil"
	"github.com/rovimpact/rovimpact/internal/testutil/fixture"
	"github.com/rovimpact/rovimpact/internal/testutil/watchfix"

	"github.com/osrg/gobgp/v3/pkg/packet/bgp"
	"github.com/osrg/gobgp/v3/pkg/packet/bmp"

	"github.com/rovimpact/rovimpact/internal/testutil/stayrtr"
	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
)

// --- generated BMP (RFC 7854), serialised by gobgp's packet library ---

func bmpMust(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func bmpPeerHeader(addr string, as uint32) bmp.BMPPeerHeader {
	// Flags 0: pre-policy Adj-RIB-In, IPv4 peer (RFC 7854 §4.2).
	return *bmp.NewBMPPeerHeader(bmp.BMP_PEER_TYPE_GLOBAL, 0, 0, addr, as, "192.0.2.99", 1700000000)
}

// bmpPeerUp is a BMP Peer Up for the peer (addr, as), local 192.0.2.1
// AS64511.
func bmpPeerUp(addr string, as uint32) []byte {
	return bmpMust(bmp.NewBMPPeerUpNotification(bmpPeerHeader(addr, as), "192.0.2.1", 179, 40000, bmpOpen(64511), bmpOpen(as)).Serialize())
}

// dialBMP connects to the watch's BMP station (closed when the test ends)
// and returns a sender that fails the test on a write error, and the
// connection.
func (run *watchRun) dialBMP(t *testing.T) (func(msgs ...[]byte), net.Conn) {
	t.Helper()
	conn, err := net.Dial("tcp", run.w.BMPAddr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return func(msgs ...[]byte) {
		t.Helper()
		for _, m := range msgs {
			if _, err := conn.Write(m); err != nil {
				t.Fatal(err)
			}
		}
	}, conn
}

func bmpOpen(as uint32) *bgp.BGPMessage {
	caps := []bgp.ParameterCapabilityInterface{
		bgp.NewCapMultiProtocol(bgp.RF_IPv4_UC), bgp.NewCapMultiProtocol(bgp.RF_IPv6_UC), bgp.NewCapFourOctetASNumber(as),
	}
	return bgp.NewBGPOpenMessage(23456, 90, "192.0.2.99", []bgp.OptionParameterInterface{bgp.NewOptionParameterCapability(caps)})
}

// bmpRoute is route monitoring for one announcement (or withdrawal) of r
// from the monitored peer.
func bmpRoute(t testing.TB, addr string, as uint32, r annRoute, withdraw bool) []byte {
	t.Helper()
	p := netip.MustParsePrefix(r.Prefix)
	var segs []bgp.AsPathParamInterface
	for _, s := range fixture.ParsePath(t, r.Path) {
		typ := uint8(bgp.BGP_ASPATH_ATTR_TYPE_SEQ)
		if s.Type == rov.ASSet {
			typ = bgp.BGP_ASPATH_ATTR_TYPE_SET
		}
		segs = append(segs, bgp.NewAs4PathParam(typ, s.ASNs))
	}
	var u *bgp.BGPMessage
	if p.Addr().Is4() {
		nlri := []*bgp.IPAddrPrefix{bgp.NewIPAddrPrefix(uint8(p.Bits()), p.Addr().String())}
		if withdraw {
			u = bgp.NewBGPUpdateMessage(nlri, nil, nil)
		} else {
			u = bgp.NewBGPUpdateMessage(nil, []bgp.PathAttributeInterface{bgp.NewPathAttributeOrigin(0),
				bgp.NewPathAttributeAsPath(segs), bgp.NewPathAttributeNextHop("192.0.2.1")}, nlri)
		}
	} else {
		nlri := []bgp.AddrPrefixInterface{bgp.NewIPv6AddrPrefix(uint8(p.Bits()), p.Addr().String())}
		if withdraw {
			u = bgp.NewBGPUpdateMessage(nil, []bgp.PathAttributeInterface{bgp.NewPathAttributeMpUnreachNLRI(nlri)}, nil)
		} else {
			u = bgp.NewBGPUpdateMessage(nil, []bgp.PathAttributeInterface{bgp.NewPathAttributeOrigin(0),
				bgp.NewPathAttributeAsPath(segs), bgp.NewPathAttributeMpReachNLRI("2001:db8::1", nlri)}, nil)
		}
	}
	return bmpMust(bmp.NewBMPRouteMonitoring(bmpPeerHeader(addr, as), u).Serialize())
}

// slurmed applies filters (RFC 8416 §3.3: a filter with prefix and ASN
// removes the VRPs of that ASN at or inside the prefix) then assertions
// (§3.4), as the truth's VRP set.
func slurmed(vrps, filters, asserts []rov.VRP) []rov.VRP {
	var out []rov.VRP
next:
	for _, v := range vrps {
		for _, f := range filters {
			if f.ASN == v.ASN && f.Prefix.Bits() <= v.Prefix.Bits() && f.Prefix.Contains(v.Prefix.Addr()) {
				continue next
			}
		}
		out = append(out, v)
	}
	return append(out, asserts...)
}

// TestWatchBMPAndFiles drives watch with generated BMP messages (RFC 7854:
// initiation, peer up, pre-policy route monitoring, a malformed message,
// withdrawals, peer down, termination) and VRPs from a file through SLURM,
// reloaded on SIGHUP: /api/invalids equals analyze's answer at each step.
func TestWatchBMPAndFiles(t *testing.T) {
	dir := t.TempDir()
	vrpFile := filepath.Join(dir, "vrps.json")
	slurmFile := filepath.Join(dir, "local.slurm")
	stayrtr.WriteVRPs(t, vrpFile, watchfix.VRPs0)
	// RFC 8416 §3.3: drop the VRP behind the AS_SET route's class; §3.4:
	// assert one that makes the not_found route valid.
	filters := []rov.VRP{vrpOf("10.5.0.0/16", 16, 64505)}
	asserts := []rov.VRP{vrpOf("172.16.0.0/24", 24, 64510)}
	fixture.WriteSLURM(t, slurmFile, filters, asserts)

	run := startWatch(t, "--bmp", "127.0.0.1:0", "--vrps", vrpFile, "--slurm", slurmFile, "--file-poll", "0",
		"--http", freeLoopback(t), "--interval", "100ms", "--log-format", "json")
	send, _ := run.dialBMP(t)
	const peerAddr, peerAS = "192.0.2.5", 64496
	peer := route.PeerKey{AS: peerAS, IP: netip.MustParseAddr(peerAddr)}
	// Without ADD-PATH, one path per prefix: the paths of watchfix.Routes0 but
	// for the second 10.0.2.0/24, with the peer's AS in front.
	var routes []annRoute
	for _, r := range watchfix.Without(watchfix.Routes0, watchfix.SameInvalid) {
		r.Path, r.ID = "64496 "+r.Path, 0
		routes = append(routes, r)
	}
	send(bmpMust(bmp.NewBMPInitiation([]bmp.BMPInfoTLVInterface{bmp.NewBMPInfoTLVString(bmp.BMP_INIT_TLV_TYPE_SYS_NAME, "router1")}).Serialize()),
		bmpPeerUp(peerAddr, peerAS))
	for _, r := range routes {
		send(bmpRoute(t, peerAddr, peerAS, r, false))
	}
	// RFC 7854 §4.1: message type 99 is unassigned; the station skips it
	// and the session goes on.
	send([]byte{3, 0, 0, 0, 6, 99})
	vrps := slurmed(watchfix.VRPs0, filters, asserts)
	want := truth(t, peer, 0, routes, vrps)
	raw := truth(t, peer, 0, routes, watchfix.VRPs0)
	// SLURM must matter: the filter removes the as_set route's VRP (it
	// becomes not_found), the assertion makes the not_found route valid.
	if want.Summary.Classes.ASSet != 0 || raw.Summary.Classes.ASSet != 1 || want.Summary.Valid != raw.Summary.Valid+1 || len(want.Invalids) < 6 {
		t.Fatalf("fixture: SLURM changes nothing: %+v vs %+v", want.Summary, raw.Summary)
	}
	run.converges(t, "BMP routes", want)
	if v, _ := run.metric(t, `rovimpact_skipped_total{reason="bmp_malformed",source="bmp"}`); v != 1 {
		t.Errorf(`rovimpact_skipped_total{reason="bmp_malformed",source="bmp"} = %v, want 1`, v)
	}
	if v, _ := run.metric(t, `rovimpact_vrps{source="slurm"}`); v != 1 {
		t.Errorf(`rovimpact_vrps{source="slurm"} = %v, want 1`, v)
	}

	// Withdrawals.
	send(bmpRoute(t, peerAddr, peerAS, routes[0], true), bmpRoute(t, peerAddr, peerAS, watchfix.V6Specific, true))
	routes = watchfix.Without(routes, routes[0])
	for i, r := range routes {
		if r.Prefix == watchfix.V6Specific.Prefix {
			routes = append(routes[:i:i], routes[i+1:]...)
			break
		}
	}
	run.converges(t, "BMP withdrawals", truth(t, peer, 0, routes, vrps))

	// The file changes; with --file-poll 0 only SIGHUP reloads it.
	vrps1 := append(watchfix.Without(watchfix.VRPs0, vrpOf("10.1.0.0/16", 16, 64501)), vrpOf("10.2.0.0/24", 24, 64999))
	stayrtr.WriteVRPs(t, vrpFile, vrps1)
	time.Sleep(300 * time.Millisecond)
	if got := jsonOf(t, run.invalids(t)); got != jsonOf(t, truth(t, peer, 0, routes, vrps).Invalids) {
		t.Fatalf("the file was reloaded without SIGHUP and --file-poll 0:\n%s", got)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	run.converges(t, "SIGHUP reload", truth(t, peer, 0, routes, slurmed(vrps1, filters, asserts)))
	run.logged(t, `"reason":"sighup"`, 1)

	// Peer down (RFC 7854 §4.9): every path of the peer goes.
	send(bmpMust(bmp.NewBMPPeerDownNotification(bmpPeerHeader(peerAddr, peerAS), bmp.BMP_PEER_DOWN_REASON_REMOTE_NO_NOTIFICATION, nil, nil).Serialize()))
	run.converges(t, "BMP peer down", truth(t, peer, 0, nil, vrps1))
	run.logged(t, `"msg":"session_down","source":"bmp"`, 1)
	if v, _ := run.metric(t, `rovimpact_bgp_sessions{state="down"}`); v != 1 {
		t.Errorf(`rovimpact_bgp_sessions{state="down"} = %v, want 1`, v)
	}
	if !strings.Contains(run.logs.String(), `"msg":"vrps_loaded","source":"slurm"`) {
		t.Error("no vrps_loaded line for the SLURM assertions")
	}
}

// TestWatchFilePoll: a --vrps file that changes is re-read by the poll,
// and a broken rewrite keeps the previous VRPs (logged, not fatal); the
// periodic summary line is written.
func TestWatchFilePoll(t *testing.T) {
	dir := t.TempDir()
	vrpFile := filepath.Join(dir, "vrps.json")
	stayrtr.WriteVRPs(t, vrpFile, watchfix.VRPs0)
	run := startWatch(t, "--bmp", "127.0.0.1:0", "--vrps", vrpFile, "--file-poll", "100ms",
		"--http", freeLoopback(t), "--interval", "100ms", "--log-format", "json", "--summary-interval", "100ms")
	run.logged(t, `"msg":"vrps_loaded"`, 1)
	run.logged(t, `"msg":"summary","paths":0,"routes":0,"valid":0,"invalid":0,"not_found":0,"dropped":0,"unreachable":0,"vrps":10`, 1)
	if v, _ := run.metric(t, `rovimpact_vrps_effective`); v != float64(len(watchfix.VRPs0)) {
		t.Fatalf("rovimpact_vrps_effective = %v, want %d", v, len(watchfix.VRPs0))
	}
	stayrtr.WriteVRPs(t, vrpFile, watchfix.VRPs0[:3])
	testutil.Eventually(t, 5*time.Second, "poll reload", func() (bool, string) {
		v, _ := run.metric(t, `rovimpact_vrps_effective`)
		return v == 3, tail(run.logs.String(), 10)
	})
	if err := os.WriteFile(vrpFile, []byte(`{"roas": [`), 0o644); err != nil {
		t.Fatal(err)
	}
	run.logged(t, `"msg":"vrps_reload_failed"`, 1)
	if v, _ := run.metric(t, `rovimpact_vrps_effective`); v != 3 {
		t.Errorf("after a broken rewrite rovimpact_vrps_effective = %v, want the 3 kept", v)
	}
	if v, _ := run.metric(t, `rovimpact_rtr_up{source="file:`+vrpFile+`"}`); v != 0 {
		t.Errorf("a file that failed to load is reported up")
	}
}

// TestWatchUsage: a watch without a route source or a VRP source, or with
// a malformed address, exits 2 before listening on anything; a VRP file
// that cannot be read at start exits 1.
func TestWatchUsage(t *testing.T) {
	vrps := filepath.Join("..", "..", "testdata", "sample", "vrps.json")
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no route source", []string{"--vrps", vrps}, exitUsage, "no route source"},
		{"no VRP source", []string{"--bmp", "127.0.0.1:0"}, exitUsage, "no VRP source"},
		{"BGP without --local-as (RFC 4271 §4.2: the OPEN carries it)", []string{"--neighbor", "127.0.0.1", "--vrps", vrps}, exitUsage, "--local-as"},
		{"neighbor AS is not a number", []string{"--neighbor", "127.0.0.1:x", "--local-as", "1", "--vrps", vrps}, exitUsage, "--neighbor"},
		{"IPv6 neighbor with AS needs brackets", []string{"--neighbor", "2001:db8::1:64501x", "--local-as", "1", "--vrps", vrps}, exitUsage, "--neighbor"},
		{"accept with host bits", []string{"--accept", "10.0.0.1/24", "--local-as", "1", "--vrps", vrps}, exitUsage, "--accept"},
		{"IPv6 router ID (RFC 4271 §4.2: 4 octets)", []string{"--neighbor", "127.0.0.1", "--local-as", "1", "--router-id", "::1", "--vrps", vrps}, exitUsage, "--router-id"},
		{"bad --rtr", []string{"--bmp", "127.0.0.1:0", "--rtr", "cache"}, exitUsage, "--rtr"},
		{"bad --log-format", []string{"--bmp", "127.0.0.1:0", "--vrps", vrps, "--log-format", "xml"}, exitUsage, "--log-format"},
		{"bad --as-set", []string{"--bmp", "127.0.0.1:0", "--vrps", vrps, "--as-set", "maybe"}, exitUsage, "--as-set"},
		{"arguments", []string{"--bmp", "127.0.0.1:0", "--vrps", vrps, "extra"}, exitUsage, "unknown command"},
		{"--http with a host name", []string{"--bmp", "127.0.0.1:0", "--vrps", vrps, "--http", "localhost:8323"}, exitUsage, "--http"},
		{"unreadable VRP file", []string{"--bmp", "127.0.0.1:0", "--vrps", filepath.Join(t.TempDir(), "missing.json"), "--http", ""}, exitError, "missing.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := runCLI(t, append([]string{"watch"}, tt.args...)...)
			if got := exitCodeOf(err); got != tt.code || err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("exit %d (%v), want %d with %q", got, err, tt.code, tt.msg)
			}
		})
	}
}

// TestWatchPortInUse: an --http address already taken is a runtime error
// (exit 1), not a usage error, and the watch does not start.
func TestWatchPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	vrps := filepath.Join("..", "..", "testdata", "sample", "vrps.json")
	_, _, err = runCLI(t, "watch", "--bmp", "127.0.0.1:0", "--vrps", vrps, "--http", ln.Addr().String())
	if got := exitCodeOf(err); got != exitError || !strings.Contains(fmt.Sprint(err), "address already in use") {
		t.Errorf("exit %d (%v), want %d: address already in use", got, err, exitError)
	}
}

// TestWatchTwoSourcesDisagree: two VRP files are two sources; their union
// is used (RFC 8210 §10) and /api/caches and the metrics show where they
// differ.
func TestWatchTwoSourcesDisagree(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	stayrtr.WriteVRPs(t, a, watchfix.VRPs0)
	stayrtr.WriteVRPs(t, b, append(watchfix.VRPs0[2:], vrpOf("192.0.2.0/24", 24, 64496)))
	run := startWatch(t, "--bmp", "127.0.0.1:0", "--vrps", a, "--vrps", b, "--http", freeLoopback(t), "--interval", "100ms")
	// a lacks 1, b lacks 2: 3 disagreements; the union has all of them.
	if v, _ := run.metric(t, "rovimpact_vrps_effective"); v != float64(len(watchfix.VRPs0)+1) {
		t.Errorf("rovimpact_vrps_effective = %v, want the union %d", v, len(watchfix.VRPs0)+1)
	}
	if v, _ := run.metric(t, "rovimpact_vrp_disagreements"); v != 3 {
		t.Errorf("rovimpact_vrp_disagreements = %v, want 3", v)
	}
	_, body := run.get(t, "/api/caches")
	var c struct {
		Sources       []struct{ Name string }
		Disagreements int
		Sample        []struct{ In, Missing []string } `json:"disagreements_sample"`
	}
	if err := json.Unmarshal([]byte(body), &c); err != nil {
		t.Fatal(err)
	}
	if len(c.Sources) != 2 || c.Disagreements != 3 || len(c.Sample) != 3 {
		t.Fatalf("/api/caches: %s", body)
	}
	for _, d := range c.Sample {
		if len(d.In) != 1 || len(d.Missing) != 1 {
			t.Errorf("disagreement %+v: want one source in, one missing", d)
		}
	}
}

// TestWatchMaxPrefixes: --max-prefixes bounds what one BMP-monitored peer
// can make the watch hold; the paths beyond it are counted, not held.
func TestWatchMaxPrefixes(t *testing.T) {
	vrpFile := filepath.Join(t.TempDir(), "vrps.json")
	stayrtr.WriteVRPs(t, vrpFile, watchfix.VRPs0)
	run := startWatch(t, "--bmp", "127.0.0.1:0", "--vrps", vrpFile, "--max-prefixes", "3", "--http", freeLoopback(t), "--interval", "100ms")
	conn, err := net.Dial("tcp", run.w.BMPAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write(bmpPeerUp("192.0.2.5", 64496))
	for _, r := range []annRoute{watchfix.Valid, watchfix.Cover, watchfix.TooSpecific, watchfix.WrongOrigin, watchfix.Both} {
		r.Path = "64496 " + r.Path
		conn.Write(bmpRoute(t, "192.0.2.5", 64496, r, false))
	}
	testutil.Eventually(t, 5*time.Second, "prefix limit", func() (bool, string) {
		skipped, _ := run.metric(t, `rovimpact_skipped_total{reason="prefix_limit",source="bmp"}`)
		paths, _ := run.metric(t, `rovimpact_paths`)
		return skipped == 2 && paths == 3, fmt.Sprintf("skipped %v, paths %v", skipped, paths)
	})
}

// TestWatchPeriodicDump: while running, --dump writes the table every
// --dump-interval, atomically; analyze reading that file with the same
// VRPs lists the invalids /api/invalids lists.
func TestWatchPeriodicDump(t *testing.T) {
	dir := t.TempDir()
	vrpFile := filepath.Join(dir, "vrps.json")
	stayrtr.WriteVRPs(t, vrpFile, watchfix.VRPs0)
	dumpDir := filepath.Join(dir, "dumps")
	run := startWatch(t, "--bmp", "127.0.0.1:0", "--vrps", vrpFile, "--http", freeLoopback(t), "--interval", "100ms",
		"--dump", dumpDir, "--dump-interval", "300ms", "--log-format", "json")
	send, _ := run.dialBMP(t)
	send(bmpPeerUp("192.0.2.5", 64496))
	var routes []annRoute
	for _, r := range watchfix.Without(watchfix.Routes0, watchfix.SameInvalid) {
		r.Path, r.ID = "64496 "+r.Path, 0
		routes = append(routes, r)
		send(bmpRoute(t, "192.0.2.5", 64496, r, false))
	}
	want := truth(t, route.PeerKey{AS: 64496, IP: netip.MustParseAddr("192.0.2.5")}, 0, routes, watchfix.VRPs0)
	run.converges(t, "routes", want)
	n := strings.Count(run.logs.String(), `"msg":"dump_written"`)
	run.logged(t, `"msg":"dump_written"`, n+1)  // a dump written after convergence
	run.logged(t, `"paths":14,"records":15`, 1) // the PEER_INDEX_TABLE and one record per prefix
	// Every dump has a name of its own (the time to the second, then .N):
	// none overwrites another; the newest sorts last.
	run.logged(t, `"msg":"dump_written"`, 2)
	written := strings.Count(run.logs.String(), `"msg":"dump_written"`) // counted first: more may come
	dumps, _ := filepath.Glob(filepath.Join(dumpDir, "rib.*.mrt.gz"))
	if len(dumps) < 2 || len(dumps) < written {
		t.Fatalf("dump directory holds %v, want every one of the %d dumps written", dumps, written)
	}
	out, _, err := runCLI(t, "analyze", "--vrps", vrpFile, "--format", "json", dumps[len(dumps)-1])
	if err != nil {
		t.Fatal(err)
	}
	var rep struct{ Invalids json.RawMessage }
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	var got []reports.Invalid
	if err := json.Unmarshal(rep.Invalids, &got); err != nil {
		t.Fatal(err)
	}
	if jsonOf(t, got) != jsonOf(t, run.invalids(t)) {
		t.Errorf("analyze of the dump:\n%s\nwant /api/invalids:\n%s", jsonOf(t, got), jsonOf(t, run.invalids(t)))
	}
}
