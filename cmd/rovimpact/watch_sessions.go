package main

import (
	"log/slog"
	"net/netip"
	"slices"
	"sync"

	"github.com/rovimpact/rovimpact/mrt"
	"github.com/rovimpact/rovimpact/serve"
)

// sessions follows route sessions from the events the collectors deliver:
// a peer is up from its first announcement (or from appearing in the BGP
// collector's peer list, which it joins on reaching Established) and down
// from its PeerDown (BGP leaving Established, a BMP Peer Down or the router
// connection closing). The collectors have no session callback, so a
// session that comes back without sending a route is seen up only once its
// first route arrives.
type sessions struct {
	mu    sync.Mutex
	log   *slog.Logger
	peers map[sessionKey]*sessionState
	order []sessionKey
}

type sessionKey struct {
	source string
	ip     netip.Addr
	as     uint32
}

type sessionState struct {
	up bool
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

// event follows one route event; it runs inside the collector's handler.
func (s *sessions) event(source string, r *mrt.Route) {
	k := sessionKey{source, r.Peer.IP, r.Peer.AS}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.get(k)
	switch r.Kind {
	case mrt.PeerDown:
		if st.up {
			st.up = false
			s.log.Warn("session_down", "source", source, "peer_ip", r.Peer.IP, "peer_as", r.Peer.AS)
		}
	case mrt.Announce:
		if !st.up {
			st.up = true
			s.log.Info("session_up", "source", source, "peer_ip", r.Peer.IP, "peer_as", r.Peer.AS)
		}
	}
}

// seen notes the peers a collector lists: a new one is up.
func (s *sessions) seen(source string, peers []mrt.Peer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range peers {
		k := sessionKey{source, p.IP, p.AS}
		if _, ok := s.peers[k]; ok || p.AS == 0 {
			continue
		}
		s.get(k).up = true
		s.log.Info("session_up", "source", source, "peer_ip", p.IP, "peer_as", p.AS)
	}
}

func (s *sessions) list() []serve.Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]serve.Session, 0, len(s.order))
	for _, k := range s.order {
		out = append(out, serve.Session{Source: k.source, AS: k.as, IP: k.ip, Up: s.peers[k].up})
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
