// Package serve is the read-only HTTP face of `rovimpact watch`: Prometheus
// metrics and the same JSON documents `analyze` and `lookup` write, answered
// from the live table's latest snapshot.
//
// Endpoints (GET or HEAD only; anything else is 405):
//
//	/metrics          Prometheus text format (the families below)
//	/healthz          200 {"status":"ok", ...} when ROV has data and routes to judge;
//	                  503 {"status":"unhealthy","reasons":[...]} otherwise (see Health)
//	/api/report       the whole analyze JSON (reports.Report)
//	/api/summary      {"summary": ..., "loading": bool, "sessions_loading": N}: the analyze JSON's
//	                  summary object; loading while a session's initial table is still coming
//	                  (the summary then holds part of it, not a final answer)
//	/api/invalids     {"invalids": [...], "next_cursor": ..., "limit": N}: the analyze JSON's
//	                  invalid routes, optionally filtered: ?class=too_specific&impact=unreachable&origin=AS64500&dropped=true
//	/api/lookup?q=Q   {"answers": [...], "next_cursor": ..., "limit": N}: the lookup JSON for one or
//	                  more q (prefix, address or AS), &origin=AS as lookup --origin; 400 with
//	                  {"error": ...} on a bad query
//	/api/caches       every VRP source (RTR caches, files) with its status, and
//	                  the VRPs the sources disagree on
//
// /api/invalids and /api/lookup answer in pages (see page.go): ?limit=N
// items a page (default DefaultPageLimit, at most MaxPageLimit), and the
// next page with ?cursor= the previous page's next_cursor (null on the
// last page) and the same other parameters. They stream their JSON and
// gzip it when the request's Accept-Encoding allows, so a request costs
// its page, not the table. A bad limit or cursor is a 400 with
// {"error": ...}; a lookup cursor whose snapshot is gone, a 409.
//
// Metrics, besides the process_* and go_* families of the Go client.
// Route counts are routes (unique prefix and origin) as analyze counts
// them, read from the report of the current snapshot; paths are (peer,
// prefix, path id).
//
//	rovimpact_routes{state}                       gauge: routes by RFC 6811 state: valid, invalid, not_found, unvalidated (local origin, no --local-as)
//	rovimpact_invalids{class}                     gauge: invalid routes by class: too_specific, wrong_origin, both, too_short, as_set
//	rovimpact_dropped{impact}                     gauge: routes ROV drops by impact: same_prefix, covered, more_specifics, unreachable
//	rovimpact_peer_routes{peer_as,peer_ip,state}  gauge: routes each peer carries, by state
//	rovimpact_peer_paths{peer_as,peer_ip}         gauge: paths held per peer (0 after its session went down)
//	rovimpact_paths                               gauge: paths held
//	rovimpact_vrps{source}                        gauge: VRPs per source (RTR cache, file:PATH, slurm)
//	rovimpact_vrps_effective                      gauge: VRPs in use (the union of the sources, SLURM applied)
//	rovimpact_vrp_disagreements                   gauge: VRPs some sources hold and others lack
//	rovimpact_vrp_union                           gauge: VRPs in the union of the sources (before SLURM)
//	rovimpact_vrp_source_last_sync_timestamp_seconds{source} gauge: Unix time of the source's last successful sync (absent before one)
//	rovimpact_vrp_source_expired{source}          gauge: 1 while the source's data is dropped for being older than its Expire interval
//	rovimpact_healthy                             gauge: 1 when /healthz answers 200
//	rovimpact_rtr_up{source}                      gauge: 1 while the RTR session is established (synced on this connection, no query overdue; file: read)
//	rovimpact_rtr_connected{source}               gauge: 1 while a TCP connection to the cache is open
//	rovimpact_rtr_timeouts_total{source}          counter: sessions dropped because the cache did not answer in time
//	rovimpact_rtr_cache_resets_total{source}      counter: Cache Reset PDUs received
//	rovimpact_rtr_protocol_errors_total{source}   counter: sessions dropped for a protocol error
//	rovimpact_rtr_expirations_total{source}       counter: times the source's data expired
//	rovimpact_rtr_serial{source}                  gauge: serial of the last completed sync (absent before one)
//	rovimpact_rtr_last_update_age_seconds{source} gauge: seconds since the source's last End of Data (file: last load)
//	rovimpact_bgp_sessions{state}                 gauge: route sessions (BGP and BMP peers) by state: up, down
//	rovimpact_sessions_loading                    gauge: sessions up still loading their initial table (the route gauges are partial while > 0)
//	rovimpact_revalidated_total                   counter: routes re-validated by VRP changes
//	rovimpact_index_builds_total                  counter: VRP index rebuilds
//	rovimpact_table_mapped_bytes                  gauge: bytes the live table maps outside the Go heap (in the RSS, not in go_memstats)
//	rovimpact_table_map_fallbacks_total{kind}     counter: table arrays the kernel would not map (heap) or move (copy)
//	rovimpact_events_total{kind}                  counter: route events applied: announce, withdraw, peer_down
//	rovimpact_skipped_total{source,reason}        counter: events not applied, by where (state, bgp, bmp) and why
//	rovimpact_snapshot_epoch                      gauge: epoch of the snapshot the route gauges describe
//	rovimpact_report_build_seconds                gauge: time the last report build took
//
// A report of a full table takes real time to build (about a second of CPU,
// many more while a table loads on a busy machine), so /metrics,
// /api/summary, /api/report, /api/invalids and /healthz answer from the
// last report built: one build at a time runs in the background, started
// by a request that finds the table changed since the last one, and
// shared by every request and scrape of its epoch. A request waits for
// that build at most Config.MaxWait (the first request, with nothing
// built yet, waits for it), so a scrape is never held up by a table load
// or a VRP change in progress; X-Rovimpact-Epoch and
// rovimpact_snapshot_epoch say which epoch answered. While builds are
// slow (a table loading), a new one starts no sooner after the last one
// ended than that one took, so building reports takes at most about half
// of a core.
package serve

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/internal/buildinfo"
	"github.com/rovimpact/rovimpact/live"
	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rtr"
)

