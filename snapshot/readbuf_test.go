package snapshot

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestReadWhole reads files below and above the size that takes the
// mapped path and compares the bytes with os.ReadFile's.
func TestReadWhole(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, size := range []int{0, 100, 1<<20 - 1, 1 << 20, 3<<20 + 17} {
		want := make([]byte, size)
		for i := range want {
			want[i] = byte(rng.Uint32())
		}
		name := filepath.Join(t.TempDir(), "f")
		if err := os.WriteFile(name, want, 0o644); err != nil {
			t.Fatal(err)
		}
		got, release, err := readWhole(name)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("size %d: read %d bytes, not the file's", size, len(got))
		}
		release()
	}
	if _, _, err := readWhole(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("a missing file read without error")
	}
}

// TestCutWhileMapped: a snapshot cut in place after it was mapped faults
// when read past its new end; read through faultsAsErrors (as every read
// of a mapped file is) that is an error naming the file, not a crash.
func TestCutWhileMapped(t *testing.T) {
	name := filepath.Join(t.TempDir(), "cut.rovsnap")
	if err := os.WriteFile(name, make([]byte, 3<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	data, release, err := readWhole(name)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if err := os.Truncate(name, 0); err != nil {
		t.Fatal(err)
	}
	var sum byte
	err = faultsAsErrors(name, func() error {
		for i := 0; i < len(data); i += 4096 {
			sum += data[i]
		}
		return nil
	})
	if runtime.GOOS != "linux" {
		return // read into memory: nothing to fault
	}
	if err == nil || !strings.Contains(err.Error(), "changed while it was read") || !strings.Contains(err.Error(), name) {
		t.Errorf("got %v, want an error naming %s: it changed while it was read", err, name)
	}
}
