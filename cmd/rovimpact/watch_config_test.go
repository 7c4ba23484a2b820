package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/osrg/gobgp/v3/pkg/packet/bgp"
	"github.com/spf13/pflag"

	"github.com/rovimpact/rovimpact/internal/flagfile"
	"github.com/rovimpact/rovimpact/internal/testutil"
	"github.com/rovimpact/rovimpact/internal/testutil/stayrtr"
	"github.com/rovimpact/rovimpact/internal/testutil/watchfix"
	"github.com/rovimpact/rovimpact/route"
)

// TestWatchConfigErrors: every mistake in a --config file is a usage
// error (exit 2) that names the file and line; testdata/watch-config
// holds one file per mistake and its message (go test -update rewrites).
func TestWatchConfigErrors(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "watch-config", "*.yaml"))
	if len(files) == 0 {
		t.Fatal("no testdata/watch-config/*.yaml")
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			_, _, err := runCLI(t, "watch", "--config", file)
			got := fmt.Sprintf("exit %d: %v\n", exitCodeOf(err), err)
			golden := strings.TrimSuffix(file, ".yaml") + ".golden"
			if updateGolden() {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test -update creates it)", err)
			}
			if got != string(want) {
				t.Errorf("got  %swant %s", got, want)
			}
		})
	}
}

// TestWatchConfigEveryFlag: every flag of watch (but --config and --help)
// is a key of the config file, so a flag added later is in the file
// without a second list: each flag's own default, written as YAML, reads
// back without error.
func TestWatchConfigEveryFlag(t *testing.T) {
	cmd := newWatchCommand()
	n := 0
	cmd.Flags().VisitAll(func(fl *pflag.Flag) {
		if fl.Name == "config" || fl.Name == "help" {
			return
		}
		n++
		val := fmt.Sprintf("%q", fl.DefValue)
		if _, ok := fl.Value.(pflag.SliceValue); ok {
			val = "[]"
		}
		fresh := newWatchCommand()
		doc := fl.Name + ": " + val + "\n"
		if _, err := flagfile.Parse(fresh.Flags(), "watch.yaml", []byte(doc), nil); err != nil {
			t.Errorf("%s: %v", strings.TrimSpace(doc), err)
		}
	})
	if n < 25 {
		t.Errorf("only %d flags visited", n)
	}
}

// TestWatchConfigFlagsWin: a flag on the command line overrides the file's
// value, a list included (not merged with it).
func TestWatchConfigFlagsWin(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "watch.yaml")
	os.WriteFile(cfg, []byte("bmp: 127.0.0.1:0\nvrps: [a.json, b.json]\ninterval: 7s\nmax-change-logs: 10\n"), 0o644)
	o, err := watchConfig([]string{"--config", cfg, "--interval", "5s", "--vrps", "c.json"})
	if err != nil {
		t.Fatal(err)
	}
	if o.Interval != 5*time.Second || o.MaxChangeLogs != 10 || strings.Join(o.VRPFiles, ",") != "c.json" || o.BMP != "127.0.0.1:0" {
		t.Errorf("interval %v, max-change-logs %d, vrps %v, bmp %q: want 5s, 10, [c.json], 127.0.0.1:0",
			o.Interval, o.MaxChangeLogs, o.VRPFiles, o.BMP)
	}
}

