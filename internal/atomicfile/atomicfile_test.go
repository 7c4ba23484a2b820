package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestWriteMode checks the permissions follow the umask like any shell
// redirect (0644 under umask 022, 0640 under 027), not os.CreateTemp's 0600.
func TestWriteMode(t *testing.T) {
	for _, tc := range []struct {
		umask   int
		file    os.FileMode
		dirMode os.FileMode
	}{
		{0o022, 0o644, 0o755},
		{0o027, 0o640, 0o750},
		{0o077, 0o600, 0o700},
	} {
		old := syscall.Umask(tc.umask)
		dir := filepath.Join(t.TempDir(), "out", "sub")
		if err := MkdirAll(dir); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "report.json")
		err := Write(path, func(w io.Writer) error { _, err := io.WriteString(w, "{}\n"); return err })
		syscall.Umask(old)
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != tc.file {
			t.Errorf("umask %03o: file mode %03o, want %03o", tc.umask, got, tc.file)
		}
		di, _ := os.Stat(dir)
		if got := di.Mode().Perm(); got != tc.dirMode {
			t.Errorf("umask %03o: dir mode %03o, want %03o", tc.umask, got, tc.dirMode)
		}
	}
}

// TestWriteFailureKeepsOld: a failing writer leaves the old file intact and
// no temporary file behind.
func TestWriteFailureKeepsOld(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.txt")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := Write(path, func(w io.Writer) error { io.WriteString(w, "half"); return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	b, _ := os.ReadFile(path)
	if string(b) != "old" {
		t.Errorf("content %q, want old", b)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("%d entries left in dir, want 1 (no temporary file)", len(ents))
	}
	if err := Write(path, func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "new" {
		t.Errorf("content %q, want new", b)
	}
}
