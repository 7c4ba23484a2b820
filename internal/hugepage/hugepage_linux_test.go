//go:build linux

package hugepage

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
	"unsafe"
)

// TestReserveAdvisesTheHeap checks the one thing Reserve is for: after it,
// a large allocation lands in memory the kernel has been told to back with
// huge pages (VmFlags "hg" in /proc/self/smaps). Tests of this package run
// in their own process, so Reserve meets a fresh heap as in main.
func TestReserveAdvisesTheHeap(t *testing.T) {
	mode, err := os.ReadFile(thpPath)
	if err != nil || !bytes.Contains(mode, []byte("[madvise]")) {
		t.Skipf("THP mode is not madvise here (%q, %v): nothing for Reserve to do", mode, err)
	}
	out := Reserve(256 << 20)
	if out.Advised == 0 {
		t.Fatalf("Reserve advised nothing: %s", out.Reason)
	}
	buf := make([]byte, 64<<20)
	buf[len(buf)/2] = 1
	addr := uintptr(unsafe.Pointer(&buf[len(buf)/2]))
	flags, err := vmFlags(addr)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(" "+flags+" ", " hg ") {
		t.Errorf("the mapping holding a 64 MiB allocation has VmFlags %q, want hg (MADV_HUGEPAGE)", flags)
	}
}

func TestReserveTurnedOff(t *testing.T) {
	t.Setenv(Env, "0")
	if out := Reserve(256 << 20); out.Advised != 0 || out.Reason != Env+"=0" {
		t.Errorf("Reserve with %s=0 = %+v, want nothing done and the variable named", Env, out)
	}
}

func TestReserveReadsTheMode(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ mode, want string }{
		{"always madvise [never]\n", "transparent huge pages are off ([never])"},
		{"[always] madvise never\n", "transparent huge pages are always on: nothing to advise"},
	} {
		p := dir + "/enabled"
		if err := os.WriteFile(p, []byte(c.mode), 0o644); err != nil {
			t.Fatal(err)
		}
		old := thpPath
		thpPath = p
		out := Reserve(256 << 20)
		thpPath = old
		if out.Advised != 0 || out.Reason != c.want {
			t.Errorf("mode %q: Reserve = %+v, want reason %q", c.mode, out, c.want)
		}
	}
}

// vmFlags returns the VmFlags line of the mapping holding addr.
func vmFlags(addr uintptr) (string, error) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	in := false
	for sc.Scan() {
		line := sc.Text()
		var lo, hi uintptr
		if n, _ := fmt.Sscanf(line, "%x-%x", &lo, &hi); n == 2 && strings.Contains(line, " ") {
			in = lo <= addr && addr < hi
			continue
		}
		if in && strings.HasPrefix(line, "VmFlags:") {
			return strings.TrimSpace(strings.TrimPrefix(line, "VmFlags:")), nil
		}
	}
	return "", fmt.Errorf("no mapping holds %#x", addr)
}
