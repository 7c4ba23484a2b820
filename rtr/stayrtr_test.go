package rtr

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/internal/testutil"
	"github.com/rovimpact/rovimpact/rov"
)

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// jsonROA is one entry of the rpki-client / stayrtr JSON "roas" array,
// without "expires": stayrtr drops expired VRPs whatever -checktime says.
type jsonROA struct {
	Prefix    string `json:"prefix"`
	MaxLength uint8  `json:"maxLength"`
	ASN       string `json:"asn"`
	TA        string `json:"ta"`
}

// writeVRPs writes vrps as stayrtr JSON, atomically (rename), so stayrtr
// never reads half a file.
func writeVRPs(t testing.TB, path string, vrps []rov.VRP) {
	t.Helper()
	var doc struct {
		ROAs []jsonROA `json:"roas"`
	}
	for _, v := range vrps {
		doc.ROAs = append(doc.ROAs, jsonROA{Prefix: v.Prefix.String(), MaxLength: v.MaxLen, ASN: fmt.Sprintf("AS%d", v.ASN), TA: "test"})
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// startStayrtr runs stayrtr on addr serving file, killed when the test
// ends (or by the returned stop).
func startStayrtr(t testing.TB, bin, file, addr string) (stop func()) {
	t.Helper()
	cmd := exec.Command(bin, "-cache", file, "-bind", addr, "-metrics.addr", "127.0.0.1:0",
		"-checktime=false", "-refresh", "1", "-rtr.refresh", "1", "-rtr.retry", "1", "-rtr.expire", "600",
		"-log.verbose=false", "-loglevel", "warn")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if !testing.Verbose() {
		cmd.Stdout, cmd.Stderr = nil, nil
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting stayrtr: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	stop = func() {
		cmd.Process.Kill()
		<-done
	}
	t.Cleanup(stop)
	return stop
}

// nextChange returns the next Update with a change (stayrtr bumps its
// serial on every file poll, so empty Updates arrive in between).
func nextChange(t *testing.T, c *Client, timeout time.Duration) Update {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case u := <-c.Updates():
			if len(u.Announced)+len(u.Withdrawn) > 0 {
				return u
			}
		case <-deadline:
			t.Fatalf("no change within %v; status %+v", timeout, c.Status())
		}
	}
}

// TestStayrtr runs the client against the real Debian stayrtr: initial
// sync, a file change arriving as a delta, and convergence after the cache
// restarts with a new session ID (stayrtr answers the stale Serial Query
// with Corrupt Data; the client resets).
func TestStayrtr(t *testing.T) {
	bin := testutil.NeedTool(t, "stayrtr", "stayrtr")
	dir := t.TempDir()
	file := filepath.Join(dir, "vrps.json")
	addr := freeAddr(t)
	writeVRPs(t, file, []rov.VRP{vA, vC})
	stop := startStayrtr(t, bin, file, addr)

	c := NewClient(Config{Addr: addr, Name: "cache-a", RetryInterval: 100 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		for range c.Updates() {
		}
		<-runDone
	})

	u := nextChange(t, c, 5*time.Second)
	checkUpdate(t, u, true, u.Serial, []rov.VRP{vA, vC}, nil)
	if u.Version != 1 || u.Expire != 10*time.Minute {
		t.Errorf("got version %d expire %v, want 1 and stayrtr's -rtr.expire 600 s", u.Version, u.Expire)
	}

	// stayrtr polls the file every second and notifies: a delta arrives.
	writeVRPs(t, file, []rov.VRP{vA, vB, vC})
	u = nextChange(t, c, 5*time.Second)
	checkUpdate(t, u, false, u.Serial, []rov.VRP{vB}, nil)

	// Restart the cache with other data: converge.
	stop()
	writeVRPs(t, file, []rov.VRP{vB, vD})
	startStayrtr(t, bin, file, addr)
	u = nextChange(t, c, 8*time.Second)
	checkUpdate(t, u, true, u.Serial, []rov.VRP{vB, vD}, []rov.VRP{vA, vC})
	if got, want := c.VRPs(), []rov.VRP{vB, vD}; !reflect.DeepEqual(got, want) {
		t.Errorf("VRPs after restart: got %v, want %v", got, want)
	}
	st := c.Status()
	if st.Connects < 2 || st.ResetSyncs != 2 {
		t.Errorf("status %+v: want 2 connections and 2 reset syncs", st)
	}
	t.Logf("status after restart: connects=%d protocolErrors=%d lastError=%q", st.Connects, st.ProtocolErrors, st.LastError)
}
