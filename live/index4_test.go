package live

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
)

// TestIndex4 checks index4 against a Go map through several growths:
// every inserted key found with its id, absent keys (neighbours of the
// inserted ones, and 0 = 0.0.0.0/0 until it is inserted) not found.
func TestIndex4(t *testing.T) {
	for _, b := range []uint{26, 4} {
		t.Run(fmt.Sprint("idBits=", b), func(t *testing.T) {
			old := idBits
			idBits = b // 4: ids from 14 on are kept in the map of big ids
			defer func() { idBits = old }()
			testIndex4(t)
		})
	}
}

func testIndex4(t *testing.T) {
	o := &owner{}
	defer runtime.KeepAlive(o)
	ix := index4{slotTable: slotTable{mem: newMapped(o)}} // mapped when TestOracleMapped lowers mapMin
	want := map[uint64]uint32{}
	var words []uint64 // the key words by id, as prefixKeys keeps them
	setWord := func(id uint32, k uint64) {
		for len(words) <= int(id) {
			words = append(words, 1<<63|uint64(len(words))) // no key's word
		}
		words[id] = k
	}
	if _, ok := ix.find(0, words); ok {
		t.Fatal("empty index finds key 0")
	}
	r := rand.New(rand.NewPCG(1, 2))
	check := func(step int) {
		t.Helper()
		if ix.n != len(want) {
			t.Fatalf("step %d: n %d, want %d", step, ix.n, len(want))
		}
		for k, id := range want {
			if got, ok := ix.find(k, words); !ok || got != id {
				t.Fatalf("step %d: find(%#x) = %d, %v; want %d", step, k, got, ok, id)
			}
			for _, nb := range []uint64{k + 1, k ^ 1<<32} {
				if _, in := want[nb]; !in {
					if got, ok := ix.find(nb, words); ok {
						t.Fatalf("step %d: find(%#x) = %d for a key never inserted", step, nb, got)
					}
				}
			}
		}
	}
	for i := range 5000 {
		var k uint64
		switch i % 3 {
		case 0: // a /24 in a dense run, as a full table's are
			k = uint64(0x0a000000+uint32(i)<<8)<<32 | 24
		case 1:
			k = uint64(r.Uint32())<<32 | uint64(r.IntN(33))
		default: // the same address at another length
			k = uint64(0x0a000000+uint32(i-2)<<8)<<32 | 23
		}
		if _, dup := want[k]; dup {
			continue
		}
		want[k] = uint32(i)
		setWord(uint32(i), k)
		ix.insert(k, uint32(i), words)
		if i%997 == 0 {
			check(i)
		}
	}
	if _, ok := ix.find(0, words); ok {
		t.Fatal("key 0 found before it was inserted")
	}
	want[0] = 123456
	setWord(123456, 0)
	ix.insert(0, 123456, words)
	check(-1)
	if len(ix.slots) < index4Min || 4*ix.n > 3*len(ix.slots) {
		t.Errorf("%d keys in %d slots: over three quarters full", ix.n, len(ix.slots))
	}
	if wantBig := ix.n - int(bigID()) + 1; idBits < 26 && len(ix.big) < wantBig {
		t.Errorf("%d big ids kept for %d keys at %d id bits", len(ix.big), ix.n, idBits)
	}
}
