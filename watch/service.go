// Package watch is the watch service: it runs the BGP and BMP collectors
// and the VRP sources (RPKI-RTR caches, files, SLURM) into a live table,
// follows sessions, logs the changes of invalid routes, serves the HTTP API
// and writes dumps. cmd/rovimpact only turns flags into Options.
package watch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rovimpact/rovimpact/alert"
	"github.com/rovimpact/rovimpact/collector"
	"github.com/rovimpact/rovimpact/live"
	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/serve"
)

// gcPercent is watch's GOGC unless the environment sets one: the heap
// may grow to 1.5 times what was live at the last collection, not twice
// (see Run).
const gcPercent = 50

// NewLogger returns the slog logger of --log-format on w.
func NewLogger(w io.Writer, jsonFormat bool) *slog.Logger {
	if jsonFormat {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// Run runs until ctx is done (SIGINT/SIGTERM through main's context),
// then stops gracefully: HTTP drained, sessions closed, a last dump.
func Run(ctx context.Context, opts Options, stderr io.Writer, ready func(*Service)) error {
	cfg, err := check(opts)
	if err != nil {
		return err
	}
	log := NewLogger(stderr, cfg.logJSON)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// A service that runs for months with a heap that churns (a snapshot
	// and a report of the whole table built and dropped at every check
	// and scrape): measured on a full table from bird2
	// (bench/README.md), huge pages held ~100 MB more RSS for no CPU
	// gained in the load, so watch does not ask for them (unlike the
	// batch commands, it does not call hugepage.Reserve); and half the
	// GC's default headroom held ~100 MB less for about the same CPU.
	// GOGC, when set, wins.
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(gcPercent))
	}

	// --max-prefixes is enforced by the collectors (BGP per family, with a
	// CEASE; the BMP station per peer), not again by the table: a second
	// limit counting both families together would skip paths the BGP
	// collector let in.
	w := &Service{opts: opts, log: log, state: live.New(live.Options{Classify: opts.Classify}), sessions: newSessions(log)}
	w.meta = reports.Meta{Policy: opts.Policy}
	if len(opts.Alerts) > 0 {
		w.alerts = alert.New(opts.Alerts, alert.Options{Log: log})
	}
	defer func() {
		if w.alerts != nil {
			w.alerts.Close()
		}
	}()
	if w.vrps, err = newVRPFeed(w.state, opts, log, opts.Now); err != nil {
		return err
	}
	w.vrps.aspa.roles = cfg.roles
	for _, name := range opts.VRPFiles {
		if err := w.vrps.loadFile(name, "start"); err != nil {
			return err
		}
	}
	if len(opts.VRPFiles) > 0 {
		w.releaseMemory("vrps_loaded")
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Add(1)
	go func() { defer wg.Done(); w.vrps.run(ctx) }()
	w.ctx, w.wg = ctx, &wg
	for _, addr := range opts.RTR {
		w.startCache(addr)
	}
	// The collectors get a context of their own, cancelled only after the
	// last dump: they close their sessions (flushing the peers' paths) as
	// soon as their context ends.
	routeCtx, routeCancel := context.WithCancel(context.WithoutCancel(ctx))
	defer routeCancel()
	w.routeCancel = routeCancel
	if err := w.startRoutes(routeCtx, cfg, &wg); err != nil {
		return err
	}
	var httpSrv *http.Server
	if opts.HTTP != "" {
		ln, err := serve.Listen(opts.HTTP, opts.HTTPExplicit)
		if err != nil {
			if errors.Is(err, serve.ErrNotLoopback) {
				return usageError("--http: %v", err)
			}
			return err
		}
		w.httpAddr = ln.Addr().String()
		w.api = serve.New(serve.Config{Table: w.state, Meta: w.reportMeta, Sources: w.vrps.sources,
			Disagreements: w.vrps.set.Disagreements, Union: w.vrps.set.Len, Sessions: w.sessions.list, Skipped: w.routeSkipped, Logger: log, Now: opts.Now,
			AfterBuild: func() { w.releaseMemory("report") }})
		w.api.Registry().MustRegister(aspaCollector{w.vrps}) // watch/aspa.go
		httpSrv = serve.NewHTTPServer(w.httpAddr, w.api)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("http_server_stopped", "err", err)
				cancel()
			}
		}()
	}
	debugAddr := ""
	if opts.DebugAddr != "" {
		var stop func()
		if debugAddr, stop, err = startDebug(ctx, opts.DebugAddr, log); err != nil {
			return fmt.Errorf("--debug-addr: %w", err)
		}
		defer stop()
	}
	log.Info("watch_started", "bgp", opts.listenIf(cfg.bgp != nil), "bmp", w.bmpAddr(), "http", w.httpAddr,
		"rtr", strings.Join(opts.RTR, ","), "vrp_files", strings.Join(opts.VRPFiles, ","), "debug", debugAddr)
	// SIGHUP is caught before anyone can know we run: a SIGHUP arriving
	// between "ready" and the loop would otherwise kill the process.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	if ready != nil {
		ready(w)
	}
	err = w.loop(ctx, hup)
	if w.alerts != nil {
		w.alerts.Close() // what the last check found is delivered
	}
	// The last dump comes first: closing the collectors ends every session,
	// which (rightly) flushes the peers' paths from the table.
	if opts.Dump != "" {
		if derr := w.writeDump(); derr != nil && err == nil {
			err = derr
		}
	}
	if httpSrv != nil {
		sctx, scancel := context.WithTimeout(context.Background(), opts.ShutdownDeadline)
		httpSrv.Shutdown(sctx)
		scancel()
	}
	w.closeRoutes()
	cancel()
	log.Info("watch_stopped")
	return err
}

