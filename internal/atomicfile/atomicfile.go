// Package atomicfile writes a file so that a reader sees either the old
// content or the whole new content, never half of it: the data goes to a
// temporary file beside the target, is flushed and synced, and is renamed
// over the target.
//
// Files are created with mode 0666 and directories with 0777, both reduced
// by the process umask (0644 and 0755 under the usual 022), as the shell
// and every ordinary tool do. os.CreateTemp would give 0600 whatever the
// umask, which left nightly reports unreadable to the web server that
// publishes them.
package atomicfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"
)

// seq makes temporary names unique within the process; the pid and the
// clock make them unique across processes sharing a directory.
var seq atomic.Uint64

// MkdirAll creates dir and its parents with mode 0777 less the umask.
func MkdirAll(dir string) error { return os.MkdirAll(dir, 0o777) }

// Write calls write with a buffered writer on a temporary file in path's
// directory and renames it to path once write, the flush and the fsync
// have succeeded. On any error the temporary file is removed and path is
// left as it was. The error names path.
func Write(path string, write func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := create(dir, base)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := write(bw); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// create opens a new hidden temporary file named after base. O_EXCL with
// mode 0666 lets the kernel apply the umask, which os.CreateTemp's fixed
// 0600 does not.
func create(dir, base string) (*os.File, error) {
	for range 10000 {
		name := filepath.Join(dir, "."+base+"."+strconv.Itoa(os.Getpid())+"-"+
			strconv.FormatInt(time.Now().UnixNano(), 36)+"-"+strconv.FormatUint(seq.Add(1), 10)+".tmp")
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, fmt.Errorf("no free temporary name for %s in %s", base, dir)
}