// TestWatchReloadKeepsSession: SIGHUP re-reads the config file and applies
// a new VRP file set and change-log cap while the BGP session stays up
// (no session_down, the peer's routes stay and it can keep announcing); a
// changed --listen is logged as needing a restart and not applied.
func TestWatchReloadKeepsSession(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	stayrtr.WriteVRPs(t, a, watchfix.VRPs0)
	vrpsB := append(watchfix.Without(watchfix.VRPs0, vrpOf("10.1.0.0/16", 16, 64501)), vrpOf("10.2.0.0/24", 24, 64999))
	stayrtr.WriteVRPs(t, b, vrpsB)
	_, bgpPort, _ := net.SplitHostPort(freeLoopback(t))
	cfg := filepath.Join(dir, "watch.yaml")
	var mu sync.Mutex
	var told []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		told = append(told, string(b))
		mu.Unlock()
	}))
	defer hook.Close()
	write := func(listenPort, vrps string, maxLogs int, alerts string) {
		doc := fmt.Sprintf("listen: 127.0.0.1:%s\nneighbor: [%s:65001]\nlocal-as: 64900\nrouter-id: 192.0.2.254\n"+
			"vrps: [%s]\nfile-poll: 0s\ninterval: 100ms\nlog-format: json\nmax-change-logs: %d\n%s", listenPort, hostileAddr, vrps, maxLogs, alerts)
		if err := os.WriteFile(cfg, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(bgpPort, a, 1000, "")
	run := startWatch(t, "--config", cfg, "--http", freeLoopback(t))
	peer := route.PeerKey{AS: 65001, IP: netip.MustParseAddr(hostileAddr)}
	p := dialRawPeer(t, bgpPort)
	routes := watchfix.Without(watchfix.Routes0, watchfix.SameInvalid)
	for _, r := range routes {
		p.write(t, p.update(t, r, 0))
	}
	run.converges(t, "before the reload", truth(t, peer, 65001, routes, watchfix.VRPs0))
	run.logged(t, `"msg":"session_up"`, 1)
	p.write(t, mustBytes(t)(bgp.NewEndOfRib(bgp.RF_IPv4_UC).Serialize()))
	p.write(t, mustBytes(t)(bgp.NewEndOfRib(bgp.RF_IPv6_UC).Serialize()))
	run.logged(t, `"msg":"initial_load"`, 1)

	// The reload adds an alert receiver too.
	_, otherPort, _ := net.SplitHostPort(freeLoopback(t))
	write(otherPort, b, 7, fmt.Sprintf("alerts:\n  - {type: webhook, url: %q, template: '{{json .Summary}}', filter: {events: [invalid_appeared]}}\n", hook.URL))
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	run.logged(t, `"msg":"config_reload_needs_restart","keys":["listen"]`, 1)
	run.logged(t, `"msg":"config_reloaded","changed":["alerts","max-change-logs","vrps"]`, 1)
	run.converges(t, "after the reload", truth(t, peer, 65001, routes, vrpsB))
	// The session is the same one: it can announce, and it never went down.
	p.write(t, p.update(t, watchfix.SameInvalid, 0))
	run.converges(t, "announced after the reload", truth(t, peer, 65001, append(routes, watchfix.SameInvalid), vrpsB))
	testutil.Eventually(t, 5*time.Second, "the new receiver told", func() (bool, string) {
		mu.Lock()
		defer mu.Unlock()
		return len(told) == 1 && told[0] == `"1 event: 1 invalid_appeared"`, fmt.Sprint(told)
	})
	if strings.Contains(run.logs.String(), "session_down") {
		t.Errorf("the reload dropped the session:\n%s", tail(run.logs.String(), 30))
	}
	if v, _ := run.metric(t, `rovimpact_bgp_sessions{state="up"}`); v != 1 {
		t.Errorf(`rovimpact_bgp_sessions{state="up"} = %v, want 1`, v)
	}
}

// TestWatchReloadCaches: a reload that swaps one RPKI-RTR cache (Debian
// stayrtr) for another stops the old client, takes its VRPs out of the
// union and brings in the new cache's, with the BMP session kept.
func TestWatchReloadCaches(t *testing.T) {
	bin := testutil.NeedTool(t, "stayrtr", "stayrtr")
	dir := t.TempDir()
	fa, fb := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	stayrtr.WriteVRPs(t, fa, watchfix.VRPs0)
	vrpsB := watchfix.VRPs0[:3]
	stayrtr.WriteVRPs(t, fb, vrpsB)
	ca, cb := freeLoopback(t), freeLoopback(t)
	stayrtr.Start(t, bin, fa, ca)
	stayrtr.Start(t, bin, fb, cb)
	cfg := filepath.Join(dir, "watch.yaml")
	write := func(cache string) {
		doc := fmt.Sprintf("bmp: 127.0.0.1:0\nrtr: [%s]\ninterval: 100ms\nlog-format: json\n", cache)
		if err := os.WriteFile(cfg, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(ca)
	run := startWatch(t, "--config", cfg, "--http", freeLoopback(t))
	conn, err := net.Dial("tcp", run.w.BMPAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write(bmpPeerUp("192.0.2.5", 64496))
	union := func(n int) func() (bool, string) {
		return func() (bool, string) { u := run.w.VRPUnion(); return len(u) == n, fmt.Sprint(len(u), " VRPs") }
	}
	testutil.Eventually(t, 20*time.Second, "cache a synced", union(len(watchfix.VRPs0)))
	write(cb)
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	run.logged(t, `"msg":"config_reloaded","changed":["rtr"]`, 1)
	testutil.Eventually(t, 20*time.Second, "cache b alone", union(len(vrpsB)))
	run.logged(t, `"msg":"vrps_source_removed"`, 1)
	_, body := run.get(t, "/api/caches")
	if strings.Contains(body, ca) || !strings.Contains(body, cb) {
		t.Errorf("/api/caches after the reload: %s", body)
	}
	if strings.Contains(run.logs.String(), "session_down") {
		t.Error("the reload dropped the BMP session")
	}
}

// TestDeployConfigParses: the example configuration in deploy/ is one the
// watch accepts (every key, value and alert receiver checked).
func TestDeployConfigParses(t *testing.T) {
	o, err := watchConfig([]string{"--config", filepath.Join("..", "..", "deploy", "watch.yaml")})
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Alerts) != 3 || o.Classify.LocalAS != 64500 || len(o.Neighbors) != 2 || o.DumpMaxAge != 672*time.Hour {
		t.Errorf("deploy/watch.yaml read as %d receivers, local-as %d, neighbors %v, dump-max-age %v", len(o.Alerts), o.Classify.LocalAS, o.Neighbors, o.DumpMaxAge)
	}
}
