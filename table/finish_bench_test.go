package table

import (
	"bytes"
	"testing"

	"github.com/rovimpact/rovimpact/mrt"
)

// BenchmarkFinishSort is Finish's ordering of a full table's replayed
// paths alone (bucketedPaths), on the PCH table read once.
func BenchmarkFinishSort(b *testing.B) {
	data := decompressed(b, pchFullTable)
	in := NewIngester(New(), IngestOptions{})
	if err := in.Read(mrt.NewReader(bytes.NewReader(data), mrt.Options{Name: pchFullTable})); err != nil {
		b.Fatal(err)
	}
	order := make([]int, len(in.peers))
	for i := range order {
		order[i] = i
	}
	for b.Loop() {
		in.bucketedPaths(order)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*in.n), "ns/path")
}
