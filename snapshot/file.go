package snapshot

import (
	"io"
	"os"
	"runtime"
	"runtime/debug"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/internal/atomicfile"
)

// WriteFile encodes a with header h and writes it atomically to path, so a
// lookup never reads half a snapshot.
func WriteFile(path string, h Header, a *classify.Analysis) error {
	data, err := Encode(h, a)
	if err != nil {
		return err
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// Load is ReadFile for a process that will only answer from the snapshot
// (lookup): it reads with the garbage collector off, since the load is a
// few hundred MB of long-lived data, so collections during it free nothing
// and slow every pointer write (about a seventh of the CPU time on a full
// table). Afterwards the collector runs only past twice the loaded heap,
// which a lookup's answers do not reach. GOGC or GOMEMLIMIT in the
// environment leave the runtime's settings alone.
func Load(name string) (*Snapshot, error) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return ReadFile(name)
	}
	prev := debug.SetGCPercent(-1)
	s, err := ReadFile(name)
	if err != nil {
		debug.SetGCPercent(prev)
		return nil, err
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	debug.SetMemoryLimit(int64(2*ms.HeapAlloc) + 64<<20)
	return s, nil
}

// ReadFile reads and decodes the snapshot file name in one read. The
// Snapshot keeps no reference to the bytes read (Decode), so they are
// released as soon as it is decoded.
func ReadFile(name string) (*Snapshot, error) {
	data, release, err := readWhole(name)
	if err != nil {
		return nil, err
	}
	defer release()
	return Decode(data, name)
}

// IsFile reports whether the file name starts like a snapshot; false when
// it cannot be read.
func IsFile(name string) bool {
	f, err := os.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	b := make([]byte, len(Magic))
	_, err = io.ReadFull(f, b)
	return err == nil && HasMagic(b)
}
