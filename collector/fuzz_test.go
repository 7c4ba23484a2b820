package collector

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"

	"github.com/osrg/gobgp/v3/pkg/packet/bgp"

	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
)

// countingReader records how many bytes the framer took.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// FuzzBMPFrame runs the framer and parser over arbitrary streams. Invariants:
// no panic escapes; the framer never consumes beyond the end of the message
// it is reading (the declared length, or the 6-byte header when that is
// bad); a message whose handling failed produced no event; every event is
// well-formed (masked prefix, origin consistent with the path, the peer its
// index holds when it is emitted).
func FuzzBMPFrame(f *testing.F) {
	stream := bmpStream()
	f.Add(bytes.Join(stream, nil))
	for _, m := range stream {
		f.Add(m) // each message alone: route monitoring without peer up, etc.
	}
	f.Add(bytes.Join([][]byte{
		msgPeerUp("192.0.2.10", 64500, bgp.BGP_ADD_PATH_RECEIVE, bgp.BGP_ADD_PATH_SEND),
		msgUpdate("192.0.2.10", 64500, 0, true, []bgp.AsPathParamInterface{seq(64500)}, []*bgp.IPAddrPrefix{v4("198.51.100.0", 24, 5)}, nil),
	}, nil))
	f.Add([]byte{0xff, 0, 0, 0, 6, 0})                                            // bad version
	f.Add([]byte{3, 0xff, 0xff, 0xff, 0xff, 0})                                   // huge length
	f.Add([]byte{3, 0, 0, 0, 10, 0, 0, 0, 0, 0})                                  // short per-peer header
	f.Add(append(msgPeerUp("192.0.2.10", 64500, 0, 0), 3, 0, 0, 0, 200, 0, 1, 2)) // truncated body

	f.Fuzz(func(t *testing.T, data []byte) {
		const max = 1 << 16
		var events []route.Route
		var rec recorder
		var em *emitter
		em = newEmitter(func(r *route.Route) {
			// The Handler runs under em.mu: the event must name the peer
			// its index holds now (indexes are reused after a PeerDown).
			if r.Peer.Index >= len(em.peers) || em.peers[r.Peer.Index].IP != r.Peer.IP || em.peers[r.Peer.Index].AS != r.Peer.AS {
				t.Fatalf("event for peer %+v, index holds %+v", r.Peer, em.peers)
			}
			rec.handle(r)
		})
		cr := &countingReader{r: bytes.NewReader(data)}
		off := 0
		badMsg := false
		before := 0
		err := runSession(cr, em, sessionOpts{max: max, maxPrefixes: 3}, "fuzz", quiet, func(msg []byte, err error) {
			if !bytes.Equal(msg, data[off:off+len(msg)]) {
				t.Fatalf("message at offset %d differs from the input", off)
			}
			if int(binary.BigEndian.Uint32(msg[1:5])) != len(msg) {
				t.Fatalf("message at offset %d: %d bytes, header says %d", off, len(msg), binary.BigEndian.Uint32(msg[1:5]))
			}
			off += len(msg)
			if cr.n > off {
				t.Fatalf("framer consumed %d bytes, beyond the message ending at %d", cr.n, off)
			}
			n := len(rec.snapshot())
			if err != nil && n != before {
				t.Fatalf("message at offset %d failed (%v) but produced %d events", off-len(msg), err, n-before)
			}
			before = n
			badMsg = badMsg || err != nil
		})
		if err != nil {
			// A framing error may read the header, or the declared body.
			limit := off + 6
			if rest := data[off:]; len(rest) >= 6 && rest[0] == 3 {
				if l := int(binary.BigEndian.Uint32(rest[1:5])); l >= 6 && l <= max {
					limit = off + l
				}
			}
			if cr.n > limit {
				t.Fatalf("framing error after offset %d: consumed %d bytes, limit %d", off, cr.n, limit)
			}
		} else if off != len(data) {
			t.Fatalf("clean end at offset %d of %d", off, len(data))
		}
		events = rec.snapshot()
		for _, r := range events {
			if r.Kind == route.PeerDown {
				continue
			}
			if !r.Prefix.IsValid() || r.Prefix != r.Prefix.Masked() {
				t.Fatalf("bad prefix %v", r.Prefix)
			}
			if r.Kind == route.Announce && r.Origin != rov.OriginOf(r.Path) {
				t.Fatalf("origin %v inconsistent with path %v", r.Origin, r.Path)
			}
		}
		st := em.snapshot()
		if st.Routes != int64(len(events)) {
			t.Fatalf("stats count %d routes, handler saw %d", st.Routes, len(events))
		}
	})
}
