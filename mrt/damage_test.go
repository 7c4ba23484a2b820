package mrt

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/rovimpact/rovimpact/internal/compressed"
	"github.com/rovimpact/rovimpact/internal/testutil"
	"github.com/rovimpact/rovimpact/route"
)

// bzBlocks finds the byte offsets of bzip2 block magics by brute force.
func bzBlocks(data []byte) []int64 {
	var out []int64
	var v uint64
	for i := 0; i < len(data)*8; i++ {
		v = (v<<1 | uint64(data[i/8]>>(7-i%8)&1)) & (1<<48 - 1)
		if i >= 47 && v == 0x314159265359 {
			out = append(out, int64(i-47)/8)
		}
	}
	return out
}

// TestInputError pins what the CLI reports as lost (issue 12, item 1): the
// kind of damage, the record and offset where reading stopped, the records
// and routes delivered before, and for a compressed file where the damage
// is and how many compressed bytes after it yielded nothing.
func TestInputError(t *testing.T) {
	bz := testutil.NeedTool(t, "bzip2", "bzip2")
	raw, err := os.ReadFile(filepath.Join("testdata", "updates.20151023.pch-et.head200.mrt"))
	if err != nil {
		t.Fatal(err)
	}
	raw = bytes.Repeat(raw, 4) // several 100 kB blocks at -1
	cmd := exec.Command(bz, "-1", "-c")
	cmd.Stdin = bytes.NewReader(raw)
	data, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	blocks := bzBlocks(data)
	if len(blocks) < 3 {
		t.Fatalf("%d bzip2 blocks, want 3 or more", len(blocks))
	}
	whole, _ := readAll(t, raw, "raw")
	read := func(t *testing.T, d []byte) (int, *route.InputError) {
		path := filepath.Join(t.TempDir(), "in.bz2")
		if err := os.WriteFile(path, d, 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := compressed.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rd := NewReader(f, Options{Name: path})
		n := 0
		for rd.Next() {
			n++
		}
		var ie *route.InputError
		if !errors.As(rd.Err(), &ie) {
			t.Fatalf("Err() = %v, want an *route.InputError", rd.Err())
		}
		if ie.Routes != rd.Stats().Routes || ie.Routes != int64(n) {
			t.Errorf("Routes = %d, delivered %d", ie.Routes, n)
		}
		if ie.Name != path || ie.Record != ie.Records+1 {
			t.Errorf("Name %q, Record %d, Records %d", ie.Name, ie.Record, ie.Records)
		}
		return n, ie
	}
	t.Run("bit flip in block 2", func(t *testing.T) {
		d := bytes.Clone(data)
		d[(blocks[1]+blocks[2])/2] ^= 0x08
		n, ie := read(t, d)
		if ie.Damage != route.Corrupt || errors.Is(ie, io.ErrUnexpectedEOF) {
			t.Errorf("Damage %v (%v), want corrupt", ie.Damage, ie)
		}
		if ie.CompressedOffset != blocks[1] || ie.Unread != int64(len(d))-blocks[1] {
			t.Errorf("CompressedOffset %d, Unread %d; want %d, %d", ie.CompressedOffset, ie.Unread, blocks[1], int64(len(d))-blocks[1])
		}
		if n == 0 || n >= len(whole) {
			t.Errorf("%d routes of %d before the damaged block", n, len(whole))
		}
	})
	t.Run("cut in block 3", func(t *testing.T) {
		n, ie := read(t, data[:blocks[2]+1000])
		if ie.Damage != route.Truncated || !errors.Is(ie, io.ErrUnexpectedEOF) {
			t.Errorf("Damage %v (%v), want truncated", ie.Damage, ie)
		}
		if ie.CompressedOffset != int64(blocks[2]+1000) || ie.Unread != 0 {
			t.Errorf("CompressedOffset %d, Unread %d; want the end of the file, 0", ie.CompressedOffset, ie.Unread)
		}
		if n == 0 || n >= len(whole) {
			t.Errorf("%d routes of %d before the cut", n, len(whole))
		}
	})
	t.Run("raw cut", func(t *testing.T) {
		rd := NewReader(bytes.NewReader(raw[:len(raw)-7]), Options{Name: "raw"})
		for rd.Next() {
		}
		var ie *route.InputError
		if !errors.As(rd.Err(), &ie) || ie.Damage != route.Truncated || ie.CompressedOffset != -1 || ie.Unread != -1 {
			t.Errorf("Err() = %#v, want a truncation with no compressed offset", rd.Err())
		}
	})
}