func (o Options) listenIf(on bool) string {
	if on {
		return o.Listen
	}
	return ""
}

// Service is one running watch: the live table, its sources and outputs.
type Service struct {
	opts     Options
	log      *slog.Logger
	state    *live.State
	vrps     *vrpFeed
	sessions *sessions
	meta     reports.Meta
	api      *serve.Server
	httpAddr string

	bgp         *collector.BGP
	bmp         *collector.BMP
	routeCancel context.CancelFunc

	// prev is the DiffBase of the table at the last check that read it
	// (see logChanges).
	prev *live.Snapshot
	// loadSkipped counts the ticks whose check waited while a session
	// loads its initial table (checkDue).
	loadSkipped int

	// ctx and wg run the RTR clients, which a reload starts and stops.
	ctx    context.Context
	wg     *sync.WaitGroup
	caches map[string]*cache

	alerts     *alert.Notifier // nil without receivers
	recentDown map[peerID]bool // sessions seen down at the last check
	// pendingDown are the session_down events of the last check, told at
	// this one (see logChanges).
	pendingDown []pendingDown
}

// startRoutes starts the BGP speaker and the BMP station.
func (w *Service) startRoutes(ctx context.Context, cfg config, wg *sync.WaitGroup) error {
	if cfg.bgp != nil {
		cfg.bgp.Logger = w.log
		cfg.bgp.OnSession = w.sessions.handler("bgp")
		if !cfg.bgp.Listen.Addr().IsLoopback() && !w.opts.ListenExplicit {
			return usageError("--listen %s is not loopback: give --listen explicitly", cfg.bgp.Listen)
		}
		b, err := collector.NewBGP(*cfg.bgp, w.handler())
		if err != nil {
			return usageError("%v", err)
		}
		if err := b.Start(ctx); err != nil {
			return err
		}
		w.bgp = b
	}
	if cfg.bmp != nil {
		cfg.bmp.Logger = w.log
		cfg.bmp.OnSession = w.sessions.handler("bmp")
		b, err := collector.ListenBMP(*cfg.bmp, w.handler())
		if err != nil {
			w.closeRoutes()
			return err
		}
		w.bmp = b
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := b.Serve(ctx); err != nil {
				w.log.Error("bmp_station_stopped", "err", err)
			}
		}()
	}
	return nil
}

