package serve

import (
	"fmt"
	"net/http"
)

// Health is the /healthz document. Status is "ok" (HTTP 200) or
// "unhealthy" (HTTP 503), and Reasons says why, one sentence per failed
// check:
//
//   - no VRP source has delivered data yet (no End of Data, no file read);
//   - the union of the VRP sources is empty (every route would be
//     not_found: ROV would judge nothing);
//   - every source that delivered data is past its Expire interval;
//   - no route session is up (a BGP neighbour or BMP-monitored peer), when
//     route sessions are wired (Config.Sessions); a Server without route
//     sources (Sessions nil) skips this check: it serves VRPs only.
//
// A load balancer or monitor can therefore trust a 200: the answers are
// computed from live VRPs and live routes. Loading and SessionsLoading say
// whether some session's initial table is still coming (no End-of-RIB
// yet): the process is healthy, but the counts are not final yet.
type Health struct {
	Status     string   `json:"status"`
	Reasons    []string `json:"reasons,omitempty"`
	Epoch      uint64   `json:"epoch"`
	VRPsLoaded bool     `json:"vrps_loaded"`
	VRPs       int      `json:"vrps"`       // in use: the union with SLURM applied
	UnionVRPs  int      `json:"union_vrps"` // the union of the sources, before SLURM
	SessionsUp int      `json:"sessions_up"`
	Sessions   int      `json:"sessions"`
	// Loading: SessionsLoading > 0, sessions up still loading their
	// initial table (Session.Loading).
	Loading         bool `json:"loading"`
	SessionsLoading int  `json:"sessions_loading"`
	SourcesUp       int  `json:"vrp_sources_up"`
	Sources         int  `json:"vrp_sources"`
	// SourcesSynced counts the sources that delivered data at least once;
	// SourcesExpired those whose data is past its Expire interval.
	SourcesSynced  int   `json:"vrp_sources_synced"`
	SourcesExpired int   `json:"vrp_sources_expired"`
	Paths          int64 `json:"paths"`
	Routes         int64 `json:"routes"`
}

// expired reports whether src's data is past its Expire interval: the
// source dropped it, or its last sync is older than Expire at now (a
// client that has not got round to dropping it yet).
func (src *VRPSource) expired(s *Server) bool {
	if src.Expired {
		return true
	}
	return src.Expire > 0 && !src.LastUpdate.IsZero() && !s.cfg.Now().Before(src.LastUpdate.Add(src.Expire))
}

// health runs the checks of Health and returns the document and its
// HTTP status.
func (s *Server) health() (Health, int) {
	st := s.stats()
	h := Health{Status: "ok", Epoch: st.Epoch, VRPs: st.VRPs, VRPsLoaded: st.VRPs > 0, Paths: st.Paths, Routes: st.Routes}
	h.UnionVRPs = st.VRPs
	if s.cfg.Union != nil {
		h.UnionVRPs = s.cfg.Union()
	}
	var sources int // VRP sources proper: SLURM assertions are not a source of RPKI data
	if s.cfg.Sources != nil {
		for _, src := range s.cfg.Sources() {
			h.Sources++
			if src.Up {
				h.SourcesUp++
			}
			if src.Kind == "slurm" {
				continue
			}
			sources++
			if !src.LastUpdate.IsZero() {
				h.SourcesSynced++
				if src.expired(s) {
					h.SourcesExpired++
				}
			}
		}
	}
	routeSources := s.cfg.Sessions != nil
	if routeSources {
		for _, ss := range s.cfg.Sessions() {
			h.Sessions++
			if ss.Up {
				h.SessionsUp++
			}
			if ss.Loading {
				h.SessionsLoading++
			}
		}
	}
	h.Loading = h.SessionsLoading > 0
	if sources > 0 && h.SourcesSynced == 0 {
		h.Reasons = append(h.Reasons, fmt.Sprintf("no VRP source has delivered data yet (%d configured)", sources))
	}
	if h.UnionVRPs == 0 {
		h.Reasons = append(h.Reasons, "the VRP union is empty: every route would be not_found")
	}
	if h.SourcesSynced > 0 && h.SourcesExpired == h.SourcesSynced {
		h.Reasons = append(h.Reasons, fmt.Sprintf("every VRP source is past its expire interval (%d)", h.SourcesExpired))
	}
	if routeSources && h.SessionsUp == 0 {
		h.Reasons = append(h.Reasons, fmt.Sprintf("no route session is up (%d known)", h.Sessions))
	}
	if len(h.Reasons) > 0 {
		h.Status = "unhealthy"
		return h, http.StatusServiceUnavailable
	}
	return h, http.StatusOK
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	h, code := s.health()
	writeJSON(w, code, h)
}