// Table is what the API reads from the live table; *live.State implements
// it.
type Table interface {
	Snapshot() *live.Snapshot
	Stats() live.Stats
	// Epoch is the epoch a snapshot built now would have; it must not
	// wait for a change in progress.
	Epoch() uint64
	// TryStats is Stats when it can be had without waiting.
	TryStats() (live.Stats, bool)
}

// VRPSource describes one VRP source for /api/caches and the rtr metrics.
type VRPSource struct {
	Name string `json:"name"`
	// Kind is "rtr" (an RPKI-RTR cache), "file" (a --vrps file) or "slurm"
	// (SLURM assertions).
	Kind string `json:"kind"`
	Addr string `json:"addr,omitempty"`
	// Up: an RTR session is established (synced on the current
	// connection, no query overdue), or the file was read.
	Up bool `json:"up"`
	// Connected: a TCP connection to the cache is open (RTR), even if it
	// has not answered.
	Connected  bool      `json:"connected"`
	VRPs       int       `json:"vrps"`
	ASPAs      int       `json:"aspas"`
	HasSerial  bool      `json:"has_serial"`
	Serial     uint32    `json:"serial"`
	SessionID  uint16    `json:"session_id"`
	Version    uint8     `json:"version"`
	LastUpdate time.Time `json:"last_update"` // last successful sync (End of Data, file load); zero: never
	// Expire is how long the data stays usable after LastUpdate (RTR:
	// the cache's Expire interval); zero: it does not expire (files).
	Expire time.Duration `json:"expire_ns,omitempty"`
	// Expired: the data was dropped for being older than Expire.
	Expired   bool   `json:"expired"`
	LastError string `json:"last_error,omitempty"`

	// RTR session counters.
	Timeouts       int `json:"timeouts"`
	CacheResets    int `json:"cache_resets"`
	ProtocolErrors int `json:"protocol_errors"`
	Expirations    int `json:"expirations"`
}

// FromRTR turns a Client's status into a VRPSource.
func FromRTR(st rtr.Status) VRPSource {
	return VRPSource{Name: st.Source, Kind: "rtr", Addr: st.Addr, Up: st.Established, Connected: st.Connected,
		VRPs: st.VRPs, ASPAs: st.ASPAs, HasSerial: st.HasSession, Serial: st.Serial, SessionID: st.SessionID,
		Version: st.Version, LastUpdate: st.LastUpdate, Expire: st.Expire, Expired: st.Expired, LastError: st.LastError,
		Timeouts: st.Timeouts, CacheResets: st.CacheResets, ProtocolErrors: st.ProtocolErrors, Expirations: st.Expirations}
}

