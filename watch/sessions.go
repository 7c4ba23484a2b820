package watch

import (
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/rovimpact/rovimpact/collector"
	"github.com/rovimpact/rovimpact/serve"
)

// sessions follows route sessions from the collectors' session events
// (collector.SessionEvent): a peer is up from the moment its session
// reaches Established (BGP) or its router sends Peer Up (BMP), whether or
// not it sends a route, and down from the moment it leaves Established, its
// router sends Peer Down, or the router's connection closes. Only these
// edges are logged (session_up, session_down) and counted in
// rovimpact_bgp_sessions.
type sessions struct {
	mu    sync.Mutex
	log   *slog.Logger
	peers map[sessionKey]*sessionState
	order []sessionKey
	// edges are the ups, downs and End-of-RIBs since the last drain, for
	// the change log's causes and summaries and for alerts.
	edges []sessionEdge
}

// sessionEdge is one session event as watch's loop takes it.
type sessionEdge struct {
	key     sessionKey
	up, eor bool
	reason  string
	at      time.Time
}

// name is how events name a session: "bgp 192.0.2.1 AS64501".
func (k sessionKey) name() string { return fmt.Sprintf("%s %s AS%d", k.source, k.ip, k.as) }

// sessionKey names a session as the API and the table name its peer: a
// peer AS and address, per source.
type sessionKey struct {
	source string
	ip     netip.Addr
	as     uint32
}

type sessionState struct {
	up bool
	// loading: a session up whose End-of-RIB has not come yet (see
	// Options.EORTimeout); since is when it came up.
	loading bool
	since   time.Time
}

func newSessions(log *slog.Logger) *sessions {
	return &sessions{log: log, peers: map[sessionKey]*sessionState{}}
}

func (s *sessions) get(k sessionKey) *sessionState {
	st := s.peers[k]
	if st == nil {
		st = &sessionState{}
		s.peers[k] = st
		s.order = append(s.order, k)
	}
	return st
}

// handler returns the collector.SessionHandler of source ("bgp", "bmp").
// It runs under the collector's lock, so it only updates the map and logs.
func (s *sessions) handler(source string) collector.SessionHandler {
	return func(e collector.SessionEvent) { s.event(source, e) }
}

// event applies one session event. A repeated edge (up while up, down
// while down) changes nothing and logs nothing.
func (s *sessions) event(source string, e collector.SessionEvent) {
	k := sessionKey{source, e.Peer.IP, e.Peer.AS}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.get(k)
	if e.EndOfRIB {
		if st.up && st.loading {
			st.loading = false
			s.edges = append(s.edges, sessionEdge{key: k, up: true, eor: true, at: e.Time})
		}
		return
	}
	if st.up == e.Up() {
		return
	}
	st.up = e.Up()
	// The initial table is told as one initial_load after the session's
	// End-of-RIB (or Options.EORTimeout).
	// since is this host's clock: a BMP Peer Up carries the router's
	// time the session came up, which may be long before we hear of it.
	st.loading, st.since = st.up, time.Now()
	s.edges = append(s.edges, sessionEdge{key: k, up: st.up, reason: e.Reason, at: e.Time})
	args := []any{"source", source, "peer_ip", e.Peer.IP, "peer_as", e.Peer.AS}
	if e.Router.IsValid() {
		args = append(args, "router", e.Router)
	}
	if st.up {
		s.log.Info("session_up", args...)
		return
	}
	args = append(args, "state", e.State.String())
	if e.Reason != "" {
		args = append(args, "reason", e.Reason)
	}
	s.log.Warn("session_down", args...)
}

func (s *sessions) list() []serve.Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]serve.Session, 0, len(s.order))
	for _, k := range s.order {
		st := s.peers[k]
		out = append(out, serve.Session{Source: k.source, AS: k.as, IP: k.ip, Up: st.up, Loading: st.up && st.loading})
	}
	slices.SortStableFunc(out, func(a, b serve.Session) int { return a.IP.Compare(b.IP) })
	return out
}

func (s *sessions) count() (up, total int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range s.peers {
		total++
		if st.up {
			up++
		}
	}
	return up, total
}

// loadState is a session still loading its initial table: since when,
// and its name (BGP or BMP).
type loadState struct {
	since time.Time
	key   sessionKey
}

// drain returns the edges since the last drain, and the sessions still
// loading their initial table.
func (s *sessions) drain() (edges []sessionEdge, loading map[peerID]loadState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	edges, s.edges = s.edges, nil
	loading = map[peerID]loadState{}
	for k, st := range s.peers {
		if st.up && st.loading {
			loading[peerID{k.ip, k.as}] = loadState{st.since, k}
		}
	}
	return edges, loading
}

// pending tells the loop whether its check can wait while a session
// loads (Service.checkDue): edges is whether a session down or an
// End-of-RIB waits to be told (a session up may wait: it starts a load),
// loading whether a session is still in its initial load, and
// deadline the earliest time a loading session's --eor-timeout ends
// (when its load_timeout is due).
func (s *sessions) pending(eorTimeout time.Duration) (edges, loading bool, deadline time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range s.peers {
		if st.up && st.loading {
			if d := st.since.Add(eorTimeout); !loading || d.Before(deadline) {
				deadline = d
			}
			loading = true
		}
	}
	for _, e := range s.edges {
		if !e.up || e.eor {
			edges = true
		}
	}
	return edges, loading, deadline
}

// endLoad ends a session's initial load without an End-of-RIB (a speaker
// that sends none, or takes too long).
func (s *sessions) endLoad(id peerID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, st := range s.peers {
		if k.ip == id.ip && k.as == id.as {
			st.loading = false
		}
	}
}