// handler applies a collector's route events to the table (sessions are
// followed from the collector's session events), as a feed of its own
// (live.State.Feed): the collector's peer numbering keeps apart peers that
// share an AS and address. It runs under the collector's lock: it must not
// call the collector.
func (w *Service) handler() collector.Handler {
	return w.state.Feed()
}

func (w *Service) closeRoutes() {
	if w.routeCancel != nil {
		w.routeCancel()
	}
	if w.bgp != nil {
		w.bgp.Close()
	}
	if w.bmp != nil {
		w.bmp.Close()
	}
}

func (w *Service) bmpAddr() string {
	if w.bmp == nil {
		return ""
	}
	return w.bmp.Addr().String()
}

// BMPAddr is the bound BMP address ("" without --bmp).
func (w *Service) BMPAddr() string { return w.bmpAddr() }

// VRPUnion is the union of the VRP sources, before SLURM assertions.
func (w *Service) VRPUnion() []rov.VRP { return w.vrps.set.Union() }

// HTTPAddr is the bound API address ("" without --http).
func (w *Service) HTTPAddr() string { return w.httpAddr }

// routeSkipped returns the collectors' skip counters for /metrics.
func (w *Service) routeSkipped() map[string]map[string]int64 {
	out := map[string]map[string]int64{}
	if w.bgp != nil {
		out["bgp"] = w.bgp.Stats().Skipped
	}
	if w.bmp != nil {
		out["bmp"] = w.bmp.Stats().Skipped
	}
	return out
}

// reportMeta is the Meta of each report build: the policy, the VRP
// summary, and one input per route source.
func (w *Service) reportMeta() reports.Meta {
	m := w.meta
	m.VRPs = w.vrps.summary()
	add := func(name string, st route.Stats) {
		m.Inputs = append(m.Inputs, reports.Input{Name: name, Records: st.Records, Routes: st.Routes, Skipped: st.Skipped})
	}
	if w.bgp != nil {
		add("bgp "+w.opts.Listen, w.bgp.Stats())
	}
	if w.bmp != nil {
		add("bmp "+w.bmpAddr(), w.bmp.Stats())
	}
	m.Skipped = w.state.Stats().Skipped
	return m
}

// loop runs the periodic work until ctx is done: change logging, session
// and cache state, file polling and SIGHUP, summaries, dumps.
func (w *Service) loop(ctx context.Context, hup <-chan os.Signal) error {
	for {
		if again := w.loopOnce(ctx, hup); !again {
			return nil
		}
	}
}

// loopOnce runs the loop until ctx is done (false) or a reload changed an
// interval (true: start again with new tickers).
func (w *Service) loopOnce(ctx context.Context, hup <-chan os.Signal) bool {
	tick := time.NewTicker(w.opts.Interval)
	defer tick.Stop()
	var summary, poll, dump <-chan time.Time
	if w.opts.SummaryInterval > 0 {
		t := time.NewTicker(w.opts.SummaryInterval)
		defer t.Stop()
		summary = t.C
	}
	if w.opts.FilePoll > 0 && len(w.opts.VRPFiles) > 0 {
		t := time.NewTicker(w.opts.FilePoll)
		defer t.Stop()
		poll = t.C
	}
	if w.opts.Dump != "" {
		t := time.NewTicker(w.opts.DumpInterval)
		defer t.Stop()
		dump = t.C
	}
	for {
		select {
		case <-ctx.Done():
			w.logChanges()
			return false
		case <-tick.C:
			w.vrps.pollClients()
			w.tick()
		case <-summary:
			w.logSummary()
		case <-poll:
			w.vrps.pollFiles(false)
		case <-hup:
			if w.reload() {
				return true
			}
		case <-dump:
			if err := w.writeDump(); err != nil {
				w.log.Error("dump_failed", "err", err)
			}
		}
	}
}

func (w *Service) now() time.Time {
	if w.opts.Now == nil {
		return time.Now()
	}
	return w.opts.Now()
}

// maxLoadGap bounds how many --interval ticks the check waits while a
// session loads its initial table (checkDue): a change from a session
// already loaded, or from the VRPs, is told at most this many intervals
// late (16 s at the default 2 s) while another session loads.
const maxLoadGap = 8