// Session is one route session (a BGP neighbour, or a peer a BMP router
// monitors).
type Session struct {
	Source string     `json:"source"` // "bgp" or "bmp"
	AS     uint32     `json:"peer_as"`
	IP     netip.Addr `json:"peer_ip"`
	Up     bool       `json:"up"`
	// Loading: the session is up and its initial table is still coming
	// (no End-of-RIB yet, --eor-timeout not reached): answers built now
	// hold part of it.
	Loading bool `json:"loading"`
}

// Config wires a Server to the rest of watch. Table is required; the
// functions may be nil.
type Config struct {
	Table Table
	// Meta returns what the report cannot know from the analysis (policy,
	// VRP summary, inputs, skipped events); called once per report build.
	Meta func() reports.Meta
	// Sources lists the VRP sources; Disagreements the VRPs the sources
	// disagree on (rtr.Set.Disagreements).
	Sources       func() []VRPSource
	Disagreements func() []rtr.Disagreement
	// Union counts the VRPs in the union of the sources (rtr.Set.Len),
	// before SLURM; the table's VRP count stands in when nil.
	Union func() int
	// Sessions lists the route sessions and their state.
	Sessions func() []Session
	// Skipped returns the route sources' skip counters by source ("bgp",
	// "bmp") and reason.
	Skipped func() map[string]map[string]int64
	Logger  *slog.Logger
	// Now is the clock for ages; time.Now when nil.
	Now func() time.Time
	// MaxWait is how long a request waits for the report of a newer
	// epoch before it answers from the last one built (0: DefaultMaxWait;
	// negative: it always waits, as tests that change the table and read
	// it back at once need).
	MaxWait time.Duration
	// AfterBuild, if set, is called after each build that made a new
	// report, once the requests waiting for it have it (watch hands the
	// build's garbage back to the kernel: a full table's snapshot and
	// report are a ~150 MB transient, which the runtime otherwise
	// returns only slowly).
	AfterBuild func()
}

// DefaultMaxWait is Config.MaxWait's default: room within the ~50 ms an
// answer may take whatever is loading (writing /metrics itself takes a few
// ms, more on a busy machine), while a small table's new report, built in
// about a millisecond, is still awaited.
const DefaultMaxWait = 10 * time.Millisecond

// Server answers the endpoints; it is an http.Handler.
type Server struct {
	cfg Config
	mux *http.ServeMux
	reg *prometheus.Registry
	log *slog.Logger

	cached atomic.Pointer[built] // the last report built
	// seen is the last Stats TryStats gave: what /healthz answers with
	// while a change holds the table's lock and no report is built yet.
	seen   atomic.Pointer[live.Stats]
	builds atomic.Int64

	bmu      sync.Mutex    // guards inflight, lastEnd, lastTook
	inflight chan struct{} // closed when the build in flight ends; nil: none
	lastEnd  time.Time     // when the last build ended
	lastTook time.Duration // how long it took

	pages  pager  // the snapshot lookup cursors page through
	recent holder // the snapshot of the last lookups (lookupSnapshot)
}

// built is everything derived from one snapshot, and the table's Stats
// taken with it (what a scrape reports when the table is too busy to give
// fresh ones). It keeps the snapshot's epoch and time, not the snapshot:
// a full table's snapshot is about 110 bytes a path, twice what its
// report and counts take, and nothing here reads it again once they are
// built (lookups take a snapshot of their own, see lookupSnapshot).
type built struct {
	epoch    uint64    // the snapshot's Epoch
	at       time.Time // and its Built
	report   reports.Report
	peers    []peerCounts
	aspa     *ASPASummary // aspa.go; nil while the table verifies no path
	duration time.Duration
	stats    live.Stats
}

// New returns a Server for cfg, with its own Prometheus registry (the
// process and Go runtime collectors plus Metrics).
func New(cfg Config) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxWait == 0 {
		cfg.MaxWait = DefaultMaxWait
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux(), reg: prometheus.NewRegistry(), log: cfg.Logger}
	s.reg.MustRegister(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.reg.MustRegister(collectors.NewGoCollector())
	s.reg.MustRegister(&metrics{s: s})
	s.mux.Handle("/metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{ErrorLog: slogPrinter{s.log}}))
	s.mux.HandleFunc("/healthz", s.healthz)
	s.mux.HandleFunc("/api/report", s.apiReport)
	s.mux.HandleFunc("/api/summary", s.apiSummary)
	s.mux.HandleFunc("/api/invalids", s.apiInvalids)
	s.mux.HandleFunc("/api/lookup", s.apiLookup)
	s.mux.HandleFunc("/api/caches", s.apiCaches)
	s.mux.HandleFunc("/api/peers", s.apiPeers)
	return s
}

type slogPrinter struct{ l *slog.Logger }

func (p slogPrinter) Println(v ...any) { p.l.Error("metrics", "err", fmt.Sprint(v...)) }

// Registry is the Server's Prometheus registry, for tests and for adding
// collectors.
func (s *Server) Registry() *prometheus.Registry { return s.reg }

// ServeHTTP implements http.Handler: read-only, so only GET and HEAD.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, fmt.Errorf("method %s not allowed: the API is read-only", r.Method))
		return
	}
	s.mux.ServeHTTP(w, r)
}

