package compressed

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"
)

// FuzzNewReader feeds arbitrary bytes, seeded with a valid stream of every
// format and truncated copies: whatever the input, reading must end (no
// hang, no panic), raw input must come back unchanged, and output must never
// be produced together with a silent clean end for a stream that is cut
// short of its trailer. bzip2 input is also decoded with compress/bzip2
// (bzCheckWeak): identical output when it accepts, an error and a prefix of
// its output when it rejects.
func FuzzNewReader(f *testing.F) {
	plain := []byte("TABLE_DUMP2|1400824800|B|12.0.1.63|7018|1.0.0.0/24|7018 3356 15169|15169\n")
	for _, format := range []Format{Raw, Gzip, XZ, Zstd} {
		data := compress(f, format, plain)
		f.Add(data)
		f.Add(data[:len(data)/2])
	}
	bz := bzip2Sample(f)
	f.Add(bz[:4096])
	for _, name := range []string{"line.txt.bz2", "concat3.bz2"} {
		data := readTestdata(f, name)
		f.Add(data)
		f.Add(data[:len(data)-5])
		f.Add(append(bytes.Clone(data), "BZh9junk"...))
	}
	f.Add([]byte("BZh9"))
	f.Add([]byte{0x1f, 0x8b})
	fulls := map[Format][]byte{}
	for _, format := range []Format{Gzip, XZ, Zstd} {
		fulls[format] = compress(f, format, plain)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := NewReader(bytes.NewReader(in))
		if err != nil {
			if Detect(in) == Raw {
				t.Fatalf("raw input rejected: %v", err)
			}
			return
		}
		defer r.Close()
		var got []byte
		done := make(chan struct{})
		go func() {
			got, err = io.ReadAll(io.LimitReader(r, 64<<20))
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("reading %d bytes (% x...) hangs", len(in), in[:min(len(in), 16)])
		}
		if Detect(in) == Bzip2 {
			bzCheckWeak(t, "input", in)
		}
		if Detect(in) == Raw {
			if err != nil || !bytes.Equal(got, in) {
				t.Fatalf("raw input changed: err %v, %d bytes in, %d out", err, len(in), len(got))
			}
			return
		}
		// A compressed stream that is a strict prefix of a valid one
		// cannot end cleanly: checked on the seeds' truncated halves.
		for format, full := range fulls {
			if len(in) < len(full) && len(in) > len(full)/3 && bytes.HasPrefix(full, in) && err == nil {
				t.Fatalf("%v stream cut at %d of %d bytes ended cleanly", format, len(in), len(full))
			}
		}
		if err != nil && errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("io.EOF wrapped in an error: %v", err)
		}
	})
}
