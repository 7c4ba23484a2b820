package reports

import (
	"fmt"
	"strings"
	"time"
)

// Loss kinds: the input ended before its data did, or bytes in it were
// wrong (a checksum mismatch, a record that does not decode).
const (
	LossTruncated = "truncated"
	LossCorrupt   = "corrupt"
)

// Loss is what a route file lost: the report covers only what was read
// before the damage, and says how much that was.
type Loss struct {
	Kind string `json:"kind"` // LossTruncated or LossCorrupt
	// Record and Offset locate the first damaged record: its 1-based
	// number and its byte offset in the decompressed data.
	Record int64 `json:"record"`
	Offset int64 `json:"offset"`
	// Records and Routes were read and used.
	Records int64 `json:"records_read"`
	Routes  int64 `json:"routes_read"`
	// BytesUnread are the decompressed bytes from the damaged record to
	// the end of the data that could still be decompressed, and
	// UnreadShare their share of all of it; data cut off by a truncation
	// is unknown and not counted. UnreadAtLeast: counting stopped at a
	// bound, so the figures are lower bounds.
	BytesUnread   int64   `json:"bytes_unread"`
	UnreadShare   float64 `json:"unread_share"`
	UnreadAtLeast bool    `json:"unread_at_least,omitempty"`
	// CompressedOffset is where in the compressed file the decompressor
	// found the damage and CompressedUnread the compressed bytes from there
	// to the end of the file, which yielded nothing (a corrupt bzip2 block
	// and all after it); both 0 when not known or not compressed.
	CompressedOffset int64 `json:"compressed_offset,omitempty"`
	CompressedUnread int64 `json:"compressed_bytes_unread,omitempty"`
	// CorruptRecords counts damaged records the reader skipped while
	// going on (framing intact).
	CorruptRecords int64  `json:"corrupt_records,omitempty"`
	Error          string `json:"error"`
}

// LossOf returns the loss of an input: its Loss, or for inputs recorded
// before Loss existed (history, report files) one made from its Error,
// which then only ever held a truncation. Nil for a whole file.
func LossOf(in Input) *Loss {
	if in.Loss != nil {
		return in.Loss
	}
	if in.Error == "" {
		return nil
	}
	return &Loss{Kind: LossTruncated, Records: in.Records, Routes: in.Routes, Error: in.Error}
}

// Describe is the one-line account of a loss, the same on stderr, in the
// table header and in the HTML banner: which file, what happened where,
// what was read and what was not.
func (l Loss) Describe(name string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", name, l.Kind)
	if l.Record > 0 {
		fmt.Fprintf(&b, " at record %d (byte %d of the decompressed data)", l.Record, l.Offset)
	}
	if l.CorruptRecords > 0 {
		fmt.Fprintf(&b, ", %d corrupt records skipped", l.CorruptRecords)
	}
	fmt.Fprintf(&b, ": %d routes read from %d records", l.Routes, l.Records)
	if l.BytesUnread > 0 {
		least := ""
		if l.UnreadAtLeast {
			least = "at least "
		}
		share := fmt.Sprintf("%.1f%%", 100*l.UnreadShare)
		if l.UnreadShare < 0.0005 {
			share = "<0.1%"
		}
		fmt.Fprintf(&b, "; %s%d bytes unread (%s)", least, l.BytesUnread, share)
	}
	if l.CompressedUnread > 0 {
		fmt.Fprintf(&b, "; %d compressed bytes from byte %d of the file not decompressed", l.CompressedUnread, l.CompressedOffset)
	}
	if l.Kind == LossTruncated {
		b.WriteString("; what followed the cut is unknown")
	}
	fmt.Fprintf(&b, " (%s)", l.Error)
	return b.String()
}

// Losses lists the Describe lines of a report's damaged inputs.
func Losses(s Summary) []string {
	var out []string
	for _, in := range s.Inputs {
		if l := LossOf(in); l != nil {
			out = append(out, l.Describe(in.Name))
		}
	}
	return out
}

// FormatAge writes an age as days and hours ("3d4h"), hours and minutes
// ("5h12m") or minutes ("7m"): the precision an operator judges a VRP
// set's freshness by.
func FormatAge(seconds int64) string {
	neg := ""
	if seconds < 0 {
		neg, seconds = "-", -seconds
	}
	d, h, m := seconds/86400, seconds%86400/3600, seconds%3600/60
	switch {
	case d > 0:
		return fmt.Sprintf("%s%dd%dh", neg, d, h)
	case h > 0:
		return fmt.Sprintf("%s%dh%dm", neg, h, m)
	}
	return fmt.Sprintf("%s%dm", neg, m)
}

// VRPAge is the table and HTML statement of the VRP set's age and where
// the build time came from.
func VRPAge(v VRPSummary) string {
	if v.BuildTime == nil {
		return builtText(nil, "")
	}
	return builtText(v.BuildTime, v.BuildTimeFrom) + ", " + FormatAge(v.AgeSeconds) + " old"
}

// builtText is "built 2025-07-20T02:00:00Z (exporter metadata)", or
// "build time unknown".
func builtText(t *time.Time, from string) string {
	if t == nil {
		return "build time unknown"
	}
	src := "exporter metadata"
	if from == "file_mtime" {
		src = "file modification time"
	}
	return fmt.Sprintf("built %s (%s)", t.UTC().Format("2006-01-02T15:04:05Z"), src)
}

// VRPSourceTimes is each VRP file's build time, for reports of sets made
// of several files ("a.json built 2025-07-20T02:00:00Z (exporter
// metadata); b.csv build time unknown"); "" for one file or none, whose
// time VRPAge already gives.
func VRPSourceTimes(v VRPSummary) string {
	if len(v.Sources) < 2 {
		return ""
	}
	parts := make([]string, len(v.Sources))
	for i, s := range v.Sources {
		name := s.File
		if name == "-" {
			name = "stdin"
		}
		parts[i] = name + " " + builtText(s.BuildTime, s.BuildTimeFrom)
	}
	return strings.Join(parts, "; ")
}

// RecordSpan is the time range of the route inputs' records ("2025-07-20T02:00:00Z
// to 2025-07-20T04:00:00Z"); "" when no input carries times.
func RecordSpan(inputs []Input) string {
	first, last := RecordTimes(inputs)
	if first.IsZero() {
		return ""
	}
	return first.Format(time.RFC3339) + " to " + last.Format(time.RFC3339)
}