// Report returns the report of the table as it is now (waiting for the
// build if need be, whatever MaxWait says), and the epoch of the snapshot
// it describes.
func (s *Server) Report() (reports.Report, uint64) {
	want := s.cfg.Table.Epoch()
	b := s.get(-1)
	// A build already in flight may have taken its snapshot before the
	// call; the next one cannot have.
	for range 2 {
		if b.epoch >= want {
			break
		}
		b = s.get(-1)
	}
	return b.report, b.epoch
}

// current returns what was built for the table's current epoch, if it is
// built or gets built within MaxWait, and otherwise the last thing built.
func (s *Server) current() *built { return s.get(s.cfg.MaxWait) }

// get is current with wait as MaxWait. With nothing built yet it waits
// for the first build whatever wait says.
func (s *Server) get(wait time.Duration) *built {
	b := s.cached.Load()
	if b != nil && b.epoch == s.cfg.Table.Epoch() {
		return b
	}
	done := s.kick(b == nil || wait < 0)
	if b == nil || wait < 0 {
		<-done
		return s.cached.Load()
	}
	if done == nil {
		return b // builds are throttled (see kick)
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-done:
		return s.cached.Load()
	case <-t.C:
		return b
	}
}

// kick starts a build unless one is in flight, and returns the channel
// closed when the build in flight ends. Unless force is set, a build does
// not start sooner after the last one ended than that one took (nil is
// returned then): slow builds, which happen while a full table loads,
// take at most about half of the time.
func (s *Server) kick(force bool) <-chan struct{} {
	s.bmu.Lock()
	defer s.bmu.Unlock()
	if s.inflight != nil {
		return s.inflight
	}
	if !force && time.Since(s.lastEnd) < s.lastTook {
		return nil
	}
	ch := make(chan struct{})
	s.inflight = ch
	go func() {
		start := time.Now()
		made := s.build()
		s.bmu.Lock()
		s.inflight, s.lastEnd, s.lastTook = nil, time.Now(), time.Since(start)
		s.bmu.Unlock()
		close(ch)
		if made && s.cfg.AfterBuild != nil {
			s.cfg.AfterBuild()
		}
	}()
	return ch
}

// build builds the report of the table's current snapshot (unless the
// last build was of the same epoch) and takes its Stats; it reports
// whether it made a new report.
func (s *Server) build() bool {
	start := time.Now()
	if prev := s.cached.Load(); prev != nil && prev.epoch == s.cfg.Table.Epoch() {
		return false
	}
	snap := s.cfg.Table.Snapshot()
	if prev := s.cached.Load(); prev != nil && prev.epoch == snap.Epoch {
		return false
	}
	var meta reports.Meta
	if s.cfg.Meta != nil {
		meta = s.cfg.Meta()
	}
	if meta.Generated.Tool == "" {
		meta.Generated = reports.GenerationOf(buildinfo.Get(), start)
	}
	b := &built{epoch: snap.Epoch, at: snap.Built, report: reports.Build(snap.Analysis, meta), peers: countPeers(snap), aspa: aspaSummary(snap)}
	b.duration = time.Since(start)
	b.stats = s.cfg.Table.Stats()
	s.builds.Add(1)
	s.cached.Store(b)
	return true
}

// stats returns the table's Stats now if they can be had without waiting,
// else those taken with the last report built.
func (s *Server) stats() live.Stats {
	if st, ok := s.cfg.Table.TryStats(); ok {
		s.seen.Store(&st)
		return st
	}
	b, seen := s.cached.Load(), s.seen.Load()
	switch {
	case b != nil && (seen == nil || b.stats.Epoch >= seen.Epoch):
		return b.stats
	case seen != nil:
		return *seen
	}
	// Nothing seen yet: wait for the lock. Building a report here, as
	// before, made a health probe during a table's load wait for a whole
	// snapshot of it (and cost its CPU and memory).
	return s.cfg.Table.Stats()
}