// checkDue tells the loop's tick whether to run the check (logChanges)
// now. While no session is loading its initial table, always. While one
// is, each check reads a table that is still growing (a snapshot of it,
// when this was measured; the State's DiffBase since) and diffs it, only
// for its routes to be summed up in one initial_load at
// its End-of-RIB: measured on a full table from bird2, ~40% of watch's CPU
// during the load, and each build raises the RSS peak. So the check waits:
// it runs every maxLoadGap-th tick, and at once when a session down or an
// End-of-RIB waits to be told (initial_load is told at the tick after the
// End-of-RIB, as before) or a loading session's --eor-timeout has run out
// (its load_timeout). A session up waits like a change (its session_up
// event too): it starts a load, and even one check early in a full-table
// load slowed bird2's load from ~4.5 to ~8.5 s in bench/watch_bird2.sh.
// Events are the same; only their times move, within the bound above.
func (w *Service) checkDue() bool {
	if w.sessions == nil {
		return true
	}
	edges, loading, deadline := w.sessions.pending(w.opts.EORTimeout)
	if !loading || edges || !time.Now().Before(deadline) || w.loadSkipped+1 >= maxLoadGap {
		w.loadSkipped = 0
		return true
	}
	w.loadSkipped++
	return false
}

// tick is the check of one --interval tick: logChanges when checkDue,
// then releaseMemory when that check told an initial_load.
func (w *Service) tick() {
	if w.checkDue() && w.logChanges() {
		w.releaseMemory("initial_load")
	}
}

// releaseMemory hands the heap's free pages back to the kernel after a
// bulk phase: the first VRP load (decompression, parsing, the index
// built), and a session's initial table (the arrays grown while it
// arrived, then the check that summed up its initial_load). The Go runtime
// returns free memory on its own only slowly (about 1% of a CPU): on a
// full table from bird2, watch otherwise sat for minutes at the load's peak
// RSS, ~150 MB above what it held (bench/README.md). One forced collection
// per load costs ~0.1-0.3 s of CPU.
func (w *Service) releaseMemory(after string) {
	start := time.Now()
	table := w.state.ReleaseMemory() // the table's arrays, outside the Go heap
	debug.FreeOSMemory()
	w.log.Debug("memory_released", "after", after, "seconds", time.Since(start).Seconds(), "table_bytes", table)
}

