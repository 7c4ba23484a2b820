package rov_test

import (
	"bytes"
	"compress/bzip2"
	"io"
	"os"
	"testing"

	"github.com/rovimpact/rovimpact/internal/testutil"
	"github.com/rovimpact/rovimpact/rov"
)

// BenchmarkLoadVRPsShared loads the real rpki-client export (723,524 VRPs,
// 75 MB of JSON, decompressed into memory first) and, in "index", builds
// the index as analyze does: the fixed cost of every study. It skips when
// ../shared is missing.
//
//	go test ./rov/ -run '^$' -bench LoadVRPsShared -benchtime 5x -cpuprofile /tmp/load.prof
func BenchmarkLoadVRPsShared(b *testing.B) {
	path := testutil.SharedData(b, "vrp/vrps.rpki-client.20250720T100143Z.json.bz2")
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	data, err := io.ReadAll(bzip2.NewReader(f))
	f.Close()
	if err != nil {
		b.Fatal(err)
	}
	for _, index := range []bool{false, true} {
		name := "load"
		if index {
			name = "load+index"
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				vrps, _, err := rov.LoadVRPs(bytes.NewReader(data), "vrps", rov.LoadOptions{})
				if err != nil {
					b.Fatal(err)
				}
				if index {
					rov.NewIndex(vrps)
				}
			}
		})
	}
}
