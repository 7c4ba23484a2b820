package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/collector"
	"github.com/rovimpact/rovimpact/live"
	"github.com/rovimpact/rovimpact/mrt"
	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/rtr"
	"github.com/rovimpact/rovimpact/serve"
)

func init() { register(newWatchCommand) }

type watchOptions struct {
	vrp      vrpOptions
	analysis analysisOptions

	listen      string
	neighbors   []string
	accept      []string
	acceptAS    uint32
	routerID    string
	bmp         string
	bmpAccept   []string
	maxPrefixes uint32

	rtr        []string
	rtrRetry   time.Duration
	rtrTimeout time.Duration

	http             string
	logFormat        string
	interval         time.Duration
	summaryInterval  time.Duration
	filePoll         time.Duration
	dump             string
	dumpInterval     time.Duration
	maxChangeLogs    int
	now              func() time.Time
	httpExplicit     bool // --http given: binding beyond loopback is the operator's choice
	listenExplicit   bool
	shutdownDeadline time.Duration
}

// defaultHTTP is the API's loopback default: read-only, but it exposes the
// whole table, so nothing beyond the host sees it unless asked.
const defaultHTTP = "127.0.0.1:8323"

func newWatchCommand() *cobra.Command {
	opts := watchOptions{now: time.Now, shutdownDeadline: 5 * time.Second}
	cmd := &cobra.Command{
		Use:   "watch (--neighbor IP[:AS]... | --accept PREFIX... | --bmp ADDR:PORT) (--rtr HOST:PORT... | --vrps FILE...) [flags]",
		Short: "Collect routes live (BGP, BMP) and VRPs (RPKI-RTR, files) and keep the ROV impact current",
		Long: `watch keeps the analysis of analyze current. Routers peer with it over BGP
(it never advertises anything) or stream to it over BMP (RFC 7854); it keeps
every peer's pre-policy paths, fetches VRPs from RPKI caches over RPKI-RTR
(RFC 8210, falling back to RFC 6810) and/or files, and re-validates only the
routes a VRP change can affect.

Outputs:
  HTTP (--http, loopback by default, read-only):
    /metrics       Prometheus: routes by state, invalids by class, dropped by
                   impact, per peer; VRPs, serial and age per cache; sessions
    /api/report    the analyze JSON; /api/summary and /api/invalids its parts
                   (/api/invalids?class=&impact=&origin=&dropped= filters)
    /api/lookup?q= the lookup JSON (&origin=AS as lookup --origin)
    /api/caches    VRP sources and the VRPs they disagree on
    /healthz       200 when ROV runs on live data; 503 with the reasons when no
                   VRP source has delivered data, the VRP union is empty,
                   every source is past its expire interval, or no route
                   session is up
  Log lines (--log-format text|json) when an invalid route appears,
  disappears or changes class or impact, when a session or cache goes up or
  down, when VRPs change, and a summary every --summary-interval.
  --dump DIR writes the table every --dump-interval (and at exit) as an MRT
  TABLE_DUMP_V2 file that analyze reads.

VRP sources are kept apart (GET /api/caches shows where they disagree) and
their union is used (RFC 8210 §10). --vrps files are re-read when they
change (checked every --file-poll) or on SIGHUP. SLURM filters apply to
every source; SLURM assertions are added to the union. SLURM files are read
once, at start.

Everything listens on loopback unless an address is given. BGP accepts only
--neighbor addresses and --accept prefixes; BMP only --bmp-accept routers
(loopback by default). SIGINT or SIGTERM stops it gracefully.

` + exitCodesHelp,
		Example: `  rovimpact watch --local-as 64500 --neighbor 192.0.2.1:64501 --listen 192.0.2.10:179 --rtr 127.0.0.1:3323
  rovimpact watch --bmp 127.0.0.1:11019 --vrps /var/lib/rpki-client/json --http 127.0.0.1:8323
  rovimpact watch --local-as 64500 --accept 10.0.0.0/24 --rtr cache1:323 --rtr cache2:323 --dump /var/lib/rovimpact/ribs`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.httpExplicit = cmd.Flags().Changed("http")
			opts.listenExplicit = cmd.Flags().Changed("listen")
			return runWatch(cmd.Context(), opts, cmd.ErrOrStderr(), nil)
		},
	}
	addWatchFlags(cmd, &opts)
	return cmd
}

