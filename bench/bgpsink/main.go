// Command bgpsink receives one BGP session with the collector watch uses
// (package collector: corebgp, the project's UPDATE decoder, the per-peer
// path set) and only counts the paths: no live table, no validation. It
// is the cheapest receiver the project has, so a sender measured against
// it (bench/bird_sink.sh) shows how fast that sender can go on this
// machine, apart from what watch does with the routes.
//
//	bgpsink -listen 127.0.0.1:1179 -local-as 4200000002 -neighbor 127.0.0.20:4200000001 -n 577524
//
// It prints one line, "up T1 most T2 all T3 cpu C", once it holds -n
// paths (Unix seconds: session Established, 99.9% of -n held, every path
// held; C its own CPU seconds, user + system), and exits; exit 1 after
// -timeout.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rovimpact/rovimpact/collector"
	"github.com/rovimpact/rovimpact/route"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:1179", "listen on `addr:port`")
	localAS := flag.Uint("local-as", 4200000002, "the collector's `AS`")
	neighbor := flag.String("neighbor", "127.0.0.20:4200000001", "the sender, `ip:as`")
	want := flag.Int64("n", 0, "exit once this many `paths` are held (required)")
	timeout := flag.Duration("timeout", 10*time.Minute, "give up after `d`")
	flag.Parse()
	if err := run(*listen, uint32(*localAS), *neighbor, *want, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "bgpsink:", err)
		os.Exit(1)
	}
}

func run(listen string, localAS uint32, neighbor string, want int64, timeout time.Duration) error {
	if want <= 0 {
		return fmt.Errorf("-n must be > 0")
	}
	addr, err := netip.ParseAddrPort(listen)
	if err != nil {
		return fmt.Errorf("-listen: %w", err)
	}
	ip, asText, ok := strings.Cut(neighbor, ":")
	nbIP, err := netip.ParseAddr(ip)
	nbAS, err2 := strconv.ParseUint(asText, 10, 32)
	if !ok || err != nil || err2 != nil {
		return fmt.Errorf("-neighbor %q: want ipv4:as", neighbor)
	}
	var (
		up, most, all atomic.Int64 // Unix nanoseconds
		held          atomic.Int64
		done          = make(chan struct{})
	)
	mostN := want * 999 / 1000
	handler := func(r *route.Route) {
		switch r.Kind {
		case route.Announce:
			n := held.Add(1)
			if n == mostN {
				most.Store(time.Now().UnixNano())
			}
			if n == want {
				all.Store(time.Now().UnixNano())
				close(done)
			}
		case route.Withdraw:
			held.Add(-1)
		}
	}
	col, err := collector.NewBGP(collector.BGPConfig{
		Listen: addr, LocalAS: localAS, RouterID: netip.MustParseAddr("192.0.2.254"),
		Neighbors: []collector.Neighbor{{Addr: nbIP, AS: uint32(nbAS)}},
		Logger:    slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		OnSession: func(ev collector.SessionEvent) {
			if ev.State == collector.SessionEstablished {
				up.CompareAndSwap(0, time.Now().UnixNano())
			}
		},
	}, handler)
	if err != nil {
		return err
	}
	if err := col.Start(context.Background()); err != nil {
		return err
	}
	defer col.Close()
	select {
	case <-done:
	case <-time.After(timeout):
		return fmt.Errorf("%d of %d paths after %s", held.Load(), want, timeout)
	}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	sec := func(ns int64) float64 { return float64(ns) / 1e9 }
	fmt.Printf("up %.3f most %.3f all %.3f cpu %.2f\n", sec(up.Load()), sec(most.Load()), sec(all.Load()), cpu.Seconds())
	return nil
}
