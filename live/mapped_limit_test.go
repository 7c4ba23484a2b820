package live

import (
	"runtime"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/rovimpact/rovimpact/internal/pfxkey"
	"github.com/rovimpact/rovimpact/internal/testutil"
)

// vmSize is this process's address space (bytes), from /proc/self/status.
func vmSize(t *testing.T) uint64 {
	t.Helper()
	n, ok := testutil.ProcStatus("VmSize")
	if !ok {
		t.Fatal("no VmSize in /proc/self/status")
	}
	return uint64(n)
}

// TestStableRoomUnderAddressLimit: under a limit on address space that
// leaves the process 8 GiB more than it holds (room for ~40 full tables'
// arrays), the prefix keys still get their reservation, and it leaves
// most of that room to the Go heap. A reservation of 2^32 keys (96 GiB)
// was refused here; under a limit just above it, it was granted and the
// heap then hit the limit: a fatal "out of memory" after a full table.
func TestStableRoomUnderAddressLimit(t *testing.T) {
	if !stableHere() {
		t.Skip("stableRoom reserves address space on 64-bit Linux only")
	}
	var old unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_AS, &old); err != nil {
		t.Fatal(err)
	}
	const headroom = 8 << 30
	lim := vmSize(t) + headroom
	if old.Cur != unix.RLIM_INFINITY && old.Cur < lim {
		t.Skipf("address space already limited to %d bytes", old.Cur)
	}
	set := old
	set.Cur = lim
	if err := unix.Setrlimit(unix.RLIMIT_AS, &set); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := unix.Setrlimit(unix.RLIMIT_AS, &old); err != nil {
			t.Fatal(err)
		}
	}()
	o := &owner{}
	m := newMapped(o)
	defer m.freeAll()
	var keys []pfxkey.Key
	n := 2 * int(hugePageSize) / 24 // past mapMin
	// mapMin as in production (a race build raises it: mapped_race.go).
	withMapMin(t, hugePageSize, func() {
		for i := range n {
			keys = append(stableRoom(m, keys, 1), pfxkey.Key{Hi: uint64(i) << 40, Bits: 24})
		}
	})
	r, ok := m.stableOf(baseOf(keys))
	if !ok {
		t.Fatalf("%d keys not in a reservation under a limit of VmSize + %d GiB", len(keys), headroom>>30)
	}
	if r.reserved > headroom/4 {
		t.Errorf("the keys reserve %d MiB of the %d GiB left", r.reserved>>20, headroom>>30)
	}
	runtime.KeepAlive(o)
}
