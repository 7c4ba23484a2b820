package compressed

import (
	"bytes"
	stdgzip "compress/gzip"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/rovimpact/rovimpact/internal/testutil"
)

// gzipOf compresses plain at level into one gzip member per part.
func gzipOf(t testing.TB, level int, parts ...[]byte) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, p := range parts {
		w, err := gzip.NewWriterLevel(&b, level)
		if err != nil {
			t.Fatal(err)
		}
		w.Name = "x.mrt" // FNAME, as gzip(1) writes it
		w.Write(p)
		w.Close()
	}
	return b.Bytes()
}

// TestExactInflater checks the exact decoder against klauspost on whole
// streams: stored (level 0), fixed-code (tiny input) and dynamic blocks,
// several members.
func TestExactInflater(t *testing.T) {
	plain := sampleText()
	tests := []struct {
		name string
		data []byte
		want []byte
	}{
		{"dynamic", gzipOf(t, 6, plain), plain},
		{"stored", gzipOf(t, 0, plain[:100_000]), plain[:100_000]},
		{"fixed", gzipOf(t, 9, []byte("TABLE_DUMP2|1|B|")), []byte("TABLE_DUMP2|1|B|")},
		{"best speed, members", gzipOf(t, 1, plain[:1000], nil, plain[1000:300_000]), plain[:300_000]},
		{"noise", gzipOf(t, 9, noiseText(200_000)), noiseText(200_000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := io.ReadAll(newExactInflater(bytes.NewReader(tt.data)))
			if err != nil || !bytes.Equal(got, tt.want) {
				t.Fatalf("got %d bytes, err %v; want %d bytes", len(got), err, len(tt.want))
			}
		})
	}
}

// TestGzipCuts cuts gzip streams at many offsets: every byte whose bits
// are in the input comes out, as zcat delivers it (4 of 40 cuts of the PCH
// table lost the last complete record: klauspost, like compress/flate,
// reads a code's worth of bits ahead), then io.ErrUnexpectedEOF.
func TestGzipCuts(t *testing.T) {
	zcat := testutil.NeedTool(t, "zcat", "gzip")
	plain := sampleText()[:200_000]
	data := gzipOf(t, 6, plain[:50_000], plain[50_000:])
	rng := rand.New(rand.NewPCG(3, 4))
	cuts := []int{11, 12, 20, len(data) - 9, len(data) - 1}
	for range 60 {
		cuts = append(cuts, 10+rng.IntN(len(data)-10))
	}
	short, more := 0, 0
	for _, n := range cuts {
		cut := data[:n]
		r, err := NewReader(bytes.NewReader(cut))
		var got []byte
		if err == nil {
			got, err = io.ReadAll(r)
			r.Close()
		}
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("cut %d: err = %v, want io.ErrUnexpectedEOF", n, err)
		}
		if !bytes.HasPrefix(plain, got) {
			t.Fatalf("cut %d: the %d bytes delivered are not a prefix of the original", n, len(got))
		}
		cmd := exec.Command(zcat)
		cmd.Stdin = bytes.NewReader(cut)
		want, _ := cmd.Output() // exits 1 on the cut
		// gzip(1)'s own inflate sometimes stops one symbol short too, so
		// zcat is a floor; the prefix check above is the ceiling.
		if len(got) < len(want) {
			t.Errorf("cut %d: %d bytes out, zcat gives %d", n, len(got), len(want))
		}
		if len(got) > len(want) {
			more++
		}
		// klauspost alone, for the record of how often it fell short.
		if zr, err := gzip.NewReader(bytes.NewReader(cut)); err == nil {
			k, _ := io.Copy(io.Discard, zr)
			if int(k) < len(want) {
				short++
			}
		}
	}
	t.Logf("klauspost alone fell short of zcat at %d of %d cuts; we gave more than zcat at %d", short, len(cuts), more)
	if short == 0 {
		t.Log("no cut exercised the exact second pass")
	}
}

// TestGzipPCHCut is the case in issue 12: the PCH update file cut at
// 998195 bytes, where zcat gives 3,091,477 bytes (269,210 routes with
// bgpdump) and klauspost alone 3,091,475.
func TestGzipPCHCut(t *testing.T) {
	path := testutil.SharedData(t, "mrt/updates.20151023.0201.pch-route-collector.as3856-fulltable.bgp4mp_et.gz")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(bytes.NewReader(data[:998195]))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	n, err := io.Copy(io.Discard, r)
	if n != 3091477 || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("got %d bytes, err %v; want 3091477 and io.ErrUnexpectedEOF", n, err)
	}
}

