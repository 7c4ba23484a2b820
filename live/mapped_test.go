package live

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/rovimpact/rovimpact/internal/pfxkey"
)

// withMapMin runs f with arrays moving off the heap from min bytes on, so
// that the small tables of tests exercise mapped arrays.
func withMapMin(t *testing.T, min uintptr, f func()) {
	t.Helper()
	old := mapMin
	mapMin = min
	defer func() { mapMin = old }()
	f()
}

// slot16 is a 12-byte element (padded to 16), for arrays of another size.
type slot16 struct {
	k uint64
	v uint32
}

// owner is what a test's mappings belong to.
type owner struct{ _ [16]byte }

// TestBigRoomModel drives bigRoom, bigExtend, bigMake and release on
// arrays of three element sizes alongside plain slices, from the heap
// into mappings and through several growths (each a move), and compares
// the contents after every step. Every array past mapMin must be mapped
// on Linux (a silent fall-back to the heap would pass a content check but
// keep the page faults), and release must leave no mapping behind.
func TestBigRoomModel(t *testing.T) {
	cases := []struct {
		name string
		min  uintptr
	}{
		{"small-pages", 4096},
		{"huge-pages", hugePageSize},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			withMapMin(t, c.min, func() {
				o := &owner{}
				m := newMapped(o)
				r := rand.New(rand.NewPCG(3, 4))
				var a []uint32
				var am []uint32
				var b []slot16
				var bm []slot16
				var d [][4]uint32
				var dm [][4]uint32
				limit := int(4*c.min) / 4 // a's elements: four times mapMin
				for step := 0; len(a) < limit; step++ {
					switch r.IntN(4) {
					case 0, 1:
						n := 1 + r.IntN(64)
						am = bigRoom(m, am, n)
						for range n {
							v := r.Uint32()
							a, am = append(a, v), append(am, v)
						}
					case 2:
						n := 1 + r.IntN(16)
						k := len(bm)
						bm = bigExtend(m, bm, n)
						b = append(b, make([]slot16, n)...)
						for i := k; i < len(bm); i++ {
							s := slot16{r.Uint64(), r.Uint32()}
							b[i], bm[i] = s, s
						}
					default:
						n := 1 + r.IntN(8)
						dm = bigExtend(m, dm, n)
						d = append(d, make([][4]uint32, n)...)
						i := r.IntN(len(d))
						d[i][i%4]++
						dm[i][i%4]++
					}
					if step%97 != 0 && len(a) < limit-64 {
						continue // whole comparisons every so often: they are quadratic
					}
					if !slices.Equal(a, am) || !slices.Equal(b, bm) || !slices.Equal(d, dm) {
						t.Fatalf("step %d: contents differ (lens %d/%d, %d/%d, %d/%d)", step, len(a), len(am), len(b), len(bm), len(d), len(dm))
					}
				}
				if runtime.GOOS == "linux" {
					for name, base := range map[string]unsafe.Pointer{"uint32": baseOf(am), "slot16": baseOf(bm), "counts": baseOf(dm)} {
						size := uintptr(cap(am)) * 4
						switch name {
						case "slot16":
							size = uintptr(cap(bm)) * unsafe.Sizeof(slot16{})
						case "counts":
							size = uintptr(cap(dm)) * 16
						}
						if size >= mapMin && !m.isMapped(base) {
							t.Errorf("%s array of %d bytes is not mapped", name, size)
						}
						if size >= hugePageSize && uintptr(base)%hugePageSize != 0 {
							t.Errorf("%s array of %d bytes at %p: not at a huge-page boundary", name, size, base)
						}
					}
					if len(m.regs) == 0 {
						t.Fatal("no array was mapped")
					}
				}
				// A fresh array from bigMake is zero, and mapped when large.
				z := bigMake[[]uint64](m, int(c.min))
				if slices.ContainsFunc(z, func(v uint64) bool { return v != 0 }) || len(z) != int(c.min) {
					t.Fatalf("bigMake: %d elements, not all zero", len(z))
				}
				release(m, am)
				release(m, bm)
				release(m, dm)
				release(m, z)
				if len(m.regs) != 0 || m.bytes.Load() != 0 {
					t.Errorf("%d mappings (%d bytes) left after every array was released", len(m.regs), m.bytes.Load())
				}
				runtime.KeepAlive(o)
			})
		})
	}
}

