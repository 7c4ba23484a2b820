package compressed

import (
	"bytes"
	stdbzip2 "compress/bzip2"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// bzBlockStarts returns the byte offsets of the block magics of a bzip2
// stream, found by brute force over every bit (the oracle for the offsets
// an Error names).
func bzBlockStarts(data []byte) []int64 {
	var out []int64
	var v uint64
	for i := 0; i < len(data)*8; i++ {
		v = (v<<1 | uint64(data[i/8]>>(7-i%8)&1)) & bzMagicMask
		if i >= 47 && v == bzBlockMagic {
			out = append(out, int64(i-47)/8)
		}
	}
	return out
}

// readDamaged reads data (as a file, so Size is known) and returns what
// came out and the *Error that ended it.
func readDamaged(t *testing.T, data []byte) ([]byte, *Error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "damaged")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	var ce *Error
	if err != nil {
		if !errors.As(err, &ce) {
			t.Fatalf("Open: %v is not an *Error", err)
		}
		return nil, ce
	}
	defer f.Close()
	got, err := io.ReadAll(f)
	if !errors.As(err, &ce) {
		t.Fatalf("ReadAll: %v (%T) is not an *Error", err, err)
	}
	if ce.Name != path || ce.Size != int64(len(data)) || ce.Out != int64(len(got)) {
		t.Errorf("Error{Name %q, Size %d, Out %d}, want {%q, %d, %d}", ce.Name, ce.Size, ce.Out, path, len(data), len(got))
	}
	if (ce.Damage == Truncated) != errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("%v: Damage %v, but errors.Is(io.ErrUnexpectedEOF) = %v", err, ce.Damage, errors.Is(err, io.ErrUnexpectedEOF))
	}
	return got, ce
}

// TestDamageKinds pins what a caller branches on (issue 12, item 1): a cut
// is Truncated at the end of input, a bzip2 block CRC mismatch is Corrupt at
// the damaged block, and so is damage followed by a cut (a bit flip inside a
// cut .bz2 was reported as a truncation after half the routes).
func TestDamageKinds(t *testing.T) {
	sample := bzip2Sample(t)
	plain := sampleText()
	starts := bzBlockStarts(sample)
	if len(starts) < 4 {
		t.Fatalf("sample.txt.bz2 has %d blocks, want 4 or more", len(starts))
	}
	// The decompressed size of the first block, what a reader delivers
	// before damage in the second.
	one := sample[:starts[1]+1] // the byte holding the magic holds block 1's last bits
	firstOut, _ := io.ReadAll(stdbzip2.NewReader(bytes.NewReader(one)))
	if len(firstOut) == 0 {
		t.Fatal("block 1 alone decodes to nothing")
	}

	flip := func(data []byte, at int64) []byte {
		d := bytes.Clone(data)
		d[at] ^= 0x10
		return d
	}
	mid2 := (starts[1] + starts[2]) / 2
	tests := []struct {
		name   string
		data   []byte
		damage Damage
		offset int64 // want Error.Offset
		out    int   // want bytes delivered; -1: any prefix of plain
	}{
		{"bzip2 cut inside block 3", sample[:starts[2]+500], Truncated, starts[2] + 500, -1},
		{"bzip2 block 2 damaged", flip(sample, mid2), Corrupt, starts[1], len(firstOut)},
		{"bzip2 block 2 damaged, then cut in block 4", flip(sample[:starts[3]+300], mid2), Corrupt, starts[1], len(firstOut)},
		{"bzip2 block 1 CRC field damaged", flip(sample, starts[0]+7), Corrupt, starts[0], 0},
		{"bzip2 stream CRC damaged", flip(sample, int64(len(sample)-2)), Corrupt, -2, len(plain)},
		{"bzip2 junk after the stream", append(bytes.Clone(sample), "JUNK"...), Corrupt, int64(len(sample)), len(plain)},
		{"gzip cut", compress(t, Gzip, plain)[:20000], Truncated, 20000, -1},
		{"gzip trailer CRC damaged", flipLast(compress(t, Gzip, plain), 6), Corrupt, -2, len(plain)},
		{"xz cut", compress(t, XZ, plain)[:20000], Truncated, -2, -1},
		{"zstd cut", compress(t, Zstd, plain)[:20000], Truncated, -2, -1},
		{"gzip header cut", compress(t, Gzip, plain)[:5], Truncated, -2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ce := readDamaged(t, tt.data)
			if ce.Damage != tt.damage {
				t.Errorf("Damage = %v, want %v (%v)", ce.Damage, tt.damage, ce)
			}
			if tt.offset >= -1 && ce.Offset != tt.offset {
				t.Errorf("Offset = %d, want %d (%v)", ce.Offset, tt.offset, ce)
			}
			if ce.Offset < 0 || ce.Offset > int64(len(tt.data)) {
				t.Errorf("Offset = %d, outside the %d-byte input", ce.Offset, len(tt.data))
			}
			if got := ce.Unread(); got != int64(len(tt.data))-ce.Offset {
				t.Errorf("Unread() = %d, want %d", got, int64(len(tt.data))-ce.Offset)
			}
			if tt.out >= 0 && len(got) != tt.out {
				t.Errorf("delivered %d bytes, want %d", len(got), tt.out)
			}
			if !bytes.HasPrefix(plain, got) {
				t.Errorf("the %d bytes delivered are not a prefix of the original", len(got))
			}
			if text, _ := ce.Damage.MarshalText(); string(text) != tt.damage.String() {
				t.Errorf("MarshalText = %q", text)
			}
		})
	}
}

func flipLast(data []byte, back int) []byte {
	d := bytes.Clone(data)
	d[len(d)-back] ^= 0x01
	return d
}

// TestBzip2BigBlocks decodes blocks that expand past bzHoldMax (runs of
// zeros at level 1: 100 kB blocks of about 5 MB each), which workers only
// verify and Read decodes a second time, streaming: whole, cut, and with a
// damaged block.
func TestBzip2BigBlocks(t *testing.T) {
	plain := make([]byte, 3*5_000_000+123)
	for i := 0; i < len(plain); i += 1_000_003 {
		plain[i] = byte(i) // a few non-zero bytes, so the blocks differ
	}
	data := bzTool(t, plain, "bzip2", "-1", "-c")
	starts := bzBlockStarts(data)
	if len(starts) < 3 {
		t.Fatalf("%d blocks, want 3 or more", len(starts))
	}
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	r.Close()
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("got %d bytes (err %v), want the %d bytes compressed", len(got), err, len(plain))
	}
	for i, cut := range []int64{starts[1] + 20, starts[2] - 3, int64(len(data) - 3)} {
		bzCheckCut(t, fmt.Sprintf("cut %d at %d", i, cut), data[:cut])
	}
	d := bytes.Clone(data)
	d[starts[1]+8] ^= 0x04 // the block CRC of block 2
	got, ce := readDamaged(t, d)
	if ce.Damage != Corrupt || ce.Offset != starts[1] {
		t.Errorf("block 2 CRC damaged: %v, want corrupt at %d", ce, starts[1])
	}
	// Block 1 alone, as a cut stream (bzCheckCut pins that against
	// compress/bzip2 above).
	r, _ = NewReader(bytes.NewReader(data[:starts[1]+1]))
	first, _ := io.ReadAll(r)
	r.Close()
	if len(first) == 0 || len(got) != len(first) {
		t.Errorf("delivered %d bytes, want the %d of block 1", len(got), len(first))
	}
}
