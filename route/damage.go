package route

import (
	"errors"
	"fmt"
	"io"

	"github.com/rovimpact/rovimpact/internal/compressed"
)

// Damage says how an input is damaged: Truncated (it ends inside a record
// or a compressed stream) or Corrupt (it contradicts itself).
type Damage = compressed.Damage

const (
	Truncated = compressed.Truncated
	Corrupt   = compressed.Corrupt
)

// InputError is what a Source's Err returns when its input was cut short
// or found corrupt, so the stream ended early: what was lost and where.
// Callers tell partial input from other failures (a disk error, an
// unreadable file) with errors.As; those are not *InputError. Truncated
// errors wrap io.ErrUnexpectedEOF.
//
// Damage a reader recovers from (a corrupt record inside a sound frame, a
// misframed stretch it resynchronised after) does not end the stream and is
// not an InputError: it is counted in Stats (Skipped, SkippedBytes,
// Problems).
type InputError struct {
	Name   string // file name given to the reader
	Damage Damage
	// Record is the 1-based number of the record (or text line) that could
	// not be read, and Offset its byte offset in the decompressed stream.
	Record int64
	Offset int64
	// Records and Routes count what was read and delivered before: every
	// complete record before the damage.
	Records int64
	Routes  int64
	// CompressedOffset is where in the compressed file the decompressor
	// found the damage, and Unread the compressed bytes from there to the
	// end of the file, which yielded nothing; both -1 when unknown
	// (uncompressed input, the damage found by the MRT decoder, a pipe).
	CompressedOffset int64
	Unread           int64
	Err              error // the cause: io.ErrUnexpectedEOF, a *compressed.Error, ...
}

func (e *InputError) Error() string {
	if e.Damage == Truncated {
		return fmt.Sprintf("mrt: %s: truncated record %d at offset %d: %v", e.Name, e.Record, e.Offset, e.Err)
	}
	return fmt.Sprintf("mrt: %s: corrupt input at record %d (offset %d): %v", e.Name, e.Record, e.Offset, e.Err)
}

func (e *InputError) Unwrap() error { return e.Err }

// InputErrorOf classifies a read error that stopped a reader (the binary
// MRT reader, the text reader): a cut (io.EOF inside a record,
// io.ErrUnexpectedEOF) or damage the decompressor found become an
// *InputError; anything else (an I/O error) is returned as nil. The
// message keeps its "mrt:" prefix, which users and goldens know.
func InputErrorOf(name string, err error, record, offset, records, routes int64) *InputError {
	e := &InputError{Name: name, Record: record, Offset: offset, Records: records, Routes: routes,
		CompressedOffset: -1, Unread: -1, Err: err}
	var ce *compressed.Error
	switch {
	case errors.As(err, &ce):
		e.Damage = ce.Damage
		e.CompressedOffset = ce.Offset
		e.Unread = ce.Unread()
	case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
		e.Damage = Truncated
		e.Err = io.ErrUnexpectedEOF
	default:
		return nil
	}
	return e
}
