package watch

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/rovimpact/rovimpact/internal/exitcode"
)

// TestDebugAddrLoopbackOnly: --debug-addr takes a loopback ADDR:PORT only
// (profiles expose the process's internals); anything else is a usage
// error naming the flag, as Configure reports it (exit 2).
func TestDebugAddrLoopbackOnly(t *testing.T) {
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:6060", true},
		{"[::1]:6060", true},
		{"127.0.0.1:0", true},
		{"0.0.0.0:6060", false},
		{"192.0.2.1:6060", false},
		{"[::]:6060", false},
		{"localhost:6060", false}, // a name could resolve anywhere
		{"127.0.0.1", false},
	} {
		_, err := Configure([]string{"--neighbor", "192.0.2.1:64501", "--local-as", "64500", "--vrps", "x.json", "--debug-addr", tc.addr})
		if tc.ok && err != nil {
			t.Errorf("--debug-addr %s: %v, want accepted", tc.addr, err)
		}
		if !tc.ok && (exitcode.Of(err) != exitcode.Usage || !strings.HasPrefix(err.Error(), "--debug-addr ")) {
			t.Errorf("--debug-addr %s: err %v, want a usage error about debug-addr", tc.addr, err)
		}
	}
}

// TestDebugServesProfiles: the listener serves the pprof index and a
// profile, nothing of the API, and stops with its context.
func TestDebugServesProfiles(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	addr, stop, err := startDebug(ctx, "127.0.0.1:0", NewLogger(io.Discard, false))
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/debug/pprof/"); code != 200 || !strings.Contains(body, "goroutine") {
		t.Errorf("/debug/pprof/: %d %.80q, want 200 with the profile list", code, body)
	}
	if code, body := get("/debug/pprof/heap?debug=1"); code != 200 || !strings.Contains(body, "heap profile") {
		t.Errorf("/debug/pprof/heap: %d %.80q, want a heap profile", code, body)
	}
	if code, _ := get("/metrics"); code != 404 {
		t.Errorf("/metrics on the debug listener: %d, want 404", code)
	}
	cancel()
	stop()
	if code, _ := get("/debug/pprof/"); code != 0 {
		t.Errorf("after stop: %d, want the connection refused", code)
	}
}
