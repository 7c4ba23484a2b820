package rtr

import (
	"compress/bzip2"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/internal/testutil"
	"github.com/rovimpact/rovimpact/internal/testutil/stayrtr"
)

// sharedData finds shared/data beside the repository root; missing, it
// fails under CI and skips elsewhere.
func sharedData(t testing.TB) string {
	t.Helper()
	dir, _ := filepath.Abs(".")
	for {
		p := filepath.Join(dir, "shared", "data")
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("shared/data not found")
	}
	t.Skip("shared/data not found beside the repository")
	return ""
}

// realVRPFile converts the shared rpki-client export to stayrtr JSON
// without "expires" (its July 2025 dates would make stayrtr drop every
// VRP) and returns the file and its VRP count.
func realVRPFile(b testing.TB, dir string) (string, int) {
	b.Helper()
	src := filepath.Join(sharedData(b), "vrp", "vrps.rpki-client.20250720T100143Z.json.bz2")
	f, err := os.Open(src)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var in struct {
		ROAs []struct {
			ASN       uint32 `json:"asn"`
			Prefix    string `json:"prefix"`
			MaxLength uint8  `json:"maxLength"`
			TA        string `json:"ta"`
		} `json:"roas"`
	}
	if err := json.NewDecoder(bzip2.NewReader(f)).Decode(&in); err != nil {
		b.Fatalf("%s: %v", src, err)
	}
	var out struct {
		ROAs []jsonROA `json:"roas"`
	}
	out.ROAs = make([]jsonROA, len(in.ROAs))
	for i, r := range in.ROAs {
		out.ROAs[i] = jsonROA{Prefix: r.Prefix, MaxLength: r.MaxLength, ASN: fmt.Sprintf("AS%d", r.ASN), TA: r.TA}
	}
	path := filepath.Join(dir, "vrps.json")
	w, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := json.NewEncoder(w).Encode(out); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return path, len(in.ROAs)
}

// captureReset sends a Reset Query and returns the raw response up to and
// including End of Data; it retries while the cache has no data yet.
func captureReset(b testing.TB, addr string) []byte {
	b.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		q := PDU{Version: 1, Type: TypeResetQuery}
		conn.Write(AppendPDU(nil, &q))
		var buf []byte
		r := NewReader(teeTo{conn, &buf})
		var p PDU
		for {
			if err := r.Next(&p); err != nil {
				b.Fatalf("capturing: %v", err)
			}
			if p.Type == TypeErrorReport { // No Data Available: still loading
				break
			}
			if p.Type == TypeEndOfData {
				conn.Close()
				return buf[:r.Offset()]
			}
		}
		conn.Close()
		time.Sleep(200 * time.Millisecond)
	}
	b.Fatal("stayrtr served no data within 60 s")
	return nil
}

type teeTo struct {
	r   io.Reader
	buf *[]byte
}

func (t teeTo) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	*t.buf = append(*t.buf, p[:n]...)
	return n, err
}

// BenchmarkFullSync measures a full Reset Query sync of the real VRP set
// (723k VRPs): "decode" reads the captured bytes from memory (the decoder
// alone, the baseline), "client" is a Client syncing from the real stayrtr
// over loopback (socket, decoder, sequence checks, map, sorted Update).
func BenchmarkFullSync(b *testing.B) {
	if testing.Short() {
		b.Skip("loads 75 MB of JSON into stayrtr")
	}
	bin := testutil.NeedTool(b, "stayrtr", "stayrtr")
	dir := b.TempDir()
	file, n := realVRPFile(b, dir)
	addr := freeAddr(b)
	stayrtr.Start(b, bin, file, addr)
	wire := captureReset(b, addr)

	b.Run("decode", func(b *testing.B) {
		b.SetBytes(int64(len(wire)))
		b.ReportAllocs()
		var p PDU
		for b.Loop() {
			r := NewReader(bytesReader(wire))
			prefixes := 0
			for {
				err := r.Next(&p)
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				if p.Type == TypeIPv4Prefix || p.Type == TypeIPv6Prefix {
					prefixes++
				}
			}
			if prefixes < n*9/10 {
				b.Fatalf("%d prefixes, want about %d", prefixes, n)
			}
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "VRPs/s")
	})
	b.Run("socket", func(b *testing.B) {
		// The cache's side: the same sync read off the socket and only
		// framed, no state kept.
		b.SetBytes(int64(len(wire)))
		b.ReportAllocs()
		for b.Loop() {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				b.Fatal(err)
			}
			q := PDU{Version: 1, Type: TypeResetQuery}
			conn.Write(AppendPDU(nil, &q))
			r := NewReader(conn)
			var p PDU
			for p.Type != TypeEndOfData {
				if err := r.Next(&p); err != nil {
					b.Fatal(err)
				}
			}
			conn.Close()
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "VRPs/s")
	})
	b.Run("client", func(b *testing.B) {
		b.SetBytes(int64(len(wire)))
		b.ReportAllocs()
		for b.Loop() {
			c := NewClient(Config{Addr: addr, RetryInterval: 100 * time.Millisecond})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { c.Run(ctx); close(done) }()
			u := <-c.Updates()
			if !u.Reset || len(u.Announced) < n*9/10 {
				b.Fatalf("first Update: reset %t, %d VRPs, want about %d", u.Reset, len(u.Announced), n)
			}
			cancel()
			for range c.Updates() {
			}
			<-done
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "VRPs/s")
	})
}

type byteReader struct{ b []byte }

func bytesReader(b []byte) *byteReader { return &byteReader{b} }

func (r *byteReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}
