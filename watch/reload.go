package watch

import (
	"context"
	"reflect"
	"slices"
	"sync/atomic"

	"github.com/rovimpact/rovimpact/alert"
	"github.com/rovimpact/rovimpact/rtr"
)

// startCache starts an RPKI-RTR client for addr and feeds its updates
// into the VRP set until the service stops or a reload removes the cache
// (then its VRPs leave the union).
func (w *Service) startCache(addr string) {
	ctx, cancel := context.WithCancel(w.ctx)
	if w.caches == nil {
		w.caches = map[string]*cache{}
	}
	c := rtr.NewClient(rtr.Config{Addr: addr, Logger: w.log, RetryInterval: w.opts.RTRRetry, ResponseTimeout: w.opts.RTRTimeout})
	run := &cache{cancel: cancel, done: make(chan struct{})}
	w.caches[addr] = run
	w.vrps.addClient(c)
	w.wg.Add(2)
	go func() { defer w.wg.Done(); c.Run(ctx) }()
	go func() {
		defer w.wg.Done()
		defer close(run.done)
		w.vrps.follow(c)
		// Run has returned: either the service stops (leave the data
		// alone, the process ends), or the cache was removed, or its
		// client is being replaced (watch/reload_rtr.go).
		switch {
		case w.ctx.Err() != nil:
		case run.replaced.Load():
			w.vrps.retireClient(c)
		default:
			w.vrps.removeClient(c)
		}
	}()
}

// cache is one running RPKI-RTR client.
type cache struct {
	cancel context.CancelFunc
	// replaced: stopped to make way for a client with other settings;
	// its source's VRPs stay in the union until the new one has synced.
	replaced atomic.Bool
	done     chan struct{} // closed once the client's updates are applied
}

// restartOnly are the settings a reload cannot change without dropping
// sessions or listeners; a changed one is logged and kept as it runs,
// unless reloadPeers, reloadRTRTimers or reloadSLURM applied it live.
func restartOnly(o, n Options) []string {
	var out []string
	for _, f := range []struct {
		name string
		a, b any
	}{
		{"listen", o.Listen, n.Listen}, {"neighbor", o.Neighbors, n.Neighbors}, {"accept", o.Accept, n.Accept},
		{"accept-as", o.AcceptAS, n.AcceptAS}, {"router-id", o.RouterID, n.RouterID}, {"bmp", o.BMP, n.BMP},
		{"bmp-accept", o.BMPAccept, n.BMPAccept}, {"max-prefixes", o.MaxPrefixes, n.MaxPrefixes},
		{"http", o.HTTP, n.HTTP}, {"debug-addr", o.DebugAddr, n.DebugAddr}, {"log-format", o.LogFormat, n.LogFormat},
		{"local-as/as-set/count-default", o.Classify, n.Classify}, {"slurm", o.SLURM, n.SLURM},
		{"dump", o.Dump, n.Dump}, {"dump-interval", o.DumpInterval, n.DumpInterval},
		{"rtr-retry", o.RTRRetry, n.RTRRetry}, {"rtr-timeout", o.RTRTimeout, n.RTRTimeout},
		{"peer-role", o.PeerRoles, n.PeerRoles}, {"peer-roles", o.PeerRolesFile, n.PeerRolesFile},
	} {
		if !same(f.a, f.b) {
			out = append(out, f.name)
		}
	}
	return out
}

// same compares two settings, a nil list equal to an empty one.
func same(a, b any) bool {
	as, aok := a.([]string)
	bs, bok := b.([]string)
	if aok && bok {
		return slices.Equal(as, bs)
	}
	return reflect.DeepEqual(a, b)
}

