//go:build linux

package snapshot

import (
	"io"
	"os"
	"syscall"
)

// readWhole gives the bytes of the file name, valid until release is
// called. On Linux a file of 1 MiB or more is mapped read-only from the
// page cache and populated in one system call (MAP_POPULATE): no copy and
// no freshly zeroed pages, where reading a full-table snapshot into memory
// cost a copy of ~40 MB and a page fault (microseconds on a virtual
// machine) per page. The snapshot writers replace files by rename, which
// leaves a mapping intact; a file cut in place while mapped (cp over it)
// faults on access past its new end, so callers read the bytes only with
// debug.SetPanicOnFault on (readFor), and that fault becomes an error. A
// file that grows meanwhile is read as it was at the Stat, and its
// checksum then tells it is not whole. Small files, and files that cannot
// be mapped, are read with io.ReadAll.
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
	m, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_PRIVATE|syscall.MAP_POPULATE)
	if err != nil {
		data, err := io.ReadAll(f)
		return data, func() {}, err
	}
	return m, func() { syscall.Munmap(m) }, nil
}