// addWatchFlags binds watch's flags to opts.
func addWatchFlags(cmd *cobra.Command, opts *watchOptions) {
	f := cmd.Flags()
	f.StringVar(&opts.listen, "listen", collector.DefaultBGPListen.String(), "BGP: accept sessions on `ADDR:PORT`")
	f.StringArrayVar(&opts.neighbors, "neighbor", nil, "BGP: accept a session from `IP[:AS]` (IPv6 with an AS: [2001:db8::1]:64501; no AS: any) (repeatable)")
	f.StringArrayVar(&opts.accept, "accept", nil, "BGP: accept sessions from any address in `PREFIX` (dynamic neighbors) (repeatable)")
	f.Var((*asnValue)(&opts.acceptAS), "accept-as", "BGP: the `AS` --accept peers must have (0: any)")
	f.StringVar(&opts.routerID, "router-id", "", "BGP: router ID (IPv4 `ADDR`); default: the --listen address, or 127.0.0.1 for a wildcard one")
	f.StringVar(&opts.bmp, "bmp", "", "BMP: accept router connections on `ADDR:PORT` (RFC 7854, pre-policy route monitoring)")
	f.StringArrayVar(&opts.bmpAccept, "bmp-accept", nil, "BMP: accept routers from `PREFIX` (repeatable; default loopback only)")
	f.Uint32Var(&opts.maxPrefixes, "max-prefixes", 0, "per-peer path limit (BGP: per family, the session is torn down; BMP: further paths are skipped and counted) (0: none)")
	addVRPFlags(cmd, &opts.vrp)
	f.StringArrayVar(&opts.rtr, "rtr", nil, "RPKI-RTR cache `HOST:PORT` (RFC 8210, falls back to RFC 6810) (repeatable)")
	f.DurationVar(&opts.rtrRetry, "rtr-retry", 5*time.Second, "first delay before reconnecting to a cache; it doubles up to the cache's retry interval (RFC 8210 §6) or 60 s, whichever is lower")
	f.DurationVar(&opts.rtrTimeout, "rtr-timeout", rtr.DefaultResponseTimeout, "a cache that leaves a query unanswered this long (no PDU at all, or none inside a response) is declared down and reconnected")
	addAnalysisFlags(cmd, &opts.analysis)
	// One AS plays both parts: the collector speaks BGP as the operator's
	// AS, and routes its iBGP peers originate (empty AS_PATH) come from it.
	f.Lookup("local-as").Usage = "your `AS`: the collector's BGP AS (required with --neighbor or --accept), and the origin of routes with an empty AS_PATH or a final confederation segment"
	f.StringVar(&opts.http, "http", defaultHTTP, "serve /metrics and the JSON API on `ADDR:PORT` (\"\": no HTTP)")
	f.StringVar(&opts.logFormat, "log-format", "text", "log line `format`: text or json")
	f.DurationVar(&opts.interval, "interval", 2*time.Second, "how often changes of invalid routes are looked for and logged")
	f.DurationVar(&opts.summaryInterval, "summary-interval", time.Minute, "how often a one-line summary is logged (0: never)")
	f.DurationVar(&opts.filePoll, "file-poll", 5*time.Second, "how often --vrps files are checked for changes (0: only on SIGHUP)")
	f.StringVar(&opts.dump, "dump", "", "write the collected table as MRT TABLE_DUMP_V2 files into `DIR`")
	f.DurationVar(&opts.dumpInterval, "dump-interval", time.Hour, "how often --dump writes a file (one more is written at exit)")
	f.IntVar(&opts.maxChangeLogs, "max-change-logs", 1000, "log at most `N` invalid route changes per --interval; the rest are counted in one line")
}

// watchConfig is watchOptions checked and parsed.
type watchConfig struct {
	bgp     *collector.BGPConfig
	bmp     *collector.BMPConfig
	logJSON bool
}

