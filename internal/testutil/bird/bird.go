// Package bird runs the Debian bird2 BGP daemon as a real peer for tests,
// driven by birdc: one eBGP session to the collector under test on
// loopback, exporting static routes that a test can change while the
// session stays up (birdc configure).
package bird

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/internal/testutil"
)

// Route is a static route bird exports, with the AS path it carries
// before bird prepends its own AS (origin last).
type Route struct {
	Prefix string
	Path   []uint32
}

// Config is bird's session to the collector.
type Config struct {
	AS       uint32 // bird's AS
	PeerAS   uint32 // the collector's AS
	PeerPort uint16 // the collector's port on 127.0.0.1
	Routes   []Route
}

// Bird is a running bird.
type Bird struct {
	cfg      Config
	bin, cli string
	dir      string
	port     uint16
	cmd      *exec.Cmd
	log      *testutil.SyncBuffer
	done     chan struct{}
	once     sync.Once
}

// Start runs bird with cfg (bird and birdc from the Debian package bird2;
// see testutil.NeedTool). It connects to the collector within about a
// second (connect delay 1 s), and sends End-of-RIB after its table: the
// collector offers graceful restart (RFC 4724 §2). It is killed when the
// test ends, or earlier by Stop.
func Start(tb testing.TB, cfg Config) *Bird {
	tb.Helper()
	b := &Bird{cfg: cfg, bin: testutil.NeedTool(tb, "bird", "bird2"), cli: testutil.NeedTool(tb, "birdc", "bird2"),
		dir: tb.TempDir(), port: testutil.FreeLoopbackPort(tb), log: &testutil.SyncBuffer{}, done: make(chan struct{})}
	b.write(tb, cfg.Routes)
	if out, err := exec.Command(b.bin, "-p", "-c", b.conf()).CombinedOutput(); err != nil {
		tb.Fatalf("bird -p: %v\n%s", err, out)
	}
	b.cmd = exec.Command(b.bin, "-f", "-c", b.conf(), "-s", b.ctl(), "-P", filepath.Join(b.dir, "bird.pid"))
	b.cmd.Stdout, b.cmd.Stderr = b.log, b.log
	if err := b.cmd.Start(); err != nil {
		tb.Fatalf("starting bird: %v", err)
	}
	go func() { b.cmd.Wait(); close(b.done) }()
	tb.Cleanup(b.Stop)
	return b
}

func (b *Bird) conf() string { return filepath.Join(b.dir, "bird.conf") }
func (b *Bird) ctl() string  { return filepath.Join(b.dir, "bird.ctl") }

// write writes the configuration with routes. bird listens on a port of
// its own (not 179), so that birds of tests running at once do not meet.
func (b *Bird) write(tb testing.TB, routes []Route) {
	tb.Helper()
	// The next hop is an address bird does not talk to: it refuses to send
	// its neighbour's own address (127.0.0.1) as NEXT_HOP.
	// The AS paths are set by the export filter: a bgp_path set on the
	// static route itself is not exported (bird sends a withdrawal).
	var v4, v6, paths strings.Builder
	for _, r := range routes {
		w := &v4
		if strings.Contains(r.Prefix, ":") {
			w = &v6
		}
		fmt.Fprintf(w, "  route %s blackhole;\n", r.Prefix)
		if len(r.Path) > 0 {
			fmt.Fprintf(&paths, "  if net = %s then {", r.Prefix)
			for i := len(r.Path) - 1; i >= 0; i-- {
				fmt.Fprintf(&paths, " bgp_path.prepend(%d);", r.Path[i])
			}
			paths.WriteString(" }\n")
		}
	}
	conf := fmt.Sprintf(`log stderr all;
router id 127.0.0.1;
filter to_collector {
%s  accept;
}
protocol device {}
protocol static s4 {
  ipv4;
%s}
protocol static s6 {
  ipv6;
%s}
protocol bgp col {
  local 127.0.0.1 port %d as %d;
  neighbor 127.0.0.1 port %d as %d;
  multihop;
  connect delay time 1;
  connect retry time 1;
  error wait time 1, 2;
  graceful restart on;
  ipv4 { import none; export filter to_collector; next hop address 127.0.0.2; };
  ipv6 { import none; export filter to_collector; next hop address ::1; };
}
`, paths.String(), v4.String(), v6.String(), b.port, b.cfg.AS, b.cfg.PeerPort, b.cfg.PeerAS)
	tmp := b.conf() + ".tmp"
	if err := os.WriteFile(tmp, []byte(conf), 0o600); err != nil {
		tb.Fatal(err)
	}
	if err := os.Rename(tmp, b.conf()); err != nil {
		tb.Fatal(err)
	}
}