// logChanges diffs the table now with the last check's (through the
// State's DiffBase, see live.State.DiffBase) and logs
// each invalid route that appeared, disappeared or changed, with its
// cause and deciding VRP, and the session edges since the last call. Two
// kinds of change are told as one line each instead of one per route: a
// BGP session's initial table (initial_load, after its End-of-RIB), and
// the invalids a session took with it when it went down
// (session_down_summary). The same events go to the alert receivers.
// toldLoad reports whether an initial_load was told.
func (w *Service) logChanges() (toldLoad bool) {
	now := w.now()
	var edges []sessionEdge
	loading := map[peerID]loadState{}
	if w.sessions != nil {
		edges, loading = w.sessions.drain()
	}
	// Peers down now or at the previous check: a flush can land just
	// after the check that saw the session end.
	down, downNow := map[peerID]bool{}, map[peerID]bool{}
	loaded := map[peerID]bool{}
	for _, e := range edges {
		id := peerID{e.key.ip, e.key.as}
		if !e.up {
			down[id], downNow[id] = true, true
		}
		if e.eor {
			loaded[id] = true
		}
	}
	for id := range w.recentDown {
		down[id] = true
	}
	w.recentDown = downNow
	// The table is read only when it changed since the last check or an
	// initial_load is to be summed up, and then through the State's
	// DiffBase (live.State.DiffBase): what Diff, the causes below and an
	// initial_load's counts ask of a table, without a whole snapshot of
	// it. A check with nothing new reads nothing.
	need := w.prev == nil || w.state.Epoch() != w.prev.Epoch
	for _, e := range edges {
		need = need || e.eor
	}
	// Loads whose --eor-timeout ran out, decided once: their initial_load
	// below needs the table this decides to read.
	timedOut := map[peerID]bool{}
	for id, l := range loading {
		if time.Since(l.since) >= w.opts.EORTimeout {
			timedOut[id] = true
			need = true
		}
	}
	var cur *live.Snapshot // the table now, when read
	if need {
		cur = w.state.DiffBase()
	}
	// The VRP sources whose changes reached the table since the last check
	// name the cause of a vrps_changed change: the source, or each of them
	// when several changed at once (a change applied between the snapshot
	// and this drain is named at this check and shows at the next, which
	// then names none).
	var cacheEvents []alert.Event
	var vrpSources string
	if w.vrps != nil {
		var srcs []string
		cacheEvents, srcs = w.vrps.drainEvents()
		vrpSources = strings.Join(srcs, ",")
	}
	var changes []live.Change
	// Only a DiffBase of the table is kept for the next check: what Diff
	// and the causes below ask of the previous table (its routes, and the
	// peers and VRP of its invalid routes), not the whole table. A check
	// with nothing new keeps the base it has.
	prev := w.prev
	// next answers the questions below about the new table: a DiffBase,
	// which knows every route (has) and the carriers and deciding VRP of
	// its invalid routes, the only ones asked about in it (Appeared and
	// Changed routes; Disappeared ones are asked of prev). Asking a whole
	// snapshot instead would build its table's lookup map (~100 bytes a
	// path, BenchmarkMemory lookup-B/path) at every check that saw a
	// change, on top of the snapshot.
	next := cur
	if cur != nil && (prev == nil || cur.Epoch != prev.Epoch) {
		changes = live.Diff(prev, cur)
		w.prev = cur
	}
	var events []alert.Event
	gone := map[peerID]int{}
	logged, suppressed := 0, 0
	for _, c := range changes {
		why := cause(prev, next, c, down)
		if why == causeSessionDown {
			gone[firstCarrier(prev, c, down)]++
			continue
		}
		if c.Kind == live.Appeared && why == causeAnnounced && onlyFrom(next, c, loading, loaded) {
			// Logged as part of the peer's initial_load; receivers
			// watching their own space still hear of it (alert.Filter).
			// Without receivers no event is made: a full table's load
			// would make one (and format its VRP) per invalid route,
			// ~100k, for nobody.
			if w.alerts != nil {
				ev := changeEvent(c, why, decidingVRP(next, c.Prefix, c.Origin), now)
				ev.InitialLoad = true
				events = append(events, ev)
			}
			continue
		}
		vrp := ""
		if c.Kind == live.Disappeared {
			vrp = decidingVRP(prev, c.Prefix, c.Origin)
		} else {
			vrp = decidingVRP(next, c.Prefix, c.Origin)
		}
		ev := changeEvent(c, why, vrp, now)
		if why == causeVRPs {
			ev.Source = vrpSources
		}
		events = append(events, ev)
		if logged == w.opts.MaxChangeLogs {
			suppressed++
			continue
		}
		logged++
		args := []any{"prefix", c.Prefix, "origin", c.Origin.String(), "paths", c.Paths, "peers", c.Peers}
		switch c.Kind {
		case live.Appeared:
			args = append(args, "class", c.Class.String(), "impact", c.Impact.String())
		case live.Disappeared:
			args = append(args, "old_class", c.OldClass.String(), "old_impact", c.OldImpact.String())
		default:
			args = append(args, "class", c.Class.String(), "impact", c.Impact.String(), "old_class", c.OldClass.String(), "old_impact", c.OldImpact.String())
		}
		args = append(args, "cause", why)
		if why == causeVRPs && vrpSources != "" {
			args = append(args, "vrp_sources", vrpSources)
		}
		if vrp != "" {
			args = append(args, "vrp", vrp)
		}
		w.log.Info("invalid_"+c.Kind.String(), args...)
	}
	if suppressed > 0 {
		w.log.Warn("invalid_changes_suppressed", "count", suppressed, "max_change_logs", w.opts.MaxChangeLogs)
	}
	// A collector tells a session's end, then flushes its routes: a check
	// can fall between the two and see the edge without the flush. So a
	// session_down is told at the check after the one that saw its edge,
	// counting the invalids both checks saw go with it (one event, one
	// session_down_summary line, with the whole count).
	for _, p := range w.pendingDown {
		p.ev.Counts["invalids_gone"] += gone[p.id]
		delete(gone, p.id)
		events = append(events, p.ev)
		w.log.Warn("session_down_summary", "peer_ip", p.id.ip, "peer_as", p.id.as, "invalids_gone", p.ev.Counts["invalids_gone"])
	}
	w.pendingDown = nil
	for _, e := range edges {
		id := peerID{e.key.ip, e.key.as}
		switch {
		case e.eor:
			events = append(events, w.initialLoad(cur, e.key, "end_of_rib", now))
			toldLoad = true
		case e.up:
			events = append(events, alert.Event{Name: "session_up", Time: now, Peer: e.key.name(), Clear: true})
		default:
			w.pendingDown = append(w.pendingDown, pendingDown{id, alert.Event{Name: "session_down", Time: now, Peer: e.key.name(),
				Cause: e.reason, Counts: map[string]int{"invalids_gone": gone[id]}}})
			delete(gone, id)
		}
	}
	events = append(events, cacheEvents...)
	for id, n := range gone { // flushed later still
		w.log.Warn("session_down_summary", "peer_ip", id.ip, "peer_as", id.as, "invalids_gone", n)
	}
	for id, l := range loading {
		if timedOut[id] {
			w.sessions.endLoad(id)
			events = append(events, w.initialLoad(cur, l.key, "load_timeout", now))
			toldLoad = true
		}
	}
	if w.alerts != nil {
		w.alerts.Handle(now, events)
	}
	return toldLoad
}

