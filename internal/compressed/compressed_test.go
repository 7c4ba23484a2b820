package compressed

import (
	"bytes"
	stdbzip2 "compress/bzip2"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"github.com/rovimpact/rovimpact/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite testdata/sample.txt.bz2 with the bzip2 command")

// sampleText is deterministic, moderately compressible text (about 10:1
// under bzip2 -1) large enough to span several 100 kB bzip2 blocks.
func sampleText() []byte {
	var b bytes.Buffer
	x := uint32(2463534242)
	for i := 0; b.Len() < 600_000; i++ {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		fmt.Fprintf(&b, "%d|10.%d.%d.0/24|AS6450%d\n", i, x>>28, x>>24&0xf, x%10)
	}
	return b.Bytes()
}

// bzip2Sample returns sampleText compressed by `bzip2 -1` (100 kB blocks),
// kept in testdata because no bzip2 writer exists in the standard library or
// our dependencies.
func bzip2Sample(t testing.TB) []byte {
	t.Helper()
	path := filepath.Join("testdata", "sample.txt.bz2")
	if *update {
		cmd := exec.Command("bzip2", "-1", "-c")
		cmd.Stdin = bytes.NewReader(sampleText())
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("bzip2 (Debian package bzip2): %v", err)
		}
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func compress(t testing.TB, f Format, plain []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	var w io.WriteCloser
	var err error
	switch f {
	case Raw:
		return plain
	case Gzip:
		w = gzip.NewWriter(&b)
	case XZ:
		w, err = xz.NewWriter(&b)
	case Zstd:
		w, err = zstd.NewWriter(&b)
	case Bzip2:
		return bzip2Sample(t)
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(plain); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDetect(t *testing.T) {
	tests := []struct {
		name string
		head []byte
		want Format
	}{
		{"gzip ID1 ID2 (RFC 1952 §2.3.1)", []byte{0x1f, 0x8b, 0x08, 0, 0, 0}, Gzip},
		{"bzip2 'BZh' + level", []byte("BZh91AY&SY"), Bzip2},
		{"xz header magic (xz spec §2.1.1.1)", []byte{0xfd, '7', 'z', 'X', 'Z', 0x00, 0}, XZ},
		{"xz magic with wrong last byte is not xz", []byte{0xfd, '7', 'z', 'X', 'Z', 0x01}, Raw},
		{"zstd frame magic 0xFD2FB528 LE (RFC 8878 §3.1.1)", []byte{0x28, 0xb5, 0x2f, 0xfd, 0x24, 0}, Zstd},
		{"MRT header: timestamp 2014-05-23 (rib.20140523)", []byte{0x53, 0x7e, 0xe1, 0x20, 0x00, 0x0d}, Raw},
		{"lone 0x1f is not gzip", []byte{0x1f}, Raw},
		{"empty", nil, Raw},
		{"JSON text", []byte(`{"roas":`), Raw},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Detect(tt.head); got != tt.want {
				t.Errorf("Detect(% x) = %v, want %v", tt.head, got, tt.want)
			}
		})
	}
}

// TestRoundTrip writes each format under a misleading name and checks that
// the content, not the name, decides how it is read.
func TestRoundTrip(t *testing.T) {
	plain := sampleText()
	tests := []struct {
		format Format
		name   string // deliberately wrong extension
	}{
		{Raw, "raw.gz"},
		{Gzip, "gzipped.bz2"},
		{Bzip2, "bzipped.gz"},
		{XZ, "xzed.zst"},
		{Zstd, "zstded.xz"},
	}
	for _, tt := range tests {
		t.Run(tt.format.String(), func(t *testing.T) {
			data := compress(t, tt.format, plain)
			path := filepath.Join(t.TempDir(), tt.name)
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if f.Format() != tt.format {
				t.Errorf("Format() = %v, want %v", f.Format(), tt.format)
			}
			if f.Size() != int64(len(data)) {
				t.Errorf("Size() = %d, want %d", f.Size(), len(data))
			}
			got, err := io.ReadAll(f)
			if err != nil {
				t.Fatalf("ReadAll: %v", err)
			}
			if !bytes.Equal(got, plain) {
				t.Fatalf("got %d bytes, want %d bytes of the original", len(got), len(plain))
			}
			if f.Pos() != int64(len(data)) {
				t.Errorf("Pos() at end = %d, want %d", f.Pos(), len(data))
			}
			if err := f.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
}

// TestTruncated pins the contract the MRT reader relies on: a stream cut
// short yields all data decodable before the cut, then an error wrapping
// io.ErrUnexpectedEOF that names the file (RouteViews RIB heads shared in
// /work/shared/data are cut like this).
func TestTruncated(t *testing.T) {
	plain := sampleText()
	for _, format := range []Format{Gzip, Bzip2, XZ, Zstd} {
		t.Run(format.String(), func(t *testing.T) {
			data := compress(t, format, plain)
			cut := data[:len(data)*2/3]
			path := filepath.Join(t.TempDir(), "cut."+format.String())
			if err := os.WriteFile(path, cut, 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got, err := io.ReadAll(f)
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("err = %v, want io.ErrUnexpectedEOF", err)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
			if !bytes.HasPrefix(plain, got) {
				t.Fatalf("the %d bytes delivered are not a prefix of the original", len(got))
			}
			if format == Bzip2 {
				// Every complete block before the cut must come out: as
				// much as the standard library's sequential decoder yields.
				want, serr := io.ReadAll(stdbzip2.NewReader(bytes.NewReader(cut)))
				if !errors.Is(serr, io.ErrUnexpectedEOF) {
					t.Fatalf("compress/bzip2 err = %v", serr)
				}
				if len(got) != len(want) || len(got) == 0 {
					t.Errorf("delivered %d bytes, compress/bzip2 delivers %d", len(got), len(want))
				}
			}
		})
	}
}

// TestCorruptBzip2 flips a byte inside the first block: a CRC or Huffman
// error, which must surface as an error and not as a silent clean end.
func TestCorruptBzip2(t *testing.T) {
	data := bytes.Clone(bzip2Sample(t))
	data[200] ^= 0x55
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	_, err = io.ReadAll(r)
	if err == nil {
		t.Fatal("ReadAll of a corrupt bzip2 stream returned no error")
	}
}

func TestStdin(t *testing.T) {
	plain := sampleText()
	data := compress(t, Gzip, plain)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdin
	os.Stdin = pr
	t.Cleanup(func() { os.Stdin = old; pr.Close() })
	go func() {
		pw.Write(data)
		pw.Close()
	}()
	f, err := Open("-")
	if err != nil {
		t.Fatal(err)
	}
	if f.Size() != -1 {
		t.Errorf("Size() of a pipe = %d, want -1", f.Size())
	}
	if f.Name() != "stdin" {
		t.Errorf("Name() = %q, want stdin", f.Name())
	}
	got, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, plain) {
		t.Fatalf("got %d bytes, want %d", len(got), len(plain))
	}
	f.Close()
}

func TestNewReader(t *testing.T) {
	plain := sampleText()
	for _, format := range []Format{Raw, Gzip, Bzip2, XZ, Zstd} {
		t.Run(format.String(), func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(compress(t, format, plain)))
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, plain) {
				t.Fatalf("got %d bytes, want %d", len(got), len(plain))
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestShortInputs(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		want    []byte
		wantErr error
	}{
		{"empty input is an empty raw stream", nil, nil, nil},
		{"two raw bytes", []byte{1, 2}, []byte{1, 2}, nil},
		{"gzip magic only: truncated header", []byte{0x1f, 0x8b}, nil, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(tt.in))
			if err == nil {
				var got []byte
				got, err = io.ReadAll(r)
				if !bytes.Equal(got, tt.want) {
					t.Errorf("got % x, want % x", got, tt.want)
				}
				r.Close()
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// TestCloseEarly closes before the stream is read: Close must not hang on
// the decompression goroutines.
func TestCloseEarly(t *testing.T) {
	for _, format := range []Format{Gzip, Bzip2, XZ, Zstd} {
		t.Run(format.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "f")
			if err := os.WriteFile(path, compress(t, format, sampleText()), 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 100)
			if _, err := io.ReadFull(f, buf); err != nil {
				t.Fatal(err)
			}
			done := make(chan error)
			go func() { done <- f.Close() }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Close hung")
			}
		})
	}
}

// TestSharedTruncatedRIB checks the real cut-short RouteViews RIB heads
// against compress/bzip2: same bytes, then io.ErrUnexpectedEOF.
func TestSharedTruncatedRIB(t *testing.T) {
	if testing.Short() {
		t.Skip("decompresses 27 MB")
	}
	for _, name := range []string{
		"mrt/rib.20140523.0600.route-views2.first1MB-truncated.bz2",
		"mrt/rib6.20151101.0600.route-views6.first1MB-truncated.bz2",
	} {
		t.Run(filepath.Base(name), func(t *testing.T) {
			path := testutil.SharedData(t, name)
			f, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got, err := io.ReadAll(f)
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("err = %v, want io.ErrUnexpectedEOF", err)
			}
			raw, _ := os.Open(path)
			defer raw.Close()
			want, _ := io.ReadAll(stdbzip2.NewReader(raw))
			if !bytes.Equal(got, want) {
				t.Errorf("got %d bytes, compress/bzip2 gives %d (equal prefix: %v)",
					len(got), len(want), bytes.HasPrefix(want, got))
			}
		})
	}
}
