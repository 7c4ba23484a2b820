// Package testutil holds what tests of several packages need from outside
// the repository: the real data in shared/data beside it, and the Debian
// tools that serve as reference implementations and real peers. Both follow
// one rule: missing, the test fails under CI=true (CI must have them) and
// skips elsewhere, saying what to install.
package testutil

import (
	"bufio"
	"bytes"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// SharedData returns the path of shared/data/rel, found by walking up from
// the working directory (a package directory under go test); rel "" is the
// shared/data directory itself.
func SharedData(tb testing.TB, rel string) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		p := filepath.Join(dir, "shared", "data", rel)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	if os.Getenv("CI") == "true" {
		tb.Fatalf("shared/data/%s not found beside the repository (required when CI=true)", rel)
	}
	tb.Skipf("shared/data/%s not found beside the repository; skipping real-data test", rel)
	return ""
}

// NeedTool returns the path of the tool name from Debian package pkg.
func NeedTool(tb testing.TB, name, pkg string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("%s not found (Debian package %s): required when CI=true", name, pkg)
		}
		tb.Skipf("%s not found: install the Debian package %s", name, pkg)
	}
	return p
}

// Bgpdump runs `bgpdump -v -m file` (Debian package bgpdump, the reference
// MRT decoder) and returns at most maxLines lines of its output.
func Bgpdump(tb testing.TB, file string, maxLines int) []byte {
	tb.Helper()
	cmd := exec.Command(NeedTool(tb, "bgpdump", "bgpdump"), "-v", "-m", file)
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	br := bufio.NewReader(out)
	for n := 0; n < maxLines; n++ {
		line, err := br.ReadBytes('\n')
		buf.Write(line)
		if err != nil {
			break
		}
	}
	_ = cmd.Process.Kill() // we may stop reading early on purpose
	_ = cmd.Wait()
	return buf.Bytes()
}

// SyncBuffer collects log lines written from several goroutines (a
// service's logger, read by the test while it runs).
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String is everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// FreeLoopback returns a loopback TCP address ("127.0.0.1:port") that was
// free a moment ago, for a test server or peer to listen on.
func FreeLoopback(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// FreeLoopbackPort is FreeLoopback's port, for a peer whose configuration
// takes the port alone (bird, gobgpd's API).
func FreeLoopbackPort(tb testing.TB) uint16 {
	tb.Helper()
	ap, err := netip.ParseAddrPort(FreeLoopback(tb))
	if err != nil {
		tb.Fatal(err)
	}
	return ap.Port()
}

// Eventually polls cond every 20 ms until it holds, failing the test
// with cond's detail once d has passed: the one bounded wait of the tests
// that drive real peers and services.
func Eventually(tb testing.TB, d time.Duration, what string, cond func() (bool, string)) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for {
		ok, detail := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s: not within %v:\n%s", what, d, detail)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ProcStatus returns the size field (VmRSS, VmSize, VmHWM, ...) of
// /proc/self/status in bytes, and false where there is none (not Linux,
// or no such field).
func ProcStatus(field string) (int64, bool) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for l := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n << 10, err == nil
		}
	}
	return 0, false
}