// NewHTTPServer returns an http.Server for h with timeouts: a slow or
// stalled client cannot hold a connection (or a goroutine) forever.
// WriteTimeout leaves room for a full table's /api/report.
func NewHTTPServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

// Listen binds addr, refusing an address that is not loopback unless
// public is true: the API exposes the whole table and is meant for a local
// scraper or a reverse proxy.
func Listen(addr string, public bool) (net.Listener, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return nil, fmt.Errorf("serve: --http %q: want ADDR:PORT with an IP address (127.0.0.1:8323): %w", addr, err)
	}
	if !ap.Addr().IsLoopback() && !public {
		return nil, fmt.Errorf("serve: --http %s is not a loopback address: %w", addr, ErrNotLoopback)
	}
	ln, err := net.Listen("tcp", ap.String())
	if err != nil {
		return nil, fmt.Errorf("serve: listen %s: %w", addr, err)
	}
	return ln, nil
}

// ErrNotLoopback is wrapped by Listen's error for a non-loopback address
// without the explicit permission.
var ErrNotLoopback = errors.New("binding beyond loopback needs explicit permission")

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // the client went away; nothing to tell it
}

func writeError(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, map[string]string{"error": err.Error()})
}

// stamp sets the headers that say which snapshot answered: its epoch and
// when it was built.
func stamp(w http.ResponseWriter, epoch uint64, at time.Time) {
	w.Header().Set("X-Rovimpact-Epoch", strconv.FormatUint(epoch, 10))
	if !at.IsZero() {
		w.Header().Set("Last-Modified", at.UTC().Format(http.TimeFormat))
	}
}

func (s *Server) apiReport(w http.ResponseWriter, _ *http.Request) {
	b := s.current()
	stamp(w, b.epoch, b.at)
	writeJSON(w, http.StatusOK, b.report)
}

func (s *Server) apiSummary(w http.ResponseWriter, _ *http.Request) {
	b := s.current()
	stamp(w, b.epoch, b.at)
	// The analyze summary's fields, and "aspa" (aspa.go).
	type summary struct {
		reports.Summary
		ASPA *ASPASummary `json:"aspa"`
	}
	n := s.sessionsLoading()
	writeJSON(w, http.StatusOK, struct {
		Summary         summary `json:"summary"`
		Loading         bool    `json:"loading"`
		SessionsLoading int     `json:"sessions_loading"`
	}{summary{b.report.Summary, b.aspa}, n > 0, n})
}

// sessionsLoading counts the route sessions still loading their initial
// table (Session.Loading): while there are any, answers hold part of it.
func (s *Server) sessionsLoading() int {
	n := 0
	if s.cfg.Sessions != nil {
		for _, ss := range s.cfg.Sessions() {
			if ss.Loading {
				n++
			}
		}
	}
	return n
}

// invalidFilter selects rows of /api/invalids.
type invalidFilter struct {
	class   classify.Class  // None: any
	impact  classify.Impact // ImpactNone: any
	origin  *int64          // -1: origin NONE (AS_SET)
	dropped *bool
}

func parseInvalidFilter(q map[string][]string) (invalidFilter, error) {
	var f invalidFilter
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	if c := get("class"); c != "" {
		var err error
		if f.class, err = classify.ParseClass(c); err != nil {
			return f, fmt.Errorf("class %q: want one of too_specific, wrong_origin, both, too_short, as_set", c)
		}
	}
	if im := get("impact"); im != "" {
		var err error
		if f.impact, err = classify.ParseImpact(im); err != nil {
			return f, fmt.Errorf("impact %q: want one of same_prefix, covered, more_specifics, unreachable", im)
		}
	}
	if o := get("origin"); o != "" {
		var v int64 = -1
		if !strings.EqualFold(o, "none") {
			n, err := strconv.ParseUint(strings.TrimPrefix(strings.ToUpper(o), "AS"), 10, 32)
			if err != nil {
				return f, fmt.Errorf("origin %q: want an AS (AS64500 or 64500) or none (AS_SET routes)", o)
			}
			v = int64(n)
		}
		f.origin = &v
	}
	if d := get("dropped"); d != "" {
		b, err := strconv.ParseBool(d)
		if err != nil {
			return f, fmt.Errorf("dropped %q: want true or false", d)
		}
		f.dropped = &b
	}
	return f, nil
}

