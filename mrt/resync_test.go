package mrt

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rovimpact/rovimpact/internal/testutil"
)

// tracedEvent is an event with the offset of the record it came from.
type tracedEvent struct {
	off  int64
	line string
}

// readTraced reads data and returns every event with its record offset.
func readTraced(data []byte) ([]tracedEvent, *Reader) {
	rd := NewReader(bytes.NewReader(data), Options{Name: "damaged"})
	var out []tracedEvent
	for rd.Next() {
		out = append(out, tracedEvent{rd.recOff, eventLine(rd.Route())})
	}
	return out, rd
}

// damage replaces data[pos:pos+del] with ins.
func damage(data []byte, pos, del int, ins []byte) []byte {
	return slices.Concat(data[:pos], ins, data[pos+del:])
}

// checkNoFabrication is the resync invariant, against the undamaged
// original whose bytes [pos, pos+del) were replaced by ins: every record
// wholly before the damage is delivered as it was; every event from a
// record starting after the inserted bytes comes from a record that starts
// exactly there in the original, with the original's content (a resync
// never lands inside a sound record); events from records touching the
// damaged bytes may be anything, since those bytes are.
func checkNoFabrication(t *testing.T, what string, orig []byte, pos, del int, ins []byte) ([]tracedEvent, *Reader) {
	t.Helper()
	want, _ := readTraced(orig)
	byOff := map[int64][]string{}
	for _, e := range want {
		byOff[e.off] = append(byOff[e.off], e.line)
	}
	ends := map[int64]int64{} // record start -> end in orig
	var off int64
	pitDamaged := false
	for _, rec := range splitRecords(orig) {
		end := off + int64(len(rec))
		ends[off] = end
		if binary.BigEndian.Uint16(rec[4:6]) == typeTableDumpV2 && binary.BigEndian.Uint16(rec[6:8]) == tdPeerIndexTable &&
			int64(pos) < end && int64(pos+max(del, 1)) > off {
			pitDamaged = true
		}
		off = end
	}
	// Damage inside a PEER_INDEX_TABLE that leaves its framing sound
	// changes the peers of every later RIB entry, undetectably (bgpdump
	// prints the same wrong peers): then only the routes are compared.
	norm := func(line string) string {
		if !pitDamaged {
			return line
		}
		f := strings.Split(line, "|")
		if len(f) > 3 {
			f[1], f[2] = "", ""
		}
		if len(f) > 6 {
			f[6] = ""
		}
		return strings.Join(f, "|")
	}
	data := damage(orig, pos, del, ins)
	got, rd := readTraced(data)
	shift := int64(len(ins) - del)
	seen := map[int64]int{}
	var before []string
	for _, e := range got {
		switch {
		case e.off < int64(pos):
			if end, ok := ends[e.off]; ok && end <= int64(pos) {
				before = append(before, e.line)
			}
		case e.off >= int64(pos+len(ins)):
			o := e.off - shift
			lines, ok := byOff[o]
			if !ok {
				t.Fatalf("%s: event %q from offset %d (original %d), where no record starts", what, e.line, e.off, o)
			}
			if i := seen[o]; i >= len(lines) || norm(lines[i]) != norm(e.line) {
				t.Fatalf("%s: event %q from the record at original offset %d, which holds %q", what, e.line, o, lines)
			}
			seen[o]++
		}
	}
	var wantBefore []string
	for _, e := range want {
		if ends[e.off] <= int64(pos) {
			wantBefore = append(wantBefore, e.line)
		}
	}
	if !slices.EqualFunc(before, wantBefore, func(a, b string) bool { return norm(a) == norm(b) }) {
		t.Fatalf("%s: %d events from the records before the damage, want %d", what, len(before), len(wantBefore))
	}
	if st := rd.Stats(); st.Bytes != int64(len(data)) {
		t.Fatalf("%s: Stats.Bytes %d, input %d", what, st.Bytes, len(data))
	}
	return got, rd
}