// FuzzExactInflater compares the exact decoder with klauspost on any
// input: where klauspost accepts a stream the output is identical; where it
// reports a cut, its output is a prefix of ours (we read no bits ahead) and
// we report the cut too. Output is capped so a bomb cannot exhaust memory.
func FuzzExactInflater(f *testing.F) {
	plain := sampleText()[:20_000]
	whole := gzipOf(f, 6, plain)
	f.Add(whole)                          // dynamic blocks
	f.Add(whole[:len(whole)/2])           // cut in a block
	f.Add(gzipOf(f, 0, plain[:3000]))     // stored
	f.Add(gzipOf(f, 9, []byte("abc")))    // fixed codes
	f.Add(gzipOf(f, 1, []byte("a"), nil)) // two members
	f.Fuzz(func(t *testing.T, data []byte) {
		const limit = 8 << 20
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		want, kerr := io.ReadAll(io.LimitReader(zr, limit))
		got, gerr := io.ReadAll(io.LimitReader(newExactInflater(bytes.NewReader(data)), limit))
		if len(want) == limit || len(got) == limit {
			return
		}
		// klauspost is laxer than zlib about invalid code tables: it may
		// decode bytes from a table zlib rejects and then call the end a
		// cut. compress/gzip, a third decoder as strict as zlib, decides
		// which inputs are truly cut; where it says corrupt, the exact
		// decoder only has to stop (it runs only after a cut in
		// production, and the damage is reported).
		sr, err := stdgzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		std, serr := io.ReadAll(io.LimitReader(sr, limit))
		switch {
		case len(std) == limit:
		// Bytes after a complete member that do not form a gzip header
		// (a cut or damaged second member) end klauspost's stream without
		// an error, while the exact decoder reports them: the exact decoder
		// only runs after klauspost reports a cut, so what matters here is
		// that the delivered bytes agree.
		case kerr == nil && !bytes.Equal(got, want):
			t.Fatalf("klauspost accepts %d bytes; exact gives %d, err %v", len(want), len(got), gerr)
		case errors.Is(serr, io.ErrUnexpectedEOF) && !bytes.HasPrefix(got, std):
			t.Fatalf("cut: compress/gzip's %d bytes are not a prefix of exact's %d (%v)", len(std), len(got), gerr)
		case errors.Is(serr, io.ErrUnexpectedEOF) && errors.Is(kerr, io.ErrUnexpectedEOF) && !bytes.HasPrefix(got, want):
			t.Fatalf("cut: klauspost's %d bytes are not a prefix of exact's %d", len(want), len(got))
		case errors.Is(serr, io.ErrUnexpectedEOF) && !errors.Is(gerr, io.ErrUnexpectedEOF):
			t.Fatalf("cut: compress/gzip says %v, exact %v", serr, gerr)
		}
	})
}

// TestGzipTrailingMember: RFC 1952 §2.2, a gzip file is a series of
// members. A damaged or cut member after a sound one is reported (the
// fuzzer's case: a second header cut inside its FCOMMENT field used to end
// the stream cleanly, hiding the loss), every member's data is delivered,
// and a file of many empty members is read without recursion.
func TestGzipTrailingMember(t *testing.T) {
	first := gzipOf(t, 6, []byte("first member\n"))
	second := gzipOf(t, 6, []byte("second member\n"))
	for _, tc := range []struct {
		name   string
		data   []byte
		want   string
		damage Damage // 0: whole
	}{
		{"two members", append(slices.Clone(first), second...), "first member\nsecond member\n", 0},
		{"second header cut in FCOMMENT", append(slices.Clone(first), "\x1f\x8b\x08\x100000000"...), "first member\n", Truncated},
		{"second header cut", append(slices.Clone(first), second[:5]...), "first member\n", Truncated},
		{"junk after a member", append(slices.Clone(first), "junk after the member"...), "first member\n", Corrupt},
		{"second member cut", append(slices.Clone(first), second[:len(second)-4]...), "first member\nsecond member\n", Truncated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(tc.data))
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(r)
			if string(got) != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			var ce *Error
			switch {
			case tc.damage == 0 && err != nil:
				t.Errorf("err %v, want none", err)
			case tc.damage != 0 && (!errors.As(err, &ce) || ce.Damage != tc.damage):
				t.Errorf("err %v, want a %v *Error", err, tc.damage)
			}
		})
	}
	empty := gzipOf(t, 6, []byte{})
	many := bytes.Repeat(empty, 200_000)
	many = append(many, gzipOf(t, 6, []byte("end\n"))...)
	r, err := NewReader(bytes.NewReader(many))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(r); err != nil || string(got) != "end\n" {
		t.Errorf("200,000 empty members then one: got %q, err %v", got, err)
	}
}
