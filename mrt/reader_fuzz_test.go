package mrt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"testing"

	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
)

// splitRecords cuts MRT data into whole records (for fuzz seeds).
func splitRecords(data []byte) [][]byte {
	var out [][]byte
	for len(data) >= headerLen {
		n := headerLen + int(binary.BigEndian.Uint32(data[8:12]))
		if n > len(data) {
			break
		}
		out = append(out, data[:n])
		data = data[n:]
	}
	return out
}

// FuzzReader feeds arbitrary bytes to the Reader. Seeds are real records
// cut from testdata/*.mrt (each RIB record preceded by its file's
// PEER_INDEX_TABLE, so the fuzzer starts from decodable entries), plus
// the file heads whole. Invariants checked, beyond "no panic":
//   - every Announce/Withdraw prefix is valid and masked, PeerDown has none;
//   - Origin is rov.OriginOf(Path), and segment types are 1..4;
//   - Peer.Index indexes Peers() and matches the event's peer;
//   - Stats.Routes counts the events; Stats.Bytes is the input length;
//   - Problems never exceed MaxProblems;
//   - without a resync, Err is nil exactly when the MRT length framing ends
//     on the last byte, and otherwise wraps io.ErrUnexpectedEOF; after one,
//     Err is nil or a cut and SkippedBytes counts what was passed over;
//     Next stays false after the end.
func FuzzReader(f *testing.F) {
	files, _ := os.ReadDir("testdata")
	for _, e := range files {
		if e.IsDir() || !bytes.HasSuffix([]byte(e.Name()), []byte(".mrt")) {
			continue
		}
		data, err := os.ReadFile("testdata/" + e.Name())
		if err != nil {
			f.Fatal(err)
		}
		recs := splitRecords(data)
		var pit []byte
		for i, r := range recs {
			if binary.BigEndian.Uint16(r[4:6]) == typeTableDumpV2 && binary.BigEndian.Uint16(r[6:8]) == tdPeerIndexTable {
				pit = r
				continue
			}
			if i > 12 {
				break
			}
			f.Add(append(append([]byte(nil), pit...), r...))
		}
		f.Add(data[:min(len(data), 4096)])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rd := NewReader(bytes.NewReader(data), Options{Name: "fuzz"})
		events := int64(0)
		for rd.Next() {
			events++
			r := rd.Route()
			switch r.Kind {
			case route.Announce, route.Withdraw:
				if !r.Prefix.IsValid() || r.Prefix != r.Prefix.Masked() {
					t.Fatalf("event %d: prefix %v not valid and masked", events, r.Prefix)
				}
			case route.PeerDown:
				if r.Prefix.IsValid() {
					t.Fatalf("PeerDown with prefix %v", r.Prefix)
				}
			default:
				t.Fatalf("kind %d", r.Kind)
			}
			for _, s := range r.Path {
				if s.Type < rov.ASSet || s.Type > rov.ASConfedSet {
					t.Fatalf("segment type %d", s.Type)
				}
			}
			if o := rov.OriginOf(r.Path); r.Kind == route.Announce && o != r.Origin {
				t.Fatalf("Origin %+v, OriginOf(Path) %+v", r.Origin, o)
			}
			peers := rd.Peers()
			if r.Peer.Index < 0 || r.Peer.Index >= len(peers) || peers[r.Peer.Index].AS != r.Peer.AS || peers[r.Peer.Index].IP != r.Peer.IP {
				t.Fatalf("peer %+v not in Peers() (%d)", r.Peer, len(peers))
			}
		}
		if rd.Next() {
			t.Fatal("Next true after false")
		}
		st := rd.Stats()
		if st.Routes != events {
			t.Fatalf("Stats.Routes %d, events %d", st.Routes, events)
		}
		if st.Bytes != int64(len(data)) {
			t.Fatalf("Stats.Bytes %d, input %d", st.Bytes, len(data))
		}
		if len(st.Problems) > route.MaxProblems {
			t.Fatalf("%d problems", len(st.Problems))
		}
		if st.Skipped["resync"] > 0 {
			// The framing was lost and found again: the length chain of
			// the input says nothing; the end is clean or a cut.
			if err := rd.Err(); err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("after a resync, Err() = %v", err)
			}
			if st.SkippedBytes <= 0 {
				t.Fatalf("resync counted, but SkippedBytes %d", st.SkippedBytes)
			}
			return
		}
		if st.SkippedBytes != 0 {
			t.Fatalf("SkippedBytes %d without a resync", st.SkippedBytes)
		}
		framed := 0
		for framed+headerLen <= len(data) {
			framed += headerLen + int(binary.BigEndian.Uint32(data[framed+8:framed+12]))
		}
		if err := rd.Err(); framed == len(data) {
			if err != nil {
				t.Fatalf("whole records, but Err() = %v", err)
			}
		} else if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("input ends inside a record, but Err() = %v", err)
		}
	})
}