func (f invalidFilter) match(inv *reports.Invalid) bool {
	if f.class != classify.None && inv.Class != f.class {
		return false
	}
	if f.impact != classify.ImpactNone && inv.Impact != f.impact {
		return false
	}
	if f.origin != nil {
		if inv.Origin == nil {
			if *f.origin != -1 {
				return false
			}
		} else if int64(*inv.Origin) != *f.origin {
			return false
		}
	}
	if f.dropped != nil && inv.Dropped != *f.dropped {
		return false
	}
	return true
}

// Caches is the /api/caches document.
type Caches struct {
	Sources []VRPSource `json:"sources"`
	// Disagreements counts the VRPs some sources hold and others lack;
	// Sample lists the first of them (at most 100).
	Disagreements int                `json:"disagreements"`
	Sample        []DisagreementJSON `json:"disagreements_sample"`
}

// DisagreementJSON is one rtr.Disagreement in JSON.
type DisagreementJSON struct {
	VRP     reports.VRPRef `json:"vrp"`
	In      []string       `json:"in"`
	Missing []string       `json:"missing"`
}

func (s *Server) apiCaches(w http.ResponseWriter, _ *http.Request) {
	c := Caches{Sources: []VRPSource{}, Sample: []DisagreementJSON{}}
	if s.cfg.Sources != nil {
		c.Sources = append(c.Sources, s.cfg.Sources()...)
	}
	if s.cfg.Disagreements != nil {
		ds := s.cfg.Disagreements()
		c.Disagreements = len(ds)
		for _, d := range ds[:min(len(ds), 100)] {
			c.Sample = append(c.Sample, DisagreementJSON{VRP: reports.VRPRef{Prefix: d.VRP.Prefix, MaxLength: d.VRP.MaxLen, ASN: d.VRP.ASN}, In: d.In, Missing: d.Missing})
		}
	}
	writeJSON(w, http.StatusOK, c)
}

// Peer is one row of /api/peers: a route session and what its peer
// carries in the current snapshot. A session over BGP and one over BMP to
// the same neighbour are two rows with the same route counts (the table
// names a peer by AS and address, as analyze does); a peer that holds
// routes but has no session listed has an empty source.
type Peer struct {
	Source      string     `json:"source"`
	AS          uint32     `json:"peer_as"`
	IP          netip.Addr `json:"peer_ip"`
	Up          bool       `json:"up"`
	Paths       int64      `json:"paths"`
	IPv4        int        `json:"routes_ipv4"`
	IPv6        int        `json:"routes_ipv6"`
	Valid       int        `json:"valid"`
	Invalid     int        `json:"invalid"`
	NotFound    int        `json:"not_found"`
	Unvalidated int        `json:"unvalidated_local_origin"`
	Dropped     int        `json:"dropped"`
}

// Peers is the /api/peers document.
type Peers struct {
	Epoch uint64 `json:"epoch"`
	Peers []Peer `json:"peers"`
}

// apiPeers lists the sessions and, per peer, its paths, routes per
// family, routes by validation state and routes ROV drops.
func (s *Server) apiPeers(w http.ResponseWriter, _ *http.Request) {
	b := s.current()
	stamp(w, b.epoch, b.at)
	paths := s.cfg.Table.Stats().PeerPaths
	counts := map[route.PeerKey]peerCounts{}
	for _, c := range b.peers {
		counts[c.key] = c
	}
	row := func(source string, k route.PeerKey, up bool) Peer {
		c := counts[k]
		return Peer{Source: source, AS: k.AS, IP: k.IP, Up: up, Paths: paths[k], IPv4: c.v4, IPv6: c.v6,
			Valid: c.states[classify.StateValid], Invalid: c.states[classify.StateInvalid], NotFound: c.states[classify.StateNotFound],
			Unvalidated: c.states[classify.StateUnvalidated], Dropped: c.dropped}
	}
	doc := Peers{Epoch: b.epoch, Peers: []Peer{}}
	listed := map[route.PeerKey]bool{}
	if s.cfg.Sessions != nil {
		for _, ss := range s.cfg.Sessions() {
			k := route.PeerKey{AS: ss.AS, IP: ss.IP}
			doc.Peers = append(doc.Peers, row(ss.Source, k, ss.Up))
			listed[k] = true
		}
	}
	for _, c := range b.peers {
		if !listed[c.key] {
			doc.Peers = append(doc.Peers, row("", c.key, false))
		}
	}
	writeJSON(w, http.StatusOK, doc)
}
