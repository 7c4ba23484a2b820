package collector

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"testing"

	"github.com/osrg/gobgp/v3/pkg/packet/bgp"
	"github.com/osrg/gobgp/v3/pkg/packet/bmp"

	"github.com/rovimpact/rovimpact/live"
)

// fuzzPeers are the identities a fuzzed router reports: one address under
// two ASes and two BGP IDs and in a second instance, a second address, and
// an IPv6 one.
var fuzzPeers = []ph{
	{addr: "192.0.2.10", as: 64500},
	{addr: "192.0.2.10", as: 64501},
	{addr: "192.0.2.10", as: 64500, id: "192.0.2.77"},
	{dist: 7, addr: "192.0.2.10", as: 64500},
	{addr: "192.0.2.11", as: 64502},
	{addr: "2001:db8::10", as: 64500},
	{addr: "192.0.2.11", as: 64500},
	{dist: 7, addr: "192.0.2.10", as: 64501},
}

var fuzzPrefixes = []string{"198.51.100.0/24", "203.0.113.0/24", "192.0.2.0/24", "10.0.0.0/8"}

// peerModel is the oracle: what a router that keeps one session per
// (distinguisher, address) still announces, written without the
// collector's code. slot -> identity; identity -> prefixes.
type peerModel struct {
	slot  map[string]ph
	paths map[ph]map[string]bool
}

func slotOf(p ph) string { return fmt.Sprintf("%d/%s", p.dist, p.addr) }

// use makes p the session at its slot, dropping the one it replaces.
func (m *peerModel) use(p ph) {
	if cur, ok := m.slot[slotOf(p)]; ok && cur != p {
		delete(m.paths, cur)
	}
	m.slot[slotOf(p)] = p
	if m.paths[p] == nil {
		m.paths[p] = map[string]bool{}
	}
}

func (m *peerModel) down(p ph) {
	if cur, ok := m.slot[slotOf(p)]; ok && cur == p {
		delete(m.slot, slotOf(p))
		delete(m.paths, p)
	}
}

func (m *peerModel) held() []string {
	out := []string{}
	for p, ps := range m.paths {
		for pfx := range ps {
			out = append(out, fmt.Sprintf("AS%d %s %s", p.as, p.addr, pfx))
		}
	}
	slices.Sort(out)
	return out
}

// fuzzOps turns fuzz bytes into a BMP stream and the model's expectation
// after each message. Each op byte: low 3 bits the operation, the next 3
// the peer, the top 2 the prefix.
func fuzzOps(data []byte) (msgs [][]byte, want [][]string) {
	m := &peerModel{slot: map[string]ph{}, paths: map[ph]map[string]bool{}}
	for i := 0; i < len(data) && len(msgs) < 64; i++ {
		b := data[i]
		p, pfx := fuzzPeers[(b>>3)&7], fuzzPrefixes[b>>6]
		switch b & 7 {
		case 0:
			msgs = append(msgs, p.up())
			m.use(p)
		case 1:
			msgs = append(msgs, p.down())
			m.down(p)
		case 2:
			msgs = append(msgs, p.announce(pfx))
			m.use(p)
			m.paths[p][pfx] = true
		case 3:
			msgs = append(msgs, p.withdraw(pfx))
			m.use(p)
			delete(m.paths[p], pfx)
		case 4:
			// RFC 7854 §4.2 L flag: post-policy, skipped by a pre-policy
			// station; it names the peer but says nothing of its session.
			h := p.header()
			h.Flags |= bmp.BMP_PEER_FLAG_POST_POLICY
			u := bgp.NewBGPUpdateMessage(nil, []bgp.PathAttributeInterface{bgp.NewPathAttributeOrigin(0),
				bgp.NewPathAttributeAsPath([]bgp.AsPathParamInterface{seq(p.as)}), bgp.NewPathAttributeNextHop("192.0.2.1")},
				[]*bgp.IPAddrPrefix{bgp.NewIPAddrPrefix(24, "192.0.2.0")})
			msgs = append(msgs, must(bmp.NewBMPRouteMonitoring(h, u).Serialize()))
		case 5:
			// A framed message of a type that carries no routes (statistics
			// 1, initiation 4, termination 5, mirroring 6, unassigned 7+)
			// with the following fuzz bytes as its body: parsed or not, it
			// changes no session.
			typ := []byte{1, 4, 5, 6, 7, 99, 255, 1}[(b>>3)&7]
			n := 0
			if i+1 < len(data) {
				n = min(int(data[i+1]), len(data)-i-2)
				i++
			}
			msg := make([]byte, 6, 6+n)
			msg[0], msg[5] = 3, typ
			msg = append(msg, data[i+1:i+1+n]...)
			binary.BigEndian.PutUint32(msg[1:5], uint32(len(msg)))
			msgs = append(msgs, msg)
			i += n
		case 6:
			msgs = append(msgs, p.announce(pfx, fuzzPrefixes[(b>>6+1)&3]))
			m.use(p)
			m.paths[p][pfx] = true
			m.paths[p][fuzzPrefixes[(b>>6+1)&3]] = true
		case 7:
			// Route monitoring carrying a KEEPALIVE (§4.6: an UPDATE is
			// required): rejected before it names a session.
			msgs = append(msgs, must(bmp.NewBMPRouteMonitoring(p.header(), bgp.NewBGPKeepAliveMessage()).Serialize()))
		}
		want = append(want, m.held())
	}
	return msgs, want
}

