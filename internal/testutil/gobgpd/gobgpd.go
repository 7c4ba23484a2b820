// Package gobgpd runs the Debian gobgpd BGP speaker as a real peer for
// tests, driven by its gobgp CLI: one neighbour (the collector under test,
// on loopback), routes added to and deleted from its global RIB.
package gobgpd

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/internal/testutil"
)

// Config is the speaker and its one neighbour.
type Config struct {
	AS        uint32 // the speaker's AS
	LocalAddr string // the speaker's address (and router ID); 127.0.0.1 when empty
	PeerAS    uint32 // the collector's AS
	PeerPort  uint16 // the collector's port on 127.0.0.1
	// AdminDown starts the neighbour administratively down: routes added
	// before Enable are the session's initial table.
	AdminDown bool
	// EndOfRIB configures graceful restart (RFC 4724) on both families,
	// which is what makes gobgpd send End-of-RIB after its initial table.
	EndOfRIB bool
	// AddPath sends up to 8 paths per prefix (RFC 7911), so that Announce
	// can give path identifiers.
	AddPath bool
}

// Speaker is a running gobgpd.
type Speaker struct {
	cfg     Config
	cli     string
	apiPort string
	cmd     *exec.Cmd
	log     *testutil.SyncBuffer
	done    chan struct{}
	once    sync.Once
}

// Start runs gobgpd with cfg (gobgpd and gobgp from the Debian package
// gobgpd; see testutil.NeedTool) and waits at most 10 s for its API. It is
// killed when the test ends, or earlier by Stop.
func Start(tb testing.TB, cfg Config) *Speaker {
	tb.Helper()
	bin := testutil.NeedTool(tb, "gobgpd", "gobgpd")
	cli := testutil.NeedTool(tb, "gobgp", "gobgpd")
	if cfg.LocalAddr == "" {
		cfg.LocalAddr = "127.0.0.1"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "[global.config]\n  as = %d\n  router-id = %q\n  port = -1\n", cfg.AS, cfg.LocalAddr)
	fmt.Fprintf(&b, "[[neighbors]]\n  [neighbors.config]\n    neighbor-address = \"127.0.0.1\"\n    peer-as = %d\n", cfg.PeerAS)
	if cfg.AdminDown {
		b.WriteString("    admin-down = true\n")
	}
	fmt.Fprintf(&b, "  [neighbors.transport.config]\n    remote-port = %d\n    local-address = %q\n", cfg.PeerPort, cfg.LocalAddr)
	b.WriteString("  [neighbors.timers.config]\n    connect-retry = 1\n")
	if cfg.EndOfRIB {
		b.WriteString("  [neighbors.graceful-restart.config]\n    enabled = true\n")
	}
	for _, fam := range []string{"ipv4-unicast", "ipv6-unicast"} {
		fmt.Fprintf(&b, "  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = %q\n", fam)
		if cfg.EndOfRIB {
			b.WriteString("    [neighbors.afi-safis.mp-graceful-restart.config]\n      enabled = true\n")
		}
		if cfg.AddPath {
			b.WriteString("    [neighbors.afi-safis.add-paths.config]\n      send-max = 8\n")
		}
	}
	path := filepath.Join(tb.TempDir(), "gobgpd.toml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		tb.Fatal(err)
	}
	s := &Speaker{cfg: cfg, cli: cli, apiPort: strconv.Itoa(int(testutil.FreeLoopbackPort(tb))), log: &testutil.SyncBuffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(bin, "-f", path, "-p", "--pprof-disable", "--api-hosts", "127.0.0.1:"+s.apiPort)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		tb.Fatalf("starting gobgpd: %v", err)
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	tb.Cleanup(s.Stop)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := s.Run("global"); err == nil {
			return s
		}
		if time.Now().After(deadline) {
			tb.Fatalf("gobgpd API did not come up within 10 s:\n%s", s.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Run runs the gobgp CLI against the speaker.
func (s *Speaker) Run(args ...string) ([]byte, error) {
	return exec.Command(s.cli, append([]string{"-u", "127.0.0.1", "-p", s.apiPort}, args...)...).CombinedOutput()
}

// MustRun is Run, failing the test on an error.
func (s *Speaker) MustRun(tb testing.TB, args ...string) {
	tb.Helper()
	if out, err := s.Run(args...); err != nil {
		tb.Fatalf("gobgp %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// Announce adds prefix with the AS path (gobgp's syntax: "64500
// {64501,64502}"; gobgpd prepends its own AS towards an eBGP neighbour)
// and path identifier id (0: none; needs AddPath) to the global RIB.
func (s *Speaker) Announce(tb testing.TB, prefix string, id int, aspath string) {
	tb.Helper()
	s.MustRun(tb, append(s.ribArgs("add", prefix, id), "aspath", aspath, "nexthop", nextHop(prefix))...)
}

// Withdraw deletes prefix (and path id) from the global RIB.
func (s *Speaker) Withdraw(tb testing.TB, prefix string, id int) {
	tb.Helper()
	s.MustRun(tb, s.ribArgs("del", prefix, id)...)
}

func (s *Speaker) ribArgs(verb, prefix string, id int) []string {
	fam := "ipv4"
	if strings.Contains(prefix, ":") {
		fam = "ipv6"
	}
	args := []string{"global", "rib", verb, "-a", fam, prefix}
	if id != 0 {
		args = append(args, "identifier", strconv.Itoa(id))
	}
	return args
}

func nextHop(prefix string) string {
	if strings.Contains(prefix, ":") {
		return "::1"
	}
	return "127.0.0.1"
}

// Enable opens the neighbour (after AdminDown); Disable closes it with a
// Cease NOTIFICATION (RFC 4486 subcode 2, administrative shutdown).
func (s *Speaker) Enable(tb testing.TB) {
	tb.Helper()
	s.MustRun(tb, "neighbor", "127.0.0.1", "enable")
}

// Disable: see Enable.
func (s *Speaker) Disable(tb testing.TB) {
	tb.Helper()
	s.MustRun(tb, "neighbor", "127.0.0.1", "disable")
}

// Neighbor is the neighbour's session as gobgpd tells it.
type Neighbor struct {
	Established bool
	// Uptime is when the session last reached Established (gobgpd's
	// timers.state.uptime, in seconds): a flap changes it.
	Uptime int64
}

// Neighbor reads the neighbour's state from the gobgp CLI's JSON.
func (s *Speaker) Neighbor(tb testing.TB) Neighbor {
	tb.Helper()
	out, err := s.Run("neighbor", "127.0.0.1", "-j")
	if err != nil {
		tb.Fatalf("gobgp neighbor: %v\n%s", err, out)
	}
	var doc struct {
		State struct {
			SessionState int `json:"session_state"`
		} `json:"state"`
		Timers struct {
			State struct {
				Uptime struct {
					Seconds int64 `json:"seconds"`
				} `json:"uptime"`
			} `json:"state"`
		} `json:"timers"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		tb.Fatalf("gobgp neighbor -j: %v\n%s", err, out)
	}
	// apipb.PeerState_SessionState: 6 is ESTABLISHED.
	return Neighbor{Established: doc.State.SessionState == 6, Uptime: doc.Timers.State.Uptime.Seconds}
}

// Log is what gobgpd wrote so far.
func (s *Speaker) Log() string { return s.log.String() }

// Stop kills gobgpd (its TCP connection closes without a NOTIFICATION);
// it may be called more than once.
func (s *Speaker) Stop() {
	s.once.Do(func() {
		if s.cmd.Process != nil {
			s.cmd.Process.Kill()
			<-s.done
		}
	})
}