// TestBigRoomHeapBelowMin: arrays below mapMin, and every array of a nil
// set, stay on the Go heap and grow as room grows them.
func TestBigRoomHeapBelowMin(t *testing.T) {
	o := &owner{}
	m := newMapped(o)
	s := bigRoom(m, []uint32(nil), 100)
	if m.isMapped(baseOf(s)) || len(m.regs) != 0 {
		t.Error("a 400-byte array was mapped")
	}
	var h []uint64
	for i := range 1 << 20 {
		h = append(bigRoom(nil, h, 1), uint64(i))
	}
	if len(h) != 1<<20 || h[12345] != 12345 {
		t.Errorf("heap array of %d elements", len(h))
	}
	runtime.KeepAlive(o)
}

// TestMappedFreedWithOwner: once the State that owns mapped arrays is
// unreachable, its mappings are unmapped (runtime.AddCleanup), so States
// made and dropped (tests, a reload) do not leak address space.
func TestMappedFreedWithOwner(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("arrays are mapped on Linux only")
	}
	withMapMin(t, 4096, func() {
		var m *bigMem
		func() {
			s := New(Options{})
			for i := range 3000 {
				r := ann(peerA, fmt.Sprintf("10.%d.%d.0/24", i/256, i%256), 0, seq(64501, 65001))
				s.Apply(&r)
			}
			m = s.mem
			if len(m.regs) == 0 {
				t.Fatal("a 3000-route table mapped no array")
			}
		}()
		deadline := time.Now().Add(10 * time.Second)
		for {
			runtime.GC()
			if m.bytes.Load() == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d bytes still mapped 10 s after their State became unreachable", m.bytes.Load())
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// TestOracleMapped is TestOracle, TestASPAOracle, TestIndex4,
// TestPrefixSet and TestPeerPathsModel with every array of more than one small page off the
// heap: mapped arrays must change no answer.
func TestOracleMapped(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("arrays are mapped on Linux only")
	}
	withMapMin(t, 4096, func() {
		t.Run("oracle", TestOracle)
		t.Run("aspa", TestASPAOracle)
		t.Run("index4", TestIndex4)
		t.Run("prefixes", TestPrefixSet)
		t.Run("peerpaths", TestPeerPathsModel)
		t.Run("paths", TestPaths)
		t.Run("vrps", TestVRPRules)
	})
}

// TestMappedTypesHoldNoPointers: the element types of mapped arrays hold
// no pointers; one that did would hide live heap objects from the GC.
func TestMappedTypesHoldNoPointers(t *testing.T) {
	for _, v := range []any{route{}, pathVal{}, uint32(0), uint64(0), [4]uint32{}, pfxkey.Key{}, addr6{}} {
		if typ := reflect.TypeOf(v); hasPointers(typ) {
			t.Errorf("%v holds pointers", typ)
		}
	}
}

func hasPointers(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.UnsafePointer, reflect.Slice, reflect.Map, reflect.Chan, reflect.Func, reflect.Interface, reflect.String:
		return true
	case reflect.Array:
		return hasPointers(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if hasPointers(t.Field(i).Type) {
				return true
			}
		}
	}
	return false
}

// TestStableRoom: an array grown by stableRoom keeps its contents and,
// once mapped, never moves, so a slice header taken before a growth (as a
// snapshot build or a dump takes the prefix keys) still reads the same
// elements after many growths; the memory is freed with its set.
func TestStableRoom(t *testing.T) {
	for _, min := range []uintptr{4096, hugePageSize} {
		t.Run(fmt.Sprint(min), func(t *testing.T) {
			withMapMin(t, min, func() {
				o := &owner{}
				m := newMapped(o)
				var keys []pfxkey.Key
				var model []pfxkey.Key
				var old []pfxkey.Key // a header taken once mapped
				var base unsafe.Pointer
				n := 4 * int(min) / int(unsafe.Sizeof(pfxkey.Key{}))
				for i := range n {
					k := pfxkey.Key{Hi: uint64(i) * 0x9e3779b97f4a7c15, Lo: uint64(i), Bits: uint8(i % 129)}
					keys = append(stableRoom(m, keys, 1), k)
					model = append(model, k)
					if !stableHere() {
						continue
					}
					if b := baseOf(keys); base == nil && uintptr(cap(keys))*unsafe.Sizeof(k) >= min {
						if _, ok := m.stableOf(b); !ok {
							t.Fatalf("%d keys (%d bytes of room) not in a reservation", len(keys), uintptr(cap(keys))*unsafe.Sizeof(k))
						}
						base, old = b, keys
					} else if base != nil && b != base {
						t.Fatalf("after %d keys the array moved from %p to %p", len(keys), base, b)
					}
				}
				if !slices.Equal(keys, model) {
					t.Fatal("contents differ")
				}
				if stableHere() {
					if old == nil {
						t.Fatal("the array was never mapped")
					}
					if !slices.Equal(old, model[:len(old)]) {
						t.Fatal("a header taken before the growths reads other keys")
					}
					if m.bytes.Load() <= 0 {
						t.Fatal("no committed bytes counted")
					}
				}
				m.freeAll()
				if m.bytes.Load() != 0 || len(m.stable) != 0 {
					t.Errorf("after freeAll: %d bytes, %d reservations", m.bytes.Load(), len(m.stable))
				}
				runtime.KeepAlive(o)
			})
		})
	}
}

// TestReleaseMemory: after a table's load, ReleaseMemory gives back the
// pages past each mapped array's length, and the table still answers the
// same and keeps growing correctly afterwards (the released capacity
// reads as zero and is cleared or written before use).
func TestReleaseMemory(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("arrays are mapped on Linux only")
	}
	withMapMin(t, 4096, func() {
		s := New(Options{})
		m := New(Options{}) // the same events, never released
		add := func(i int) {
			r := ann(peerA, fmt.Sprintf("10.%d.%d.0/24", i/256%256, i%256), 0, seq(64501, uint32(65001+i%7)))
			s.Apply(&r)
			m.Apply(&r)
		}
		for i := range 5000 {
			add(i)
		}
		if n := s.ReleaseMemory(); n <= 0 {
			t.Fatalf("ReleaseMemory released %d bytes of a 5000-route table's arrays", n)
		}
		for i := 5000; i < 9000; i++ {
			add(i)
		}
		s.ReleaseMemory()
		if d := sameSnapshots(s.Snapshot(), m.Snapshot()); d != "" {
			t.Fatal(d)
		}
	})
}