// reload is SIGHUP. Without a config file it re-reads the VRP files. With
// one it reads the configuration again (the command line still wins) and
// applies what can change while sessions stay up: VRP files and RTR
// caches added or removed, the drop-expired policy, alert receivers and
// filters, the change-log cap, the End-of-RIB wait, the intervals, the
// BGP peers (reloadPeers: only removed peers' sessions end), the RTR
// timers (reloadRTRTimers: each cache's client replaced, its VRPs kept)
// and SLURM (reloadSLURM). Settings that need new listeners or sessions
// are named in the log and keep their running values. It returns whether
// an interval changed (the loop restarts its tickers).
func (w *Service) reload() bool {
	if w.opts.Reload == nil {
		w.log.Info("sighup", "reloading", "vrp_files")
		w.vrps.pollFiles(true)
		return false
	}
	n, err := w.opts.Reload()
	if err != nil {
		w.log.Error("config_reload_failed", "err", err, "kept", "running configuration")
		w.vrps.pollFiles(true)
		return false
	}
	o := w.opts
	var changed []string
	restart := restartOnly(o, n)
	live := w.reloadPeers(n)                     // watch/reload_peers.go
	live = append(live, w.reloadRTRTimers(n)...) // watch/reload_rtr.go
	live = append(live, w.reloadSLURM(n)...)     // watch/reload_slurm.go
	if len(live) > 0 {
		changed = append(changed, live...)
		restart = slices.DeleteFunc(restart, func(k string) bool { return slices.Contains(live, k) })
	}
	if len(restart) > 0 {
		w.log.Warn("config_reload_needs_restart", "keys", restart)
	}
	// VRP sources.
	if o.DropExpired != n.DropExpired {
		changed = append(changed, "drop-expired")
		w.opts.DropExpired = n.DropExpired
	}
	w.vrps.setOptions(w.opts.DropExpired, n.VRPFiles)
	for _, name := range o.VRPFiles {
		if !slices.Contains(n.VRPFiles, name) {
			w.vrps.removeFile(name)
			changed = append(changed, "vrps")
		}
	}
	w.vrps.pollFiles(true)
	for _, name := range n.VRPFiles {
		if !slices.Contains(o.VRPFiles, name) {
			w.vrps.loadFile(name, "config")
			changed = append(changed, "vrps")
		}
	}
	w.opts.VRPFiles = n.VRPFiles
	for _, addr := range o.RTR {
		if !slices.Contains(n.RTR, addr) {
			w.caches[addr].cancel()
			delete(w.caches, addr)
			changed = append(changed, "rtr")
		}
	}
	for _, addr := range n.RTR {
		if !slices.Contains(o.RTR, addr) {
			w.startCache(addr)
			changed = append(changed, "rtr")
		}
	}
	w.opts.RTR = n.RTR
	// Outputs and periodic work.
	if o.MaxChangeLogs != n.MaxChangeLogs {
		w.opts.MaxChangeLogs = n.MaxChangeLogs
		changed = append(changed, "max-change-logs")
	}
	if o.EORTimeout != n.EORTimeout {
		w.opts.EORTimeout = n.EORTimeout
		changed = append(changed, "eor-timeout")
	}
	if o.DumpKeep != n.DumpKeep || o.DumpMaxAge != n.DumpMaxAge {
		w.opts.DumpKeep, w.opts.DumpMaxAge = n.DumpKeep, n.DumpMaxAge
		changed = append(changed, "dump-retention")
	}
	again := false
	if o.Interval != n.Interval && n.Interval > 0 {
		w.opts.Interval, again = n.Interval, true
		changed = append(changed, "interval")
	}
	if o.SummaryInterval != n.SummaryInterval {
		w.opts.SummaryInterval, again = n.SummaryInterval, true
		changed = append(changed, "summary-interval")
	}
	if o.FilePoll != n.FilePoll {
		w.opts.FilePoll, again = n.FilePoll, true
		changed = append(changed, "file-poll")
	}
	if o.AlertsText != n.AlertsText {
		// A receiver that keeps its name keeps its held-down events and
		// what it told (alert.Notifier.Adopt); the old senders deliver
		// what they have queued, then stop.
		var next *alert.Notifier
		if len(n.Alerts) > 0 {
			next = alert.New(n.Alerts, alert.Options{Log: w.log})
			next.Adopt(w.alerts)
		}
		if w.alerts != nil {
			w.alerts.Close()
		}
		w.alerts = next
		w.opts.Alerts, w.opts.AlertsText = n.Alerts, n.AlertsText
		changed = append(changed, "alerts")
	}
	slices.Sort(changed)
	w.log.Info("config_reloaded", "changed", slices.Compact(changed))
	return again
}
