// Package gobgpd runs the Debian gobgpd BGP speaker as a real peer for
// tests (collector's BGP sessions, watch end to end): one configuration,
// written once, and the gobgp CLI to announce and withdraw through its API.
// Missing gobgpd or gobgp fails the test under CI=true and skips it
// elsewhere (testutil.NeedTool).
package gobgpd

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/internal/testutil"
)

// Config is the speaker's side of one session to the collector under test.
type Config struct {
	AS uint32 // the speaker's AS
	// Addr is the speaker's router ID and the address it connects from
	// (default 127.0.0.1); the collector is always at 127.0.0.1.
	Addr   string
	PeerAS uint32 // the collector's AS
	Port   string // the collector's BGP port
	// IPv6AddPath also sends up to 8 IPv6 paths per prefix (RFC 7911);
	// IPv4 always does.
	IPv6AddPath bool
}

// conf is gobgpd's TOML configuration of c: no listening port of its own
// (port = -1), one neighbour, retried every second.
func (c Config) conf() string {
	v6 := ""
	if c.IPv6AddPath {
		v6 = "\n    [neighbors.afi-safis.add-paths.config]\n      send-max = 8"
	}
	return fmt.Sprintf(`[global.config]
  as = %d
  router-id = "%s"
  port = -1
[[neighbors]]
  [neighbors.config]
    neighbor-address = "127.0.0.1"
    peer-as = %d
  [neighbors.transport.config]
    remote-port = %s
    local-address = "%s"
  [neighbors.timers.config]
    connect-retry = 1
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
    [neighbors.afi-safis.add-paths.config]
      send-max = 8
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"%s
`, c.AS, c.Addr, c.PeerAS, c.Port, c.Addr, v6)
}

// Speaker is a running gobgpd.
type Speaker struct {
	cmd     *exec.Cmd
	cli     string
	apiPort string
	Log     *testutil.SyncBuffer // gobgpd's stdout and stderr
	done    chan struct{}
}

// Start starts gobgpd with c and waits (at most 5 s) for its API; the
// test's cleanup stops it.
func Start(tb testing.TB, c Config) *Speaker {
	tb.Helper()
	bin := testutil.NeedTool(tb, "gobgpd", "gobgpd")
	cli := testutil.NeedTool(tb, "gobgp", "gobgpd")
	if c.Addr == "" {
		c.Addr = "127.0.0.1"
	}
	path := filepath.Join(tb.TempDir(), "gobgpd.toml")
	if err := os.WriteFile(path, []byte(c.conf()), 0o600); err != nil {
		tb.Fatal(err)
	}
	s := &Speaker{cli: cli, apiPort: port(testutil.FreeLoopback(tb)), Log: &testutil.SyncBuffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(bin, "-f", path, "-p", "--pprof-disable", "--api-hosts", "127.0.0.1:"+s.apiPort)
	s.cmd.Stdout, s.cmd.Stderr = s.Log, s.Log
	if err := s.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	tb.Cleanup(s.Stop)
	deadline := time.Now().Add(5 * time.Second)
	for {
		out, err := s.Run("global")
		if err == nil {
			return s
		}
		if time.Now().After(deadline) {
			tb.Fatalf("gobgpd API did not come up: %v\n%s%s", err, out, s.Log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Run runs the gobgp CLI against the speaker's API.
func (s *Speaker) Run(args ...string) ([]byte, error) {
	return exec.Command(s.cli, append([]string{"-u", "127.0.0.1", "-p", s.apiPort}, args...)...).CombinedOutput()
}

// MustRun is Run, failing the test on an error.
func (s *Speaker) MustRun(tb testing.TB, args ...string) {
	tb.Helper()
	if out, err := s.Run(args...); err != nil {
		tb.Fatalf("gobgp %v: %v\n%s", args, err, out)
	}
}

// Stop kills gobgpd and waits for it to exit (its sessions drop without a
// NOTIFICATION, as when a router dies). Stopping twice is harmless.
func (s *Speaker) Stop() {
	s.cmd.Process.Kill()
	<-s.done
}

// port is the port of a loopback address.
func port(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}
