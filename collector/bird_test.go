package collector

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/internal/testutil"
)

// bird runs a Debian bird2 that peers with the collector and exports
// static routes.
type bird struct {
	bin, cli string
	dir      string
	cmd      *exec.Cmd
	log      *bytes.Buffer
}

const birdAddr = "127.0.0.20"

func (b *bird) start(t *testing.T, port uint16, v4 []string) {
	t.Helper()
	var routes strings.Builder
	for _, p := range v4 {
		fmt.Fprintf(&routes, "  route %s blackhole;\n", p)
	}
	conf := fmt.Sprintf(`router id %[1]s;
protocol device {}
protocol static s4 {
  ipv4;
%[2]s}
protocol static s6 {
  ipv6;
  route 2001:db8::/32 blackhole;
}
protocol bgp col {
  local %[1]s as 64520;
  neighbor 127.0.0.1 port %[3]d as 65000;
  multihop;
  connect delay time 1;
  connect retry time 1;
  error wait time 1, 2;
  graceful restart on;
  graceful restart time 60;
  ipv4 { import none; export all; next hop self; };
  ipv6 { import none; export all; next hop address 2001:db8::20; };
}
`, birdAddr, routes.String(), port)
	path := filepath.Join(b.dir, "bird.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	b.log = &bytes.Buffer{}
	b.cmd = exec.Command(b.bin, "-f", "-c", path, "-s", filepath.Join(b.dir, "bird.ctl"), "-P", filepath.Join(b.dir, "bird.pid"))
	b.cmd.Stdout, b.cmd.Stderr = b.log, b.log
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
}

func (b *bird) birdc(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command(b.cli, append([]string{"-s", filepath.Join(b.dir, "bird.ctl")}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("birdc %v: %v\n%s", args, err, out)
	}
}

// kill ends bird abruptly: its TCP connection closes without a
// NOTIFICATION, as when a router restarts.
func (b *bird) kill() {
	if b.cmd != nil && b.cmd.Process != nil && b.cmd.ProcessState == nil {
		b.cmd.Process.Signal(syscall.SIGKILL)
		b.cmd.Wait()
	}
}

// TestBGPWithBird: a real bird2 peer with graceful restart (RFC 4724)
// exports IPv4 and IPv6 routes. Killed, its routes are kept stale; back
// with one route fewer, the stale one is withdrawn at its End-of-RIB and
// the rest kept. Disabled in birdc (a CEASE NOTIFICATION), every route
// goes at once, graceful restart or not; enabled, they come back.
func TestBGPWithBird(t *testing.T) {
	b := &bird{bin: testutil.NeedTool(t, "bird", "bird2"), cli: testutil.NeedTool(t, "birdc", "bird2"), dir: t.TempDir()}
	t.Cleanup(b.kill)
	port := freePort(t)
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
				t.Fatalf("%s: collector holds %q, want %q\nsessions %q\nstats %+v\nbird log:\n%s", what, got, routes, sess.snapshot(), col.Stats(), b.log)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	all := []string{"192.0.2.0/24#0 AS64520", "198.51.100.0/24#0 AS64520", "2001:db8::/32#0 AS64520"}
	b.start(t, port, []string{"192.0.2.0/24", "198.51.100.0/24"})
	want("bird up", all...)

	downs := table.peerDowns()
	b.kill()
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
	b.start(t, port, []string{"192.0.2.0/24"})
	want("bird restarted", "192.0.2.0/24#0 AS64520", "2001:db8::/32#0 AS64520")
	if n := col.Stats().Skipped["gr_stale_flushed"]; n != 3 {
		t.Errorf("Skipped[gr_stale_flushed] = %d, want 3", n)
	}

	// A session flap with a NOTIFICATION (Cease): everything goes.
	b.birdc(t, "disable", "col")
	want("session disabled")
	b.birdc(t, "enable", "col")
	want("session enabled", "192.0.2.0/24#0 AS64520", "2001:db8::/32#0 AS64520")
	waitSession("sessions", "established", 3)
}