// Birdc runs birdc against bird, failing the test on an error.
func (b *Bird) Birdc(tb testing.TB, args ...string) string {
	tb.Helper()
	out, err := exec.Command(b.cli, append([]string{"-s", b.ctl()}, args...)...).CombinedOutput()
	if err != nil {
		tb.Fatalf("birdc %s: %v\n%s\nbird log:\n%s", strings.Join(args, " "), err, out, b.log)
	}
	return string(out)
}

// SetRoutes makes routes bird's exported table (birdc configure: the
// static protocols change, the BGP session is kept, and bird announces
// and withdraws the difference).
func (b *Bird) SetRoutes(tb testing.TB, routes []Route) {
	tb.Helper()
	b.write(tb, routes)
	if out := b.Birdc(tb, "configure"); !strings.Contains(out, "Reconfigured") {
		tb.Fatalf("birdc configure: %s", out)
	}
}

// Protocol is the BGP session as birdc shows it.
type Protocol struct {
	State string // BIRD's BGP state: Established, Active, ...
	// Since is when the protocol last changed state (birdc's Since
	// column, to the millisecond): a flap changes it.
	Since string
}

// Same reports whether p and o are one unbroken state: the same state,
// entered at the same time. BIRD prints Since by converting its monotonic
// clock to wall time at each query, so two queries of one unchanged state
// can differ by a millisecond (TestScenarioReloadNeighbors failed on
// 14.507 vs 14.506); a flap moves it by at least the connect delay (1 s),
// so times within half a second are the same.
func (p Protocol) Same(o Protocol) bool {
	if p.State != o.State {
		return false
	}
	a, err1 := time.Parse("15:04:05.000", p.Since)
	b, err2 := time.Parse("15:04:05.000", o.Since)
	if err1 != nil || err2 != nil {
		return p.Since == o.Since
	}
	d := a.Sub(b)
	if d > 12*time.Hour { // across midnight: Since is a time of day
		d -= 24 * time.Hour
	} else if d < -12*time.Hour {
		d += 24 * time.Hour
	}
	return -500*time.Millisecond <= d && d <= 500*time.Millisecond
}

var stateLine = regexp.MustCompile(`(?m)^col\s+BGP\s+\S+\s+\S+\s+(\S+)\s+(\S+)`)

// Protocol reads the session's state from birdc show protocols.
func (b *Bird) Protocol(tb testing.TB) Protocol {
	tb.Helper()
	out := b.Birdc(tb, "show", "protocols", "col")
	m := stateLine.FindStringSubmatch(out)
	if m == nil {
		tb.Fatalf("birdc show protocols col: no line for col:\n%s", out)
	}
	return Protocol{Since: m[1], State: m[2]}
}

// Disable closes the session with a Cease NOTIFICATION (RFC 4486 subcode
// 2, administrative shutdown).
func (b *Bird) Disable(tb testing.TB) { tb.Helper(); b.Birdc(tb, "disable", "col") }

// Log is what bird wrote so far.
func (b *Bird) Log() string { return b.log.String() }

// Stop kills bird (its TCP connection closes without a NOTIFICATION); it
// may be called more than once.
func (b *Bird) Stop() {
	b.once.Do(func() {
		if b.cmd.Process != nil {
			b.cmd.Process.Kill()
			<-b.done
		}
	})
}
