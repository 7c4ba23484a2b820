package pfxkey

import (
	"math/rand/v2"
	"net/netip"
	"testing"
	"unsafe"
)

// TestKeyMatchesPrefix checks, on random prefixes of both families, that
// a key round-trips, orders as netip orders prefixes (IPv4 first, then
// address, then shorter first), and that Contains and Supernet agree with
// netip.Prefix.Overlaps/Masked.
func TestKeyMatchesPrefix(t *testing.T) {
	if s := unsafe.Sizeof(Key{}); s != 24 {
		t.Fatalf("Key is %d bytes, want 24", s)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	rnd := func() netip.Prefix {
		if rng.IntN(2) == 0 {
			var b [4]byte
			for i := range b {
				b[i] = byte(rng.IntN(4)) // few distinct addresses: many containments
			}
			return netip.PrefixFrom(netip.AddrFrom4(b), rng.IntN(33)).Masked()
		}
		var b [16]byte
		b[0] = 0x20
		for i := 1; i < 16; i++ {
			b[i] = byte(rng.IntN(3))
		}
		return netip.PrefixFrom(netip.AddrFrom16(b), rng.IntN(129)).Masked()
	}
	cmpP := func(a, b netip.Prefix) int {
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c
		}
		return a.Bits() - b.Bits()
	}
	sign := func(x int) int { return min(max(x, -1), 1) }
	for range 20000 {
		a, b := rnd(), rnd()
		ka, kb := Of(a), Of(b)
		if ka.Prefix() != a {
			t.Fatalf("Of(%v).Prefix() = %v", a, ka.Prefix())
		}
		if got, want := sign(ka.Compare(kb)), sign(cmpP(a, b)); got != want {
			t.Fatalf("Compare(%v, %v) = %d, want %d", a, b, got, want)
		}
		want := a.Addr().Is4() == b.Addr().Is4() && a.Bits() <= b.Bits() && a.Overlaps(b)
		if got := ka.Contains(kb); got != want {
			t.Fatalf("Contains(%v, %v) = %v, want %v", a, b, got, want)
		}
		bits := uint8(rng.IntN(a.Bits() + 1))
		if got, want := ka.Supernet(bits).Prefix(), netip.PrefixFrom(a.Addr(), int(bits)).Masked(); got != want {
			t.Fatalf("Supernet(%v, %d) = %v, want %v", a, bits, got, want)
		}
	}
	if (Key{}).Prefix().IsValid() || Of(netip.Prefix{}) != (Key{}) {
		t.Fatal("the invalid prefix must have the zero key and back")
	}
}
