package compressed

import (
	stdbzip2 "compress/bzip2"
	"errors"
	"io"
	"os"
	"testing"

	"github.com/rovimpact/rovimpact/internal/testutil"
)

// BenchmarkBzip2 compares this package's block-parallel bzip2 with the
// standard library's sequential decoder on the same real files, so the
// ratio is measured in one run on one machine. MB/s is decompressed bytes.
// The RIB heads are cut short: both decoders deliver every complete block
// and then io.ErrUnexpectedEOF, which counts as the end here.
func BenchmarkBzip2(b *testing.B) {
	for _, bf := range []struct{ short, name string }{
		{"vrp", "vrp/vrps.rpki-client.20250720T100143Z.json.bz2"},
		{"updates", "mrt/updates.20260222.1530.route-views2.bz2"},
		{"rib-cut", "mrt/rib.20140523.0600.route-views2.first1MB-truncated.bz2"},
		{"rib6-cut", "mrt/rib6.20151101.0600.route-views6.first1MB-truncated.bz2"},
	} {
		path := testutil.SharedData(b, bf.name)
		b.Run("stdlib/"+bf.short, func(b *testing.B) {
			benchDecode(b, path, func(f *os.File) io.Reader { return stdbzip2.NewReader(f) })
		})
		b.Run("compressed/"+bf.short, func(b *testing.B) {
			benchDecode(b, path, nil)
		})
	}
}

// BenchmarkGzip measures gzip through the pipe on the largest shared MRT file.
func BenchmarkGzip(b *testing.B) {
	path := testutil.SharedData(b, "mrt/updates.20151023.0201.pch-route-collector.as3856-fulltable.bgp4mp_et.gz")
	benchDecode(b, path, nil)
}

// benchDecode reads path to the end per iteration, through wrap(file) when
// wrap is set and through Open otherwise.
func benchDecode(b *testing.B, path string, wrap func(*os.File) io.Reader) {
	b.ReportAllocs()
	buf := make([]byte, 64<<10)
	var n int64
	for b.Loop() {
		var r io.Reader
		var c io.Closer
		if wrap != nil {
			f, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			r, c = wrap(f), f
		} else {
			f, err := Open(path)
			if err != nil {
				b.Fatal(err)
			}
			r, c = f, f
		}
		m, err := io.CopyBuffer(io.Discard, r, buf)
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			b.Fatal(err)
		}
		c.Close()
		n = m
	}
	b.SetBytes(n)
}