// checkWatch turns the flags into collector configurations; any mistake is
// a usage error (exit 2).
func checkWatch(opts watchOptions) (watchConfig, error) {
	var c watchConfig
	switch opts.logFormat {
	case "text":
	case "json":
		c.logJSON = true
	default:
		return c, usageError("--log-format %q: want text or json", opts.logFormat)
	}
	if len(opts.neighbors) == 0 && len(opts.accept) == 0 && opts.bmp == "" {
		return c, usageError("no route source: give --neighbor IP[:AS], --accept PREFIX or --bmp ADDR:PORT")
	}
	if len(opts.vrp.files) == 0 && len(opts.rtr) == 0 {
		return c, usageError("no VRP source: give --rtr HOST:PORT or --vrps FILE")
	}
	if opts.interval <= 0 {
		return c, usageError("--interval %v: want a positive duration", opts.interval)
	}
	if opts.dump != "" && opts.dumpInterval <= 0 {
		return c, usageError("--dump-interval %v: want a positive duration", opts.dumpInterval)
	}
	if len(opts.neighbors) > 0 || len(opts.accept) > 0 {
		listen, err := netip.ParseAddrPort(opts.listen)
		if err != nil {
			return c, usageError("--listen %q: want ADDR:PORT (127.0.0.1:1179)", opts.listen)
		}
		if opts.analysis.localAS == 0 {
			return c, usageError("BGP needs --local-as: the AS the collector announces in its OPEN (your AS)")
		}
		cfg := collector.BGPConfig{Listen: listen, LocalAS: opts.analysis.localAS, AcceptAS: opts.acceptAS, MaxPrefixes: opts.maxPrefixes}
		switch {
		case opts.routerID != "":
			id, err := netip.ParseAddr(opts.routerID)
			if err != nil || !id.Is4() {
				return c, usageError("--router-id %q: want an IPv4 address", opts.routerID)
			}
			cfg.RouterID = id
		case listen.Addr().Is4() && !listen.Addr().IsUnspecified():
			cfg.RouterID = listen.Addr()
		default:
			cfg.RouterID = netip.MustParseAddr("127.0.0.1")
		}
		for _, n := range opts.neighbors {
			nb, err := parseNeighbor(n)
			if err != nil {
				return c, err
			}
			cfg.Neighbors = append(cfg.Neighbors, nb)
		}
		for _, a := range opts.accept {
			p, err := netip.ParsePrefix(a)
			if err != nil || p.Masked() != p {
				return c, usageError("--accept %q: want a prefix without host bits (10.0.0.0/24)", a)
			}
			cfg.Accept = append(cfg.Accept, p)
		}
		c.bgp = &cfg
	}
	if opts.bmp != "" {
		ap, err := netip.ParseAddrPort(opts.bmp)
		if err != nil {
			return c, usageError("--bmp %q: want ADDR:PORT (127.0.0.1:11019)", opts.bmp)
		}
		cfg := collector.BMPConfig{Listen: ap, MaxPrefixes: int(opts.maxPrefixes)}
		for _, a := range opts.bmpAccept {
			p, err := netip.ParsePrefix(a)
			if err != nil || p.Masked() != p {
				return c, usageError("--bmp-accept %q: want a prefix without host bits (192.0.2.0/24)", a)
			}
			cfg.Accept = append(cfg.Accept, p)
		}
		c.bmp = &cfg
	}
	if opts.http != "" {
		if _, err := netip.ParseAddrPort(opts.http); err != nil {
			return c, usageError("--http %q: want ADDR:PORT with an IP address (127.0.0.1:8323), or \"\" for no HTTP", opts.http)
		}
	}
	for _, r := range opts.rtr {
		if _, port, err := splitHostPort(r); err != nil || port == "" {
			return c, usageError("--rtr %q: want HOST:PORT (127.0.0.1:3323)", r)
		}
	}
	return c, nil
}

// parseNeighbor reads "192.0.2.1", "192.0.2.1:64501", "2001:db8::1" or
// "[2001:db8::1]:64501" (an IPv6 address with an AS needs brackets, since
// "2001:db8::1:64501" is itself an address).
func parseNeighbor(s string) (collector.Neighbor, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		return collector.Neighbor{Addr: a.Unmap()}, nil
	}
	host, as, err := splitHostPort(s)
	if err == nil {
		a, aerr := netip.ParseAddr(host)
		n, nerr := rov.ParseASN(as)
		if aerr == nil && nerr == nil && n != 0 {
			return collector.Neighbor{Addr: a.Unmap(), AS: n}, nil
		}
	}
	return collector.Neighbor{}, usageError("--neighbor %q: want IP or IP:AS (192.0.2.1:64501, [2001:db8::1]:64501)", s)
}

func splitHostPort(s string) (host, port string, err error) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return "", "", errors.New("no port")
	}
	host, port = s[:i], s[i+1:]
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	} else if strings.Contains(host, ":") {
		return "", "", errors.New("IPv6 address without brackets")
	}
	if host == "" {
		return "", "", errors.New("no host")
	}
	return host, port, nil
}