// sameSnapshots compares two snapshots' routes and verdicts.
func sameSnapshots(a, b *Snapshot) string {
	ra, rb := a.Analysis.Table.Routes(), b.Analysis.Table.Routes()
	if len(ra) != len(rb) {
		return fmt.Sprintf("%d routes, want %d", len(ra), len(rb))
	}
	for i := range ra {
		if ra[i].Prefix != rb[i].Prefix || ra[i].Origin != rb[i].Origin || ra[i].Paths != rb[i].Paths || a.Analysis.Outcomes[i] != b.Analysis.Outcomes[i] {
			return fmt.Sprintf("route %d: %+v %+v, want %+v %+v", i, ra[i], a.Analysis.Outcomes[i], rb[i], b.Analysis.Outcomes[i])
		}
	}
	return ""
}

// TestOracleRefused is TestOracleMapped with the kernel saying no to a
// third of the maps, grows, reservations and commits (as under a limit on
// address space): arrays fall back to the Go heap and are mapped again
// later, and no answer changes.
func TestOracleRefused(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("arrays are mapped on Linux only")
	}
	r := rand.New(rand.NewPCG(7, 8))
	asked, said := 0, 0
	refuse = func() bool {
		asked++
		if r.IntN(3) == 0 {
			said++
			return true
		}
		return false
	}
	defer func() { refuse = nil }()
	withMapMin(t, 4096, func() {
		t.Run("oracle", TestOracle)
		t.Run("aspa", TestASPAOracle)
		t.Run("paths", TestPaths)
		t.Run("prefixes", TestPrefixSet)
		t.Run("vrps", TestVRPRules)
		t.Run("release", TestReleaseMemory)
	})
	if said == 0 || said == asked {
		t.Errorf("%d of %d requests refused: the run did not mix mapped and heap arrays", said, asked)
	}
}

// stableHere says whether stableRoom reserves address space here (Linux,
// 64-bit).
func stableHere() bool { return runtime.GOOS == "linux" && ^uintptr(0)>>32 != 0 }

