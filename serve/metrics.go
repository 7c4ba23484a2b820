package serve

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/internal/buildinfo"
	"github.com/rovimpact/rovimpact/live"
	"github.com/rovimpact/rovimpact/route"
)

// metrics is the collector behind the rovimpact_* families listed in the
// package documentation. The route gauges come from the last report built
// (see the package documentation: a scrape never waits for a table load);
// counters and VRP source state are read at scrape time, from the table's
// Stats when its lock is free and else from those of the last build.
type metrics struct{ s *Server }

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

var (
	mRoutes       = desc("rovimpact_routes", "Routes (unique prefix and origin) by RFC 6811 validation state.", "state")
	mInvalids     = desc("rovimpact_invalids", "Invalid routes by class.", "class")
	mDropped      = desc("rovimpact_dropped", "Routes ROV drops, by impact.", "impact")
	mPeerRoutes   = desc("rovimpact_peer_routes", "Routes each peer carries, by validation state.", "peer_as", "peer_ip", "state")
	mPeerPaths    = desc("rovimpact_peer_paths", "Paths held per peer.", "peer_as", "peer_ip")
	mPaths        = desc("rovimpact_paths", "Paths held (peer, prefix, path id).")
	mVRPs         = desc("rovimpact_vrps", "VRPs per source.", "source")
	mVRPsUsed     = desc("rovimpact_vrps_effective", "VRPs in use: the union of the sources with SLURM applied.")
	mDisagree     = desc("rovimpact_vrp_disagreements", "VRPs some sources hold and others lack.")
	mRTRUp        = desc("rovimpact_rtr_up", "1 while the source is up (RTR session established, file read).", "source")
	mRTRSerial    = desc("rovimpact_rtr_serial", "Serial of the RTR source's last completed sync.", "source")
	mRTRAge       = desc("rovimpact_rtr_last_update_age_seconds", "Seconds since the source's last update (RTR End of Data, file load).", "source")
	mLastSync     = desc("rovimpact_vrp_source_last_sync_timestamp_seconds", "Unix time of the VRP source's last successful sync (RTR End of Data, file load).", "source")
	mExpired      = desc("rovimpact_vrp_source_expired", "1 while the source's data is dropped for being older than its Expire interval.", "source")
	mUnion        = desc("rovimpact_vrp_union", "VRPs in the union of the VRP sources, before SLURM.")
	mHealthy      = desc("rovimpact_healthy", "1 when /healthz answers 200 (VRP data, a non-empty union, unexpired sources, a route session up).")
	mRTRConnected = desc("rovimpact_rtr_connected", "1 while a TCP connection to the RTR cache is open, answering or not.", "source")
	mRTRTimeouts  = desc("rovimpact_rtr_timeouts_total", "RTR sessions dropped because the cache did not answer in time.", "source")
	mRTRResets    = desc("rovimpact_rtr_cache_resets_total", "Cache Reset PDUs received.", "source")
	mRTRErrors    = desc("rovimpact_rtr_protocol_errors_total", "RTR sessions dropped for a protocol error (ours or the cache's).", "source")
	mRTRExpired   = desc("rovimpact_rtr_expirations_total", "Times the source's data expired (RFC 8210 §6 Expire interval).", "source")
	mSessions     = desc("rovimpact_bgp_sessions", "Route sessions (BGP neighbours, BMP-monitored peers) by state.", "state")
	mLoading      = desc("rovimpact_sessions_loading", "Route sessions up whose initial table is still coming (no End-of-RIB yet): the route gauges hold part of their tables.")
	mRevalidated  = desc("rovimpact_revalidated_total", "Routes re-validated by VRP changes.")
	mIndexBuilds  = desc("rovimpact_index_builds_total", "VRP index rebuilds.")
	mMapped       = desc("rovimpact_table_mapped_bytes", "Bytes the live table's large arrays map outside the Go heap (in the RSS, not in go_memstats).")
	mMapFallbacks = desc("rovimpact_table_map_fallbacks_total", "Table arrays the kernel would not map or move, by what was done instead: heap (kept on the Go heap), copy (copied into a new mapping).", "kind")
	mEvents       = desc("rovimpact_events_total", "Route events applied, by kind.", "kind")
	mSkipped      = desc("rovimpact_skipped_total", "Route events not applied, by source and reason.", "source", "reason")
	mEpoch        = desc("rovimpact_snapshot_epoch", "Epoch of the snapshot the route gauges describe.")
	mBuildSeconds = desc("rovimpact_report_build_seconds", "Seconds the last report build took.")
	mBuildInfo    = desc("rovimpact_build_info", "Always 1; the labels say which build is running.", "version", "revision", "goversion")
)

