package reports

import (
	"io"
)

// NDJSON (--format ndjson) writes a document's rows one compact JSON
// object per line, with the field names and values of the same rows in
// the document's JSON: a line is what one element of the JSON lists
// holds, so `jq`, DuckDB's read_json or a log shipper can take rows one at
// a time. Documents with several kinds of rows (diffs) add a "change"
// member first, with the CSV's change column's values.

// ndjsonWriter writes one compact JSON value per line: a jsonStream whose
// encoder is never indented.
type ndjsonWriter struct{ *jsonStream }

func newNDJSON(w io.Writer) *ndjsonWriter { return &ndjsonWriter{newJSONStream(w)} }

// row writes v on its own line; with tag set, v (a JSON object) gets the
// member "change": tag first.
func (n *ndjsonWriter) row(tag string, v any) {
	if n.err != nil {
		return
	}
	n.buf.Reset()
	if n.err = n.enc.Encode(v); n.err != nil { // Encode ends the line
		return
	}
	b := n.buf.Bytes()
	if tag != "" {
		n.w.WriteString(`{"change":"` + tag + `"`)
		if len(b) > 0 && b[0] == '{' {
			b = b[1:]
			if len(b) > 0 && b[0] != '}' {
				n.w.WriteByte(',')
			}
		}
	}
	_, n.err = n.w.Write(b)
}

func ndjsonRows[T any](n *ndjsonWriter, tag string, rows []T) {
	for i := range rows {
		n.row(tag, &rows[i])
	}
}

// WriteInvalidsNDJSON writes analyze's invalid routes (the JSON report's
// "invalids"), one per line.
func WriteInvalidsNDJSON(w io.Writer, invs []Invalid) error {
	n := newNDJSON(w)
	ndjsonRows(n, "", invs)
	return n.close()
}

// WriteDiffNDJSON writes a diff's routes, one per line: "change" is new or
// resolved (then the fields of an invalid route, as in "new" and
// "resolved") or changed (the fields of "changed").
func WriteDiffNDJSON(w io.Writer, d Diff) error {
	n := newNDJSON(w)
	ndjsonRows(n, "new", d.New)
	ndjsonRows(n, "resolved", d.Resolved)
	ndjsonRows(n, "changed", d.Changed)
	return n.close()
}

// WriteVRPDiffNDJSON writes a VRP diff's entries, one per line: "change"
// is removed or added (a VRP, as in "only_from" and "only_to") or route
// (a route whose verdict changed, as in "route_changes").
func WriteVRPDiffNDJSON(w io.Writer, d VRPDiff) error {
	n := newNDJSON(w)
	ndjsonRows(n, "removed", d.OnlyA)
	ndjsonRows(n, "added", d.OnlyB)
	ndjsonRows(n, "route", d.Changed)
	return n.close()
}

// WriteLifetimesNDJSON writes the history's invalid route lifetimes (the
// JSON document's "invalids"), one per line.
func WriteLifetimesNDJSON(w io.Writer, ls []LifetimeRow) error {
	n := newNDJSON(w)
	ndjsonRows(n, "", ls)
	return n.close()
}
