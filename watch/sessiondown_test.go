package watch

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/rovimpact/rovimpact/alert"
	"github.com/rovimpact/rovimpact/collector"
	"github.com/rovimpact/rovimpact/internal/testutil"
	"github.com/rovimpact/rovimpact/internal/testutil/watchfix"
	"github.com/rovimpact/rovimpact/route"
)

// captured records what a receiver is sent.
type captured struct {
	mu  sync.Mutex
	evs []alert.Event
}

func (c *captured) Send(_ context.Context, m alert.Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.evs = append(c.evs, m.Events...)
	return nil
}

// TestSessionDownLateFlush: a collector tells a session's end, then
// flushes its routes; a check that falls between the two sees the edge
// without the flush. The session_down event still counts every invalid
// the session took (told one check later), once, with one summary line.
func TestSessionDownLateFlush(t *testing.T) {
	var buf testutil.SyncBuffer
	log := NewLogger(&buf, true)
	st := newLiveForTest(watchfix.VRPs0)
	var got captured
	n := alert.New([]alert.Receiver{{Name: "cap", Sender: &got}}, alert.Options{Log: log})
	w := &Service{opts: Options{MaxChangeLogs: 100, EORTimeout: DefaultEORTimeout}, log: log, state: st, sessions: newSessions(log), alerts: n}
	peer := route.Peer{AS: 64496, IP: netip.MustParseAddr("192.0.2.5")}
	on := w.sessions.handler("bgp")
	on(collector.SessionEvent{Peer: peer, State: collector.SessionEstablished})
	announce(t, st, route.PeerKey{AS: peer.AS, IP: peer.IP}, watchfix.WrongOrigin, watchfix.Both, watchfix.Valid)
	on(collector.SessionEvent{Peer: peer, State: collector.SessionEstablished, EndOfRIB: true})
	w.logChanges()

	on(collector.SessionEvent{Peer: peer, State: collector.SessionIdle, Reason: "connection closed by peer"})
	w.logChanges() // the edge, not yet the flush
	st.Apply(&route.Route{Kind: route.PeerDown, Peer: peer})
	w.logChanges() // the flush
	w.logChanges() // nothing more
	n.Close()

	var downs []string
	for _, e := range got.evs {
		if e.Name == "session_down" {
			downs = append(downs, fmt.Sprintf("%s %s %v", e.Peer, e.Cause, e.Counts))
		}
	}
	if want := "bgp 192.0.2.5 AS64496 connection closed by peer map[invalids_gone:2]"; len(downs) != 1 || downs[0] != want {
		t.Errorf("session_down events %q, want one: %q", downs, want)
	}
	if c := countLines(buf.String(), `"msg":"session_down_summary","peer_ip":"192.0.2.5","peer_as":64496,"invalids_gone":2`); c != 1 {
		t.Errorf("%d session_down_summary lines with the whole count, want 1:\n%s", c, buf.String())
	}
	if c := countLines(buf.String(), `"msg":"invalid_disappeared"`); c != 0 {
		t.Errorf("%d invalid_disappeared lines for the session's invalids, want 0", c)
	}
}

func countLines(s, sub string) int { return strings.Count(s, sub) }
