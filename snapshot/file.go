package snapshot

import (
	"io"
	"os"
	"runtime"
	"runtime/debug"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/internal/atomicfile"
	"github.com/rovimpact/rovimpact/reports"
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
// (lookup): LoadFor with every query.
func Load(name string) (*Snapshot, error) { return LoadFor(name, nil) }

// LoadFor is ReadFileFor for a process that will only answer queries
// from the snapshot (lookup): it reads with the garbage collector off,
// since the load is long-lived data (a few hundred MB for a whole
// full-table analysis), so collections during it free nothing and slow
// every pointer write. Afterwards the collector runs only past twice the
// loaded heap, which a lookup's answers do not reach. GOGC or GOMEMLIMIT
// in the environment leave the runtime's settings alone.
func LoadFor(name string, queries []reports.Query) (*Snapshot, error) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return ReadFileFor(name, queries)
	}
	prev := debug.SetGCPercent(-1)
	s, err := ReadFileFor(name, queries)
	if err != nil {
		debug.SetGCPercent(prev)
		return nil, err
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	debug.SetMemoryLimit(int64(2*ms.HeapAlloc) + 64<<20)
	return s, nil
}

// ReadFile reads and decodes the whole snapshot file name (Decode).
func ReadFile(name string) (*Snapshot, error) { return ReadFileFor(name, nil) }

// ReadFileFor reads the snapshot file name and decodes what queries need
// (DecodeFor; nil: everything). The Snapshot keeps no reference to the
// file's bytes, which are released (unmapped) before it returns. A fault
// reading a mapped file that was cut meanwhile is an error, not a crash.
func ReadFileFor(name string, queries []reports.Query) (s *Snapshot, err error) {
	data, release, err := readWhole(name)
	if err != nil {
		return nil, err
	}
	defer release()
	err = faultsAsErrors(name, func() error {
		s, err = DecodeFor(data, name, queries)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s, nil
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
