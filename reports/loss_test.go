package reports

import (
	"testing"
	"time"
)

func TestLossDescribe(t *testing.T) {
	for _, tc := range []struct {
		name string
		l    Loss
		want string
	}{
		{"truncated", Loss{Kind: LossTruncated, Record: 17, Offset: 3464, Records: 16, Routes: 494, BytesUnread: 1536, UnreadShare: 0.3072, Error: "e"},
			"f: truncated at record 17 (byte 3464 of the decompressed data): 494 routes read from 16 records; 1536 bytes unread (30.7%); what followed the cut is unknown (e)"},
		{"corrupt, lower bound, tiny share", Loss{Kind: LossCorrupt, Record: 2, Offset: 10, Records: 1, Routes: 5, BytesUnread: 3, UnreadShare: 0.0001, UnreadAtLeast: true, Error: "crc"},
			"f: corrupt at record 2 (byte 10 of the decompressed data): 5 routes read from 1 records; at least 3 bytes unread (<0.1%) (crc)"},
		{"corrupt records skipped", Loss{Kind: LossCorrupt, Record: 12, Offset: 4096, Records: 40, Routes: 900, CorruptRecords: 2, Error: "len"},
			"f: corrupt at record 12 (byte 4096 of the decompressed data), 2 corrupt records skipped: 900 routes read from 40 records (len)"},
		{"cut before the first record", Loss{Kind: LossTruncated, Error: "cut"},
			"f: truncated: 0 routes read from 0 records; what followed the cut is unknown (cut)"},
	} {
		if got := tc.l.Describe("f"); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

// TestLossOf: reports written before Loss existed (history runs, report
// files) carried a truncation only in Error.
func TestLossOf(t *testing.T) {
	if l := LossOf(Input{Name: "a"}); l != nil {
		t.Errorf("whole input: got %+v, want nil", l)
	}
	l := LossOf(Input{Name: "a", Records: 3, Routes: 7, Error: "mrt: a: truncated record 4 at offset 9: unexpected EOF"})
	if l == nil || l.Kind != LossTruncated || l.Routes != 7 || l.Records != 3 {
		t.Errorf("old-style input: got %+v", l)
	}
	own := &Loss{Kind: LossCorrupt}
	if l := LossOf(Input{Error: "x", Loss: own}); l != own {
		t.Errorf("input with Loss: got %+v, want its own", l)
	}
}

func TestVRPAge(t *testing.T) {
	built := time.Date(2025, 7, 20, 10, 1, 43, 0, time.UTC)
	for _, tc := range []struct {
		v    VRPSummary
		want string
	}{
		{VRPSummary{BuildTime: &built, BuildTimeFrom: "metadata", AgeSeconds: 86400 + 2*3600 + 59}, "built 2025-07-20T10:01:43Z (exporter metadata), 1d2h old"},
		{VRPSummary{BuildTime: &built, BuildTimeFrom: "file_mtime", AgeSeconds: 3*3600 + 7*60}, "built 2025-07-20T10:01:43Z (file modification time), 3h7m old"},
		{VRPSummary{BuildTime: &built, BuildTimeFrom: "metadata", AgeSeconds: 59}, "built 2025-07-20T10:01:43Z (exporter metadata), 0m old"},
		{VRPSummary{BuildTime: &built, BuildTimeFrom: "metadata", AgeSeconds: -7200}, "built 2025-07-20T10:01:43Z (exporter metadata), -2h0m old"},
		{VRPSummary{}, "build time unknown"},
	} {
		if got := VRPAge(tc.v); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}