func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{mRoutes, mInvalids, mDropped, mPeerRoutes, mPeerPaths, mPaths, mVRPs, mVRPsUsed,
		mDisagree, mRTRUp, mRTRSerial, mRTRAge, mSessions, mLoading, mRevalidated, mIndexBuilds, mMapped, mMapFallbacks, mEvents, mSkipped, mEpoch, mBuildSeconds,
		mLastSync, mExpired, mUnion, mHealthy, mRTRConnected, mRTRTimeouts, mRTRResets, mRTRErrors, mRTRExpired, mBuildInfo} {
		ch <- d
	}
	for _, d := range aspaDescs {
		ch <- d
	}
}

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func gauge(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

func counter(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
}

func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	bi := buildinfo.Get()
	gauge(ch, mBuildInfo, 1, bi.Version, bi.Revision, bi.GoVersion)
	s := m.s
	b := s.current()
	sum := b.report.Summary
	gauge(ch, mRoutes, float64(sum.Valid), "valid")
	gauge(ch, mRoutes, float64(sum.Invalid), "invalid")
	gauge(ch, mRoutes, float64(sum.NotFound), "not_found")
	gauge(ch, mRoutes, float64(sum.Unvalidated), "unvalidated")
	c := sum.Classes
	for _, kv := range []struct {
		k string
		v int
	}{{"too_specific", c.TooSpecific}, {"wrong_origin", c.WrongOrigin}, {"both", c.Both}, {"too_short", c.TooShort}, {"as_set", c.ASSet}} {
		gauge(ch, mInvalids, float64(kv.v), kv.k)
	}
	im := sum.Impact
	for _, kv := range []struct {
		k string
		v int
	}{{"same_prefix", im.SamePrefix}, {"covered", im.Covered}, {"more_specifics", im.MoreSpecifics}, {"unreachable", im.Unreachable}} {
		gauge(ch, mDropped, float64(kv.v), kv.k)
	}
	for _, p := range b.peers {
		as, ip := strconv.FormatUint(uint64(p.key.AS), 10), p.key.IP.String()
		for st, n := range p.states {
			gauge(ch, mPeerRoutes, float64(n), as, ip, classify.RouteState(st).String())
		}
	}
	gauge(ch, mEpoch, float64(b.epoch))
	collectASPA(ch, b, s.cfg.Table)
	gauge(ch, mBuildSeconds, b.duration.Seconds())

	st, ok := s.cfg.Table.TryStats()
	if !ok {
		st = b.stats // a change holds the table: its counts as of the last build
	}
	gauge(ch, mPaths, float64(st.Paths))
	gauge(ch, mVRPsUsed, float64(st.VRPs))
	for k, n := range st.PeerPaths {
		gauge(ch, mPeerPaths, float64(n), strconv.FormatUint(uint64(k.AS), 10), k.IP.String())
	}
	counter(ch, mRevalidated, float64(st.Revalidated))
	counter(ch, mIndexBuilds, float64(st.IndexBuilds))
	gauge(ch, mMapped, float64(st.MappedBytes))
	counter(ch, mMapFallbacks, float64(st.MapHeapFallbacks), "heap")
	counter(ch, mMapFallbacks, float64(st.MapGrowCopies), "copy")
	for _, k := range []string{"announce", "withdraw", "peer_down"} {
		counter(ch, mEvents, float64(st.Events[k]), k)
	}
	for k, n := range st.Events {
		if k != "announce" && k != "withdraw" && k != "peer_down" {
			counter(ch, mEvents, float64(n), k)
		}
	}
	for k, n := range st.Skipped {
		counter(ch, mSkipped, float64(n), "state", k)
	}
	if s.cfg.Skipped != nil {
		for src, reasons := range s.cfg.Skipped() {
			for k, n := range reasons {
				counter(ch, mSkipped, float64(n), src, k)
			}
		}
	}

	if s.cfg.Sources != nil {
		now := s.cfg.Now()
		for _, src := range s.cfg.Sources() {
			gauge(ch, mVRPs, float64(src.VRPs), src.Name)
			up := 0.0
			if src.Up {
				up = 1
			}
			gauge(ch, mRTRUp, up, src.Name)
			if src.HasSerial {
				gauge(ch, mRTRSerial, float64(src.Serial), src.Name)
			}
			if !src.LastUpdate.IsZero() {
				gauge(ch, mRTRAge, now.Sub(src.LastUpdate).Seconds(), src.Name)
				gauge(ch, mLastSync, float64(src.LastUpdate.UnixNano())/1e9, src.Name)
			}
			if src.Kind == "slurm" {
				continue
			}
			gauge(ch, mExpired, boolGauge(src.expired(s)), src.Name)
			if src.Kind == "rtr" {
				gauge(ch, mRTRConnected, boolGauge(src.Connected), src.Name)
				counter(ch, mRTRTimeouts, float64(src.Timeouts), src.Name)
				counter(ch, mRTRResets, float64(src.CacheResets), src.Name)
				counter(ch, mRTRErrors, float64(src.ProtocolErrors), src.Name)
				counter(ch, mRTRExpired, float64(src.Expirations), src.Name)
			}
		}
	}
	if s.cfg.Union != nil {
		gauge(ch, mUnion, float64(s.cfg.Union()))
	}
	h, _ := s.health()
	gauge(ch, mHealthy, boolGauge(h.Status == "ok"))
	if s.cfg.Disagreements != nil {
		gauge(ch, mDisagree, float64(len(s.cfg.Disagreements())))
	}
	if s.cfg.Sessions != nil {
		var up, down, loading int
		for _, ss := range s.cfg.Sessions() {
			if ss.Loading {
				loading++
			}
			if ss.Up {
				up++
			} else {
				down++
			}
		}
		gauge(ch, mSessions, float64(up), "up")
		gauge(ch, mSessions, float64(down), "down")
		gauge(ch, mLoading, float64(loading))
	}
}

// peerCounts is one peer's routes by state (indexed by classify.RouteState).
type peerCounts struct {
	key    route.PeerKey
	states [classify.StateUnvalidated + 1]int
	// v4, v6: routes per address family; dropped: routes ROV drops.
	v4, v6, dropped int
}

// countPeers counts, per peer, the routes it carries by state: one pass
// over the routes and their peer sets (O(paths)), once per epoch.
func countPeers(snap *live.Snapshot) []peerCounts {
	a := snap.Analysis
	peers := a.Table.Peers()
	out := make([]peerCounts, len(peers))
	for i, k := range peers {
		out[i].key = k
	}
	var buf []int
	for id := range a.Table.Routes() {
		o := a.Outcomes[id]
		st := o.RouteState()
		v6 := !a.Table.Routes()[id].Prefix.Addr().Is4()
		buf = a.Table.RoutePeers(id, buf[:0])
		for _, p := range buf {
			c := &out[p]
			c.states[st]++
			if v6 {
				c.v6++
			} else {
				c.v4++
			}
			if o.Dropped {
				c.dropped++
			}
		}
	}
	return out
}