// TestStatsCountMapping: Stats reports the bytes the table maps and the
// arrays the kernel would not map (kept on the heap) or move (copied), so
// an operator sees a fall-back that costs speed or memory. Nothing is
// refused: mapped bytes, no fall-back; every request refused: no mapped
// bytes and fall-backs counted; only growths refused: copies counted.
func TestStatsCountMapping(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("arrays are mapped on Linux only")
	}
	load := func(s *State) {
		for i := range 5000 {
			r := ann(peerA, fmt.Sprintf("10.%d.%d.0/24", i/256%256, i%256), 0, seq(64501, uint32(65001+i%7)))
			s.Apply(&r)
		}
	}
	cases := []struct {
		name       string
		refuse     func() bool
		grow       bool // refuse only mremap
		mapped     bool
		heap, copy bool
	}{
		{name: "none refused", mapped: true},
		{name: "all refused", refuse: func() bool { return true }, heap: true},
		{name: "growths refused", grow: true, mapped: true, copy: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			refuse = c.refuse
			if c.grow {
				growing := false
				refuse = func() bool { return growing }
				refuseGrow = func(f func()) { growing = true; f(); growing = false }
			}
			defer func() { refuse, refuseGrow = nil, nil }()
			withMapMin(t, 4096, func() {
				s := New(Options{})
				load(s)
				st := s.Stats()
				if (st.MappedBytes > 0) != c.mapped {
					t.Errorf("MappedBytes = %d, want mapped %v", st.MappedBytes, c.mapped)
				}
				if (st.MapHeapFallbacks > 0) != c.heap || (st.MapGrowCopies > 0) != c.copy {
					t.Errorf("MapHeapFallbacks = %d, MapGrowCopies = %d; want heap %v, copy %v",
						st.MapHeapFallbacks, st.MapGrowCopies, c.heap, c.copy)
				}
			})
		})
	}
}

// TestStableRoomPastReservation: a new reservation is never committed
// past its end. An array on the heap (a reservation refused, or
// outgrown) whose next growth asks for more than a reservation holds
// gets the whole reservation when what it needs fits (the kernel was
// asked to make usable memory past the reservation: that failed where
// nothing is mapped there, and where something is, made the array
// overlap it), and stays on the heap when it does not; the contents and
// a header taken before each growth read the same throughout.
func TestStableRoomPastReservation(t *testing.T) {
	if !stableHere() {
		t.Skip("stableRoom reserves address space on 64-bit Linux only")
	}
	defer func(old int) { stableElems = old }(stableElems)
	stableElems = 8192 // 64 KiB of 8-byte words
	withMapMin(t, 4096, func() {
		o := &owner{}
		m := newMapped(o)
		defer m.freeAll()
		check := func(at string, w []uint64) {
			t.Helper()
			for i, v := range w {
				if v != uint64(i)*0x9e3779b97f4a7c15 {
					t.Fatalf("%s: word %d reads %#x", at, i, v)
				}
			}
			for base, r := range m.stable {
				if r.committed > r.reserved {
					t.Fatalf("%s: reservation %p: %d bytes committed of %d reserved", at, base, r.committed, r.reserved)
				}
			}
		}
		// A heap array of 6000 words, full: twice that is past the
		// reservation, one more word is not.
		w := make([]uint64, 6000)
		for i := range w {
			w[i] = uint64(i) * 0x9e3779b97f4a7c15
		}
		old := w
		w = append(stableRoom(m, w, 1), uint64(len(w))*0x9e3779b97f4a7c15)
		check("6001 words", w)
		r, ok := m.stableOf(baseOf(w))
		if !ok {
			t.Fatalf("6001 words (%d bytes of room) not in a reservation", uintptr(cap(w))*8)
		}
		if uintptr(cap(w))*8 != r.reserved {
			t.Errorf("capacity %d words, want the reservation's %d", cap(w), r.reserved/8)
		}
		check("a header taken before", old)
		// Past the reservation: back to the heap, contents intact.
		for len(w) < 3*stableElems {
			old = w
			w = append(stableRoom(m, w, 1), uint64(len(w))*0x9e3779b97f4a7c15)
		}
		check("past the reservation", w)
		check("a header taken before", old)
		runtime.KeepAlive(o)
	})
}