// initialLoad summarises what a session's initial table holds, logged
// and told once instead of one line per invalid route. tab is the table
// now (a DiffBase or a snapshot).
func (w *Service) initialLoad(tab *live.Snapshot, k sessionKey, why string, now time.Time) alert.Event {
	pc, _ := tab.PeerCounts(route.PeerKey{AS: k.as, IP: k.ip})
	counts := map[string]int{"routes": pc.Routes, "invalid": pc.Invalid, "dropped": pc.Dropped, "unreachable": pc.Unreachable}
	w.log.Info("initial_load", "peer", k.name(), "cause", why, "routes", counts["routes"], "invalid", counts["invalid"],
		"dropped", counts["dropped"], "unreachable", counts["unreachable"])
	return alert.Event{Name: "initial_load", Time: now, Peer: k.name(), Cause: why, Counts: counts}
}

// logSummary writes the periodic one-line summary: the counts of the
// last check's snapshot (its epoch logged) when the table has not changed
// since, or while a session loads its initial table (the check then runs
// at most maxLoadGap intervals apart: building a snapshot of a growing
// full table once a minute only for this line raised the load's CPU and
// memory peak); of the table now otherwise, through the State's DiffBase
// (no whole snapshot).
func (w *Service) logSummary() {
	st := w.state.Stats()
	var c live.Counts
	var epoch uint64
	_, loading, _ := w.sessions.pending(w.opts.EORTimeout)
	if w.prev != nil && (loading || w.prev.Epoch == w.state.Epoch()) {
		c, epoch = w.prev.Counts(), w.prev.Epoch
	} else {
		b := w.state.DiffBase()
		c, epoch = b.Counts(), b.Epoch
	}
	up, total := w.sessions.count()
	w.log.Info("summary", "paths", c.Paths, "routes", c.Routes, "valid", c.Valid, "invalid", c.Invalid, "not_found", c.NotFound,
		"dropped", c.Dropped, "unreachable", c.Unreachable, "vrps", st.VRPs, "sessions_up", up, "sessions", total,
		"caches_up", w.vrps.cachesUp(), "caches", len(w.opts.RTR), "epoch", epoch)
}