// newWatchLogger returns the slog logger of --log-format on w.
func newWatchLogger(w io.Writer, jsonFormat bool) *slog.Logger {
	if jsonFormat {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// watchReady, when non-nil, receives the running watcher once every
// listener is bound (tests use it to find the HTTP address).
type watchReady func(w *watcher)

// runWatch runs until ctx is done (SIGINT/SIGTERM through main's context),
// then stops gracefully: HTTP drained, sessions closed, a last dump.
func runWatch(ctx context.Context, opts watchOptions, stderr io.Writer, ready watchReady) error {
	cfg, err := checkWatch(opts)
	if err != nil {
		return err
	}
	copt, err := opts.analysis.classify()
	if err != nil {
		return err
	}
	log := newWatchLogger(stderr, cfg.logJSON)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// --max-prefixes is enforced by the collectors (BGP per family, with a
	// CEASE; the BMP station per peer), not again by the table: a second
	// limit counting both families together would skip paths the BGP
	// collector let in.
	w := &watcher{opts: opts, log: log, state: live.New(live.Options{Classify: copt}), sessions: newSessions(log)}
	w.meta = reports.Meta{Policy: opts.analysis.policy(copt, nil)}
	if w.vrps, err = newVRPFeed(w.state, opts.vrp, log, opts.now); err != nil {
		return err
	}
	for _, name := range opts.vrp.files {
		if err := w.vrps.loadFile(name, "start"); err != nil {
			return err
		}
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Add(1)
	go func() { defer wg.Done(); w.vrps.run(ctx) }()
	for _, addr := range opts.rtr {
		c := rtr.NewClient(rtr.Config{Addr: addr, Logger: log, RetryInterval: opts.rtrRetry, ResponseTimeout: opts.rtrTimeout})
		w.vrps.addClient(c)
		wg.Add(2)
		go func() { defer wg.Done(); c.Run(ctx) }()
		go func() { defer wg.Done(); w.vrps.follow(c) }()
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
	if opts.http != "" {
		ln, err := serve.Listen(opts.http, opts.httpExplicit)
		if err != nil {
			if errors.Is(err, serve.ErrNotLoopback) {
				return usageError("--http: %v", err)
			}
			return err
		}
		w.httpAddr = ln.Addr().String()
		w.api = serve.New(serve.Config{Table: w.state, Meta: w.reportMeta, Sources: w.vrps.sources,
			Disagreements: w.vrps.set.Disagreements, Union: w.vrps.set.Len, Sessions: w.sessions.list, Skipped: w.routeSkipped, Logger: log, Now: opts.now})
		httpSrv = serve.NewHTTPServer(w.httpAddr, w.api)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("http server stopped", "err", err)
				cancel()
			}
		}()
	}
	log.Info("watch_started", "bgp", opts.listenIf(cfg.bgp != nil), "bmp", w.bmpAddr(), "http", w.httpAddr,
		"rtr", strings.Join(opts.rtr, ","), "vrp_files", strings.Join(opts.vrp.files, ","))
	// SIGHUP is caught before anyone can know we run: a SIGHUP arriving
	// between "ready" and the loop would otherwise kill the process.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	if ready != nil {
		ready(w)
	}
	err = w.loop(ctx, hup)
	// The last dump comes first: closing the collectors ends every session,
	// which (rightly) flushes the peers' paths from the table.
	if opts.dump != "" {
		if derr := w.writeDump(); derr != nil && err == nil {
			err = derr
		}
	}
	if httpSrv != nil {
		sctx, scancel := context.WithTimeout(context.Background(), opts.shutdownDeadline)
		httpSrv.Shutdown(sctx)
		scancel()
	}
	w.closeRoutes()
	cancel()
	log.Info("watch_stopped")
	return err
}

func (o watchOptions) listenIf(on bool) string {
	if on {
		return o.listen
	}
	return ""
}

// watcher is one running watch: the live table, its sources and outputs.
type watcher struct {
	opts     watchOptions
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

	prev *live.Snapshot
}

// startRoutes starts the BGP speaker and the BMP station.
func (w *watcher) startRoutes(ctx context.Context, cfg watchConfig, wg *sync.WaitGroup) error {
	if cfg.bgp != nil {
		cfg.bgp.Logger = w.log
		cfg.bgp.OnSession = w.sessions.handler("bgp")
		if !cfg.bgp.Listen.Addr().IsLoopback() && !w.opts.listenExplicit {
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
				w.log.Error("BMP station stopped", "err", err)
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
func (w *watcher) handler() collector.Handler {
	return w.state.Feed()
}

func (w *watcher) closeRoutes() {
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

func (w *watcher) bmpAddr() string {
	if w.bmp == nil {
		return ""
	}
	return w.bmp.Addr().String()
}

// HTTPAddr is the bound API address ("" without --http).
func (w *watcher) HTTPAddr() string { return w.httpAddr }

// routeSkipped returns the collectors' skip counters for /metrics.
func (w *watcher) routeSkipped() map[string]map[string]int64 {
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
func (w *watcher) reportMeta() reports.Meta {
	m := w.meta
	m.VRPs = w.vrps.summary()
	add := func(name string, st mrt.Stats) {
		m.Inputs = append(m.Inputs, reports.Input{Name: name, Records: st.Records, Routes: st.Routes, Skipped: st.Skipped})
	}
	if w.bgp != nil {
		add("bgp "+w.opts.listen, w.bgp.Stats())
	}
	if w.bmp != nil {
		add("bmp "+w.bmpAddr(), w.bmp.Stats())
	}
	m.Skipped = w.state.Stats().Skipped
	return m
}

// loop runs the periodic work until ctx is done: change logging, session
// and cache state, file polling and SIGHUP, summaries, dumps.
func (w *watcher) loop(ctx context.Context, hup <-chan os.Signal) error {
	tick := time.NewTicker(w.opts.interval)
	defer tick.Stop()
	var summary, poll, dump <-chan time.Time
	if w.opts.summaryInterval > 0 {
		t := time.NewTicker(w.opts.summaryInterval)
		defer t.Stop()
		summary = t.C
	}
	if w.opts.filePoll > 0 && len(w.opts.vrp.files) > 0 {
		t := time.NewTicker(w.opts.filePoll)
		defer t.Stop()
		poll = t.C
	}
	if w.opts.dump != "" {
		t := time.NewTicker(w.opts.dumpInterval)
		defer t.Stop()
		dump = t.C
	}
	for {
		select {
		case <-ctx.Done():
			w.logChanges()
			return nil
		case <-tick.C:
			w.vrps.pollClients()
			w.logChanges()
		case <-summary:
			w.logSummary()
		case <-poll:
			w.vrps.pollFiles(false)
		case <-hup:
			w.log.Info("SIGHUP: reloading VRP files")
			w.vrps.pollFiles(true)
		case <-dump:
			if err := w.writeDump(); err != nil {
				w.log.Error("dump failed", "err", err)
			}
		}
	}
}

// logChanges diffs the current snapshot with the previous one and logs
// each invalid route that appeared, disappeared or changed.
func (w *watcher) logChanges() {
	snap := w.state.Snapshot()
	if w.prev != nil && snap.Epoch == w.prev.Epoch {
		return
	}
	changes := live.Diff(w.prev, snap)
	w.prev = snap.DiffBase() // its invalid routes only: not a second table while loading
	logged := 0
	for _, c := range changes {
		if logged == w.opts.maxChangeLogs {
			w.log.Warn("invalid_changes_suppressed", "count", len(changes)-logged, "max_change_logs", w.opts.maxChangeLogs)
			break
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
		w.log.Info("invalid_"+c.Kind.String(), args...)
	}
}

// logSummary writes the periodic one-line summary.
func (w *watcher) logSummary() {
	st := w.state.Stats()
	snap := w.state.Snapshot()
	var valid, invalid, notFound, dropped, unreachable int
	a := snap.Analysis
	for id := range a.Table.Routes() {
		o := a.Outcomes[id]
		switch {
		case o.Unvalidated:
		case o.State == rov.Valid:
			valid++
		case o.State == rov.Invalid:
			invalid++
		default:
			notFound++
		}
		if o.Dropped {
			dropped++
			if a.Assess(id, nil).Impact == classify.Unreachable {
				unreachable++
			}
		}
	}
	up, total := w.sessions.count()
	w.log.Info("summary", "paths", st.Paths, "routes", st.Routes, "valid", valid, "invalid", invalid, "not_found", notFound,
		"dropped", dropped, "unreachable", unreachable, "vrps", st.VRPs, "sessions_up", up, "sessions", total,
		"caches_up", w.vrps.cachesUp(), "caches", len(w.opts.rtr), "epoch", snap.Epoch)
}
