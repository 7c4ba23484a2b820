package reports

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
)

// jsonStream writes indented JSON a piece at a time, in the exact layout
// of encoding/json's Encoder with SetIndent("", "  "): each value is
// marshalled through one reused Encoder whose prefix is the indentation of
// the level it sits at, so memory is bounded by the largest element, not
// the document.
type jsonStream struct {
	w   *bufio.Writer
	buf bytes.Buffer
	enc *json.Encoder
	err error
	// scratch holds one row written by appendInvalidJSON.
	scratch []byte
}

func newJSONStream(w io.Writer) *jsonStream {
	s := &jsonStream{w: bufio.NewWriterSize(w, 64<<10)}
	s.enc = json.NewEncoder(&s.buf)
	return s
}

// close flushes what was written, or returns the first error.
func (s *jsonStream) close() error {
	if s.err != nil {
		return s.err
	}
	return s.w.Flush()
}

func (s *jsonStream) raw(b string) {
	if s.err == nil {
		_, s.err = s.w.WriteString(b)
	}
}

// value writes v as the Encoder would at nesting depth (its first line
// already positioned by the caller).
func (s *jsonStream) value(v any, depth int) {
	if s.err != nil {
		return
	}
	s.buf.Reset()
	s.enc.SetIndent(jsonIndent(depth), "  ")
	if s.err = s.enc.Encode(v); s.err != nil {
		return
	}
	b := bytes.TrimSuffix(s.buf.Bytes(), []byte{'\n'}) // Encode's newline
	_, s.err = s.w.Write(b)
}

// invalid writes an element of "invalids" (depth 2) through
// appendInvalidJSON, or through encoding/json when that declines it.
func (s *jsonStream) invalid(inv *Invalid) {
	if s.err != nil {
		return
	}
	b, ok := appendInvalidJSON(s.scratch[:0], inv, jsonIndent(2))
	s.scratch = b[:0]
	if !ok {
		s.value(inv, 2)
		return
	}
	_, s.err = s.w.Write(b)
}

func jsonIndent(depth int) string {
	const spaces = "                "
	if 2*depth <= len(spaces) {
		return spaces[:2*depth]
	}
	return string(bytes.Repeat([]byte("  "), depth))
}

// jsonList writes the member `"name": [...]` of the top-level object
// (depth 1), its elements one at a time. A nil list is null and an empty
// one [], as encoding/json writes them.
func jsonList[T any](s *jsonStream, name string, list []T, last bool) {
	s.raw("  \"" + name + "\": ")
	switch {
	case list == nil:
		s.raw("null")
	case len(list) == 0:
		s.raw("[]")
	default:
		s.raw("[\n")
		for i := range list {
			s.raw("    ")
			if inv, ok := any(&list[i]).(*Invalid); ok {
				s.invalid(inv)
			} else {
				s.value(&list[i], 2)
			}
			if i < len(list)-1 {
				s.raw(",\n")
			} else {
				s.raw("\n")
			}
		}
		s.raw("  ]")
	}
	if !last {
		s.raw(",")
	}
	s.raw("\n")
}

// writeJSONStream writes rep member by member in Report's field order.
// TestWriteJSONStreamMatchesEncoder compares it with encoding/json on
// reports with every field set and with empty and nil lists, and fails
// when Report gains a field this function does not write.
func writeJSONStream(w io.Writer, rep Report) error {
	s := newJSONStream(w)
	s.raw("{\n  \"summary\": ")
	s.value(&rep.Summary, 1)
	s.raw(",\n")
	jsonList(s, "invalids", rep.Invalids, false)
	jsonList(s, "origins", rep.Origins, len(rep.Peers) == 0 && len(rep.ASPAPaths) == 0)
	if len(rep.Peers) > 0 { // omitempty
		jsonList(s, "peers", rep.Peers, len(rep.ASPAPaths) == 0)
	}
	if len(rep.ASPAPaths) > 0 { // omitempty
		jsonList(s, "aspa_invalid_paths", rep.ASPAPaths, true)
	}
	s.raw("}\n")
	return s.close()
}
