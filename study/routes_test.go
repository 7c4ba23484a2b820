package study

import (
	"compress/bzip2"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"reflect"
	"syscall"
	"testing"

	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/route"
)

// locErr is a reader error that locates itself (the typed error the
// readers may come to return).
type locErr struct{ rec, off int64 }

func (e locErr) Error() string { return "bad record somewhere" }
func (e locErr) Record() int64 { return e.rec }
func (e locErr) Offset() int64 { return e.off }
func (e locErr) Unwrap() error { return io.ErrUnexpectedEOF }

// TestInputLoss pins the adapter from the readers' errors and Stats to
// reports.Loss: kind, location, what was read and what was not.
func TestInputLoss(t *testing.T) {
	st := route.Stats{Records: 17, Routes: 494, Bytes: 5000, Skipped: map[string]int64{}}
	truncated := fmt.Errorf("mrt: x.mrt: truncated record 17 at offset 3464: %w", io.ErrUnexpectedEOF)
	crc := fmt.Errorf("x.bz2: bzip2: reading record 9 at offset 800: %w", bzip2.StructuralError("block checksum mismatch"))
	text := fmt.Errorf("mrt: x.txt: line 5 (offset 100): %w", io.ErrUnexpectedEOF)
	corrupt := route.Stats{Records: 40, Routes: 900, Skipped: map[string]int64{"corrupt": 2},
		Problems: []route.Problem{{Record: 12, Offset: 4096, Err: "record length 99999999 exceeds the 16777216 limit"}}}
	for _, tc := range []struct {
		name    string
		st      route.Stats
		err     error
		total   int64
		atLeast bool
		want    *reports.Loss
	}{
		{"whole file", st, nil, 5000, false, nil},
		{"truncated: the cut record's bytes are unread", st, truncated, 5000, false, &reports.Loss{Kind: "truncated", Record: 17, Offset: 3464,
			Records: 16, Routes: 494, BytesUnread: 1536, UnreadShare: 1536.0 / 5000, Error: truncated.Error()}},
		{"checksum mismatch is corruption; the rest of the data is unread", st, crc, 10000, true, &reports.Loss{Kind: "corrupt", Record: 9, Offset: 800,
			Records: 8, Routes: 494, BytesUnread: 9200, UnreadShare: 0.92, UnreadAtLeast: true, Error: crc.Error()}},
		{"text line", route.Stats{Records: 5, Routes: 4}, text, 100, false, &reports.Loss{Kind: "truncated", Record: 5, Offset: 100,
			Records: 4, Routes: 4, Error: text.Error()}},
		{"typed error locates itself", st, locErr{3, 30}, 60, false, &reports.Loss{Kind: "truncated", Record: 3, Offset: 30,
			Records: 2, Routes: 494, BytesUnread: 30, UnreadShare: 0.5, Error: "bad record somewhere"}},
		{"unlocated error: the offset reached", st, errors.New("zstd: corrupt block"), 6000, false, &reports.Loss{Kind: "corrupt", Offset: 5000,
			Records: 17, Routes: 494, BytesUnread: 1000, UnreadShare: 1000.0 / 6000, Error: "zstd: corrupt block"}},
		{"corrupt records skipped, framing intact", corrupt, nil, 0, false, &reports.Loss{Kind: "corrupt", Record: 12, Offset: 4096,
			Records: 40, Routes: 900, CorruptRecords: 2, Error: "record length 99999999 exceeds the 16777216 limit"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := inputLoss(tc.st, tc.err, tc.total, tc.atLeast)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestIsSystemError: the operating system failing to read a file is not
// damage in the data (exit 1, not 4).
func TestIsSystemError(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&fs.PathError{Op: "read", Path: "x", Err: syscall.EIO}, true},
		{fmt.Errorf("mrt: x: reading record 3 at offset 9: %w", syscall.EIO), true},
		{fmt.Errorf("mrt: x: truncated record 3 at offset 9: %w", io.ErrUnexpectedEOF), false},
		{bzip2.StructuralError("bad magic value"), false},
	} {
		if got := isSystemError(tc.err); got != tc.want {
			t.Errorf("isSystemError(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
