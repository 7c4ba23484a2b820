package watch

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"sync"
	"time"
)

// debugMux serves Go's profiling endpoints (net/http/pprof) under
// /debug/pprof/: CPU (profile?seconds=N), heap, allocs, goroutine, block,
// mutex, trace. Its own mux, never the API's nor http.DefaultServeMux, so
// the API stays read-only data and nothing else registered by a library
// is exposed.
func debugMux() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("/debug/pprof/", pprof.Index)
	m.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	m.HandleFunc("/debug/pprof/profile", pprof.Profile)
	m.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	m.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return m
}

// checkDebugAddr checks --debug-addr: ADDR:PORT with a loopback IP. The
// profiles show the process's memory layout, command line and code paths
// and a CPU profile costs CPU while it runs, so they are never served
// beyond the host; reach them from elsewhere through a tunnel
// (ssh -L 6060:127.0.0.1:6060).
func checkDebugAddr(addr string) error {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return usageError("--debug-addr %q: want ADDR:PORT with a loopback IP (127.0.0.1:6060)", addr)
	}
	if !ap.Addr().IsLoopback() {
		return usageError("--debug-addr %s: profiles are served on loopback only (127.0.0.1 or ::1; tunnel to reach them)", addr)
	}
	return nil
}

// startDebug serves debugMux on addr (checked by checkDebugAddr) until ctx
// ends; the returned function stops it and waits. Profiles take as long
// as they are asked to (profile?seconds=30), so no write timeout.
func startDebug(ctx context.Context, addr string, log *slog.Logger) (bound string, stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: debugMux(), ReadHeaderTimeout: 5 * time.Second, MaxHeaderBytes: 16 << 10}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("debug_server_stopped", "err", err) // profiles are gone, the service is not
		}
	}()
	stopped := context.AfterFunc(ctx, func() { srv.Close() })
	return ln.Addr().String(), func() { stopped(); srv.Close(); wg.Wait() }, nil
}