// TestResync damages the framing of real TABLE_DUMP (v1) records from the
// RIS rrc05 bview of 2002 (a wrong length, a non-MRT type, garbage between
// records, a length over the limit, several bad records in a row) and
// checks that exactly the damaged record is lost: the Reader resynchronises
// on the next record, counts what it skipped, and never fabricates a
// route. Before resynchronisation, a misframed record lost everything
// after it (the RIS rrc00 bview of 2000-01-11: 3 records, 0 routes, then
// "truncated" with 18.7 MB unread).
func TestResync(t *testing.T) {
	orig, err := os.ReadFile(filepath.Join("testdata", "bview.20020722.rrc05-tdv1.head200.mrt"))
	if err != nil {
		t.Fatal(err)
	}
	recs := splitRecords(orig)
	starts := make([]int, len(recs)+1)
	for i, r := range recs {
		starts[i+1] = starts[i] + len(r)
	}
	all, _ := readTraced(orig)
	if len(all) != len(recs) {
		t.Fatalf("%d events from %d TABLE_DUMP records, want one each", len(all), len(recs))
	}
	setLen := func(k, delta int) []byte {
		d := bytes.Clone(orig)
		l := binary.BigEndian.Uint32(d[starts[k]+8:])
		binary.BigEndian.PutUint32(d[starts[k]+8:], uint32(int(l)+delta))
		return d
	}
	setType := func(k int, typ uint16) []byte {
		d := bytes.Clone(orig)
		binary.BigEndian.PutUint16(d[starts[k]+4:], typ)
		return d
	}
	insert := func(k int, junk []byte) []byte { return damage(orig, starts[k], 0, junk) }
	rng := rand.New(rand.NewPCG(7, 8))
	junk := make([]byte, 777)
	for i := range junk {
		junk[i] = byte(rng.Uint32())
	}
	tests := []struct {
		name string
		data []byte
		lost []int // records whose routes are lost
	}{
		{"length 1 too long", setLen(10, 1), []int{10}},
		{"length 9 too long", setLen(10, 9), []int{10}},
		{"length 60 too long (into the record after next)", setLen(10, 60), []int{10}},
		{"length 1 too short", setLen(10, -1), []int{10}},
		{"length 5 too short", setLen(10, -5), []int{10}},
		{"first record misframed", setLen(0, 3), []int{0}},
		{"last record misframed", setLen(len(recs)-1, -2), []int{len(recs) - 1}},
		{"three records in a row misframed", setLen(12, 1), []int{10, 11, 12}},
		{"type not an MRT type", setType(20, 0x4242), []int{20}},
		{"length over the limit", setLen(30, maxRecordLen+1), []int{30}},
		{"777 random bytes between records", insert(40, junk), nil},
		{"zeros between records", insert(40, make([]byte, 100)), nil},
	}
	// three in a row: records 10 and 11 too, on top of 12
	for _, k := range []int{10, 11} {
		l := binary.BigEndian.Uint32(tests[7].data[starts[k]+8:])
		binary.BigEndian.PutUint32(tests[7].data[starts[k]+8:], l+7)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, rd := readTraced(tt.data)
			if err := rd.Err(); err != nil {
				t.Fatalf("Err() = %v, want nil: the input was read to its end", err)
			}
			var want []string
			for i, e := range all {
				if !slices.Contains(tt.lost, i) {
					want = append(want, e.line)
				}
			}
			var lines []string
			for _, e := range got {
				lines = append(lines, e.line)
			}
			if !slices.Equal(lines, want) {
				t.Fatalf("%d routes, want %d (all but records %v)", len(lines), len(want), tt.lost)
			}
			st := rd.Stats()
			if st.Skipped["resync"] == 0 || st.SkippedBytes == 0 {
				t.Errorf("Skipped %v, SkippedBytes %d: want the resync counted", st.Skipped, st.SkippedBytes)
			}
			if len(st.Problems) == 0 {
				t.Errorf("no Problem describes the resync")
			}
			t.Logf("skipped %v, %d bytes; problems %v", st.Skipped, st.SkippedBytes, st.Problems)
		})
	}
}

// FuzzResync replaces a stretch of a real file with fuzzed bytes and
// checks checkNoFabrication: records before the damage all come out, and
// after it only records that start where the original's do, unchanged.
// Seeds cover TABLE_DUMP, TABLE_DUMP_V2 and BGP4MP_ET files.
func FuzzResync(f *testing.F) {
	files := []string{
		"bview.20020722.rrc05-tdv1.head200.mrt",
		"rib.20140523.route-views2.head60.mrt",
		"updates.20151023.pch-et.head200.mrt",
		"updates.20150401.jinx.head300.mrt",
	}
	var origs [][]byte
	for _, name := range files {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		origs = append(origs, data[:min(len(data), 24<<10)])
	}
	f.Add(uint8(0), uint16(700), uint8(0), []byte{0xde, 0xad})          // junk inserted
	f.Add(uint8(0), uint16(67), uint8(2), []byte{0x00, 0x40})           // a length byte changed
	f.Add(uint8(1), uint16(5000), uint8(30), []byte{})                  // 30 bytes deleted in a RIB
	f.Add(uint8(2), uint16(2000), uint8(1), []byte{0x13})               // one byte of an update
	f.Add(uint8(3), uint16(300), uint8(0), bytes.Repeat([]byte{0}, 40)) // zeros inserted
	f.Fuzz(func(t *testing.T, which uint8, pos uint16, del uint8, ins []byte) {
		orig := origs[int(which)%len(origs)]
		p := int(pos) % len(orig)
		d := min(int(del), len(orig)-p)
		checkNoFabrication(t, fmt.Sprintf("file %d, [%d,+%d) <- %d bytes", int(which)%len(origs), p, d, len(ins)), orig, p, d, ins)
	})
}

// TestResyncSharedRRC05 misframes the fourth record of the whole RIS rrc05
// bview of 2002-07-22 (TABLE_DUMP v1), as the rrc00 bview of 2000-01-11 was
// misframed after 3 records (0 routes, then "truncated" with 18.7 MB
// unread): every other route must still come out, the skipped stretch
// counted.
func TestResyncSharedRRC05(t *testing.T) {
	if testing.Short() {
		t.Skip("decompresses the 1.2 MB rrc05 bview")
	}
	orig, err := decompress(t, testutil.SharedData(t, "mrt/bview.20020722.2337.ris-rrc05.table_dump_v1.gz"))
	if err != nil {
		t.Fatal(err)
	}
	recs := splitRecords(orig)
	var start int
	for _, r := range recs[:3] {
		start += len(r)
	}
	d := bytes.Clone(orig)
	binary.BigEndian.PutUint32(d[start+8:], 0x00ab0000) // a length far past the next records
	want, _ := readAll(t, orig, "orig")
	got, rd := readAll(t, d, "misframed")
	if err := rd.Err(); err != nil {
		t.Fatalf("Err() = %v, want nil", err)
	}
	st := rd.Stats()
	if len(got) != len(want)-1 || !slices.Equal(got[:3], want[:3]) || !slices.Equal(got[3:], want[4:]) {
		t.Fatalf("%d routes, want %d: all but the misframed record's", len(got), len(want)-1)
	}
	if st.Skipped["resync"] != 1 || st.SkippedBytes != int64(len(recs[3])) {
		t.Errorf("resync %d, SkippedBytes %d; want 1 and the %d bytes of the misframed record", st.Skipped["resync"], st.SkippedBytes, len(recs[3]))
	}
	t.Logf("%d routes; problems %v", len(got), st.Problems)
}
