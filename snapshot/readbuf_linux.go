//go:build linux

package snapshot

import (
	"fmt"
	"io"
	"os"
	"syscall"
)

// readWhole reads the file name into memory the decoder may use until
// release is called, and not after. On Linux the memory is an anonymous
// mapping populated in one system call (MAP_POPULATE) instead of a Go slice
// faulted in page by page while the read fills it: a full-table snapshot is
// ~10,000 pages, and on a virtual machine each fault costs microseconds
// (the read was about a tenth of a cold lookup's CPU time). The mapping is
// private and anonymous, so nothing another process does to the file can
// fault it: the file is read with read(2) like os.ReadFile does. Files the
// size of which is unknown or small are read with os.ReadFile.
func readWhole(name string) (data []byte, release func(), err error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	size := fi.Size()
	if !fi.Mode().IsRegular() || size < 1<<20 || size > 1<<40 {
		data, err := io.ReadAll(f)
		return data, func() {}, err
	}
	// One byte more than the size, so a file that grew since the Stat is
	// seen (and read on in the Go heap) rather than cut.
	m, err := syscall.Mmap(-1, 0, int(size)+1, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS|syscall.MAP_POPULATE)
	if err != nil {
		data, err := io.ReadAll(f)
		return data, func() {}, err
	}
	release = func() { syscall.Munmap(m) }
	n, err := io.ReadFull(f, m)
	switch {
	case err == io.ErrUnexpectedEOF || err == io.EOF:
		// Shorter than its Stat said (cut meanwhile): decode what is there;
		// the checksum tells a cut file.
		return m[:n], release, nil
	case err != nil:
		release()
		return nil, nil, err
	}
	// The file grew past its Stat: read the rest into the Go heap.
	rest, err := io.ReadAll(f)
	if err != nil {
		release()
		return nil, nil, err
	}
	whole := make([]byte, 0, n+len(rest))
	whole = append(append(whole, m...), rest...)
	release()
	if int64(len(whole)) < size {
		return nil, nil, fmt.Errorf("%s: read %d of %d bytes", name, len(whole), size)
	}
	return whole, func() {}, nil
}