// FuzzBMPPeers feeds sequences of BMP messages about peers whose AS, BGP
// ID and distinguisher change, interleaved with Peer Down, post-policy and
// junk messages, through the station into a live.State (as watch does).
// Invariants, after every message: the State holds exactly what the model
// says the sessions still announce (no stale route under an old AS, no
// route of one peer flushed by another's Peer Down); after the connection
// closes it holds nothing and names no peer (no phantoms).
func FuzzBMPPeers(f *testing.F) {
	op := func(o, peer, pfx byte) byte { return o | peer<<3 | pfx<<6 }
	f.Add([]byte{op(0, 0, 0), op(2, 0, 0), op(2, 0, 1), op(0, 1, 0), op(2, 1, 0)}) // the issue: AS change under Peer Up
	f.Add([]byte{op(2, 0, 0), op(2, 1, 1), op(2, 0, 2), op(1, 1, 0)})              // AS change and back, in route monitoring
	f.Add([]byte{op(0, 0, 0), op(2, 0, 0), op(0, 1, 0), op(1, 0, 0), op(2, 1, 3)}) // late Peer Down of the replaced session
	f.Add([]byte{op(2, 0, 0), op(2, 3, 0), op(2, 7, 0), op(1, 3, 0), op(3, 0, 0)}) // distinguishers
	f.Add([]byte{op(2, 4, 0), op(2, 6, 1), op(6, 5, 2), op(4, 4, 0), op(7, 4, 0), op(2, 2, 1)})
	f.Add([]byte{op(5, 2, 0), 4, 0, 0, 0, 0, op(2, 0, 0), op(5, 0, 0), 3, 1, 2, 3}) // junk bodies
	f.Fuzz(func(t *testing.T, data []byte) {
		msgs, want := fuzzOps(data)
		st := live.New(live.Options{})
		em := newEmitter(st.Feed())
		n := 0
		err := runSession(bytes.NewReader(bytes.Join(msgs, nil)), em, sessionOpts{max: 1 << 16}, "192.0.2.1:40000", quiet, func([]byte, error) {
			if got := held(st); !slices.Equal(got, want[n]) {
				t.Fatalf("after message %d of %d:\n got %q\nwant %q", n+1, len(msgs), got, want[n])
			}
			n++
		})
		if err != nil {
			t.Fatalf("session: %v", err)
		}
		if n != len(msgs) {
			t.Fatalf("%d of %d messages handled", n, len(msgs))
		}
		if got := held(st); len(got) != 0 {
			t.Fatalf("after the connection closed: %q", got)
		}
		if peers, _ := st.Paths(); len(peers) != 0 {
			t.Fatalf("after the connection closed the table names peers %v", peers)
		}
		snap := st.Snapshot()
		if snap.Analysis.Table.Len() != 0 || len(snap.Analysis.Table.Peers()) != 0 {
			t.Fatalf("after the connection closed the snapshot has %d routes, %d peers", snap.Analysis.Table.Len(), len(snap.Analysis.Table.Peers()))
		}
	})
}
