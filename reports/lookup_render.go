package reports

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/olekukonko/tablewriter"
	"github.com/rovimpact/rovimpact/classify"
)

// LookupWriter writes lookup answers one at a time, so that a batch of
// queries holds one answer in memory, not all of them: each Write renders
// its answer at once. The bytes are those of WriteLookupJSON,
// WriteLookupCSV or WriteLookupTable on all the answers (a test checks it).
// Close ends the document; it does not close the underlying writer.
type LookupWriter struct {
	// Top cuts each list of the table format to its first Top rows, with a
	// line saying how many were left out (0: all); JSON and CSV list all.
	Top int
	// Wide shows the route tables' columns whole; by default they wrap to
	// fit TerminalWidth.
	Wide   bool
	w      io.Writer
	format string
	n      int
	cw     *csv.Writer
	err    error
}

// NewLookupWriter returns a LookupWriter for format ("table", "json",
// "csv" or "ndjson": one answer per line, as an element of the JSON
// document's "answers").
func NewLookupWriter(w io.Writer, format string) (*LookupWriter, error) {
	lw := &LookupWriter{w: w, format: format}
	switch format {
	case "table", "json", "ndjson":
	case "csv":
		lw.cw = csv.NewWriter(w)
		lw.err = lw.cw.Write(LookupColumns)
	default:
		return nil, &FormatError{Doc: "lookup", Format: format, Known: lookupFormatNames}
	}
	return lw, nil
}

// Write renders one answer.
func (lw *LookupWriter) Write(a Answer) error {
	return lw.write(plan{ans: a})
}

// WriteQuery answers q from the analysis (as Lookup) and renders the
// answer, streaming its route rows in JSON and CSV: memory stays that of
// one row however many routes the answer lists (a query for 0.0.0.0/0
// lists the whole table). The table format lays out each list at once.
func (lw *LookupWriter) WriteQuery(a *classify.Analysis, q Query, origin *uint32) error {
	p := planLookup(a, q, origin).withVRPs()
	p.ans.ASPAPaths = q.ASPAPaths
	return lw.write(p)
}

func (lw *LookupWriter) write(p plan) error {
	if lw.err != nil {
		return lw.err
	}
	switch lw.format {
	case "json":
		sep := ",\n    "
		if lw.n == 0 {
			sep = "{\n  \"answers\": [\n    "
		}
		if _, err := io.WriteString(lw.w, sep); err != nil {
			lw.err = err
			return err
		}
		lw.err = writeAnswerJSON(lw.w, p, "    ", false)
	case "ndjson":
		if lw.err = writeAnswerJSON(lw.w, p, "", true); lw.err == nil {
			_, lw.err = io.WriteString(lw.w, "\n")
		}
	case "csv":
		if p.ans.Kind == "as_path" {
			lw.err = errASPAPathCSV
			return lw.err
		}
		lw.err = writeLookupCSVRows(lw.cw, p)
	default:
		if lw.n > 0 {
			if _, err := fmt.Fprintln(lw.w); err != nil {
				lw.err = err
				return err
			}
		}
		a := p.answer()
		switch a.Kind {
		case "as_path":
			if a.ASPAPath == nil {
				lw.err = fmt.Errorf("lookup %q: an AS path query needs ASPAs (--vrps with rpki-client or Routinator JSON \"aspas\")", a.Query)
			} else {
				lw.err = WriteASPAPathTable(lw.w, *a.ASPAPath)
			}
		case "prefix":
			if lw.err = writePrefixAnswer(lw.w, a, lw.Top, lw.Wide); lw.err == nil {
				lw.err = writeLookupASPAPaths(lw.w, a, lw.Top)
			}
		case "address":
			if lw.err = writeAddrAnswer(lw.w, a, lw.Top, lw.Wide); lw.err == nil {
				lw.err = writeLookupASPAPaths(lw.w, a, lw.Top)
			}
		default:
			lw.err = writeASNAnswer(lw.w, a, lw.Top, lw.Wide)
		}
	}
	lw.n++
	return lw.err
}

// rowsMarker is the explanation of the placeholder row that stands for a
// route list while the rest of the answer is encoded. JSON escapes the NUL
// as \u0000, which no real explanation contains.
const rowsMarker = "\x00rows:"

// writeAnswerJSON writes p's answer as json.MarshalIndent(answer, prefix,
// "  ") would (compact: as json.Marshal would), without holding its route
// rows: the answer is encoded with
// each non-empty list replaced by one placeholder row (no nested arrays or
// objects: its slices and pointers are nil), and each placeholder's array
// is then written row by row at the same indentation.
func writeAnswerJSON(w io.Writer, p plan, prefix string, compact bool) error {
	skel := p.ans
	lazy := 0
	for i, ids := range p.ids {
		if len(ids) > 0 {
			*listOf(&skel, i) = []Invalid{{Explanation: rowsMarker + strconv.Itoa(i)}}
			lazy++
		}
	}
	var b []byte
	var err error
	if compact {
		b, err = json.Marshal(skel)
	} else {
		b, err = json.MarshalIndent(skel, prefix, "  ")
	}
	if err != nil || lazy == 0 {
		if err == nil {
			_, err = w.Write(b)
		}
		return err
	}
	type span struct{ open, close, list int }
	var spans []span
	for i, ids := range p.ids {
		if len(ids) == 0 {
			continue
		}
		m := bytes.Index(b, []byte(`"\u0000rows:`+strconv.Itoa(i)+`"`))
		if m < 0 {
			return fmt.Errorf("lookup: route list %d lost in encoding", i)
		}
		spans = append(spans, span{bytes.LastIndexByte(b[:m], '['), m + bytes.IndexByte(b[m:], ']'), i})
	}
	slices.SortFunc(spans, func(x, y span) int { return x.open - y.open })
	cur := 0
	for _, s := range spans {
		var ind []byte // the closing bracket's indentation
		if !compact {
			ind = b[bytes.LastIndexByte(b[:s.close], '\n')+1 : s.close]
		}
		inner := string(ind) + "  "
		if _, err := w.Write(b[cur : s.open+1]); err != nil {
			return err
		}
		for j, id := range p.ids[s.list] {
			var row []byte
			var err error
			sep := ",\n" + inner
			if j == 0 {
				sep = "\n" + inner
			}
			if compact {
				row, err = json.Marshal(lookupRow(p.a, id))
				sep = ","
				if j == 0 {
					sep = ""
				}
			} else {
				row, err = json.MarshalIndent(lookupRow(p.a, id), inner, "  ")
			}
			if err != nil {
				return err
			}
			if _, err := io.WriteString(w, sep); err != nil {
				return err
			}
			if _, err := w.Write(row); err != nil {
				return err
			}
		}
		if !compact {
			if _, err := w.Write(append([]byte{'\n'}, ind...)); err != nil {
				return err
			}
		}
		cur = s.close
	}
	_, err = w.Write(b[cur:])
	return err
}

// Close ends the document (the JSON array and object; the CSV buffer).
func (lw *LookupWriter) Close() error {
	if lw.err != nil {
		return lw.err
	}
	switch lw.format {
	case "json":
		end := "\n  ]\n}\n"
		if lw.n == 0 {
			end = "{\n  \"answers\": []\n}\n"
		}
		_, lw.err = io.WriteString(lw.w, end)
	case "csv":
		lw.cw.Flush()
		lw.err = lw.cw.Error()
	}
	return lw.err
}

// writeLookups writes answers with a LookupWriter.
func writeLookups(w io.Writer, format string, answers []Answer) error {
	lw, err := NewLookupWriter(w, format)
	if err != nil {
		return err
	}
	for _, a := range answers {
		if err := lw.Write(a); err != nil {
			return err
		}
	}
	return lw.Close()
}

// WriteLookupJSON writes `{"answers":[...]}`.
func WriteLookupJSON(w io.Writer, answers []Answer) error { return writeLookups(w, "json", answers) }

// LookupColumns are the CSV columns of lookup: the query, how the route
// relates to it, then analyze's invalid-route columns and the explanation.
var LookupColumns = append(append([]string{"query", "relation"}, InvalidColumns...), "explanation")

// WriteLookupCSV writes one row per route in the answers: relation is
// "route" (exactly the prefix, or containing the address), "less_specific",
// "more_specific", "originated" (AS queries) or "hypothetical" (--origin).
func WriteLookupCSV(w io.Writer, answers []Answer) error { return writeLookups(w, "csv", answers) }

// writeLookupCSVRows writes p's rows, each route list row by row.
func writeLookupCSVRows(cw *csv.Writer, p plan) error {
	a := p.ans
	var err error
	emit := func(rel string, r Invalid) {
		if err == nil {
			err = cw.Write(append(append([]string{a.Query, rel}, invalidRecord(r)...), r.Explanation))
		}
	}
	if a.Hypothetical != nil {
		emit("hypothetical", *a.Hypothetical)
	}
	for i, rel := range [nLists]string{"route", "less_specific", "more_specific", "originated"} {
		for _, r := range *listOf(&a, i) {
			emit(rel, r)
		}
		for _, id := range p.ids[i] {
			emit(rel, lookupRow(p.a, id))
		}
	}
	return err
}

// WriteLookupTable writes each answer as a few small tables, each list
// (routes, VRPs, suggestions) cut to its top rows (0: all) with a line
// saying how many were left out; JSON and CSV always list all.
func WriteLookupTable(w io.Writer, answers []Answer, top int) error {
	lw, err := NewLookupWriter(w, "table")
	if err != nil {
		return err
	}
	lw.Top = top
	for _, a := range answers {
		if err := lw.Write(a); err != nil {
			return err
		}
	}
	return lw.Close()
}

func writePrefixAnswer(w io.Writer, a Answer, top int, wide bool) error {
	fmt.Fprintf(w, "== %s\n", a.Prefix)
	width := TerminalWidth
	if wide {
		width = 0
	}
	writeWrapped(w, "Covering VRPs: ", orNone(vrpList(a.CoveringVRPs, ", ")), width)
	if n := len(a.InsideVRPs); n > 0 {
		writeWrapped(w, "VRPs inside: ", vrpList(limit(a.InsideVRPs, 10), ", ")+more(n, 10), width)
	}
	if h := a.Hypothetical; h != nil {
		fmt.Fprintf(w, "If AS%d announced it: %s", *h.Origin, h.State)
		if h.Class != classify.None {
			fmt.Fprintf(w, " (%s)", h.Class)
		}
		fmt.Fprintf(w, ": %s\n", h.Explanation)
	}
	for _, sec := range []struct {
		title string
		rows  []Invalid
	}{{"Routes for this prefix", a.Routes}, {"Less-specific routes covering it", a.LessSpecific}, {"More-specific routes inside it", a.MoreSpecific}} {
		if err := routeTable(w, sec.title, sec.rows, top, wide); err != nil {
			return err
		}
	}
	return nil
}

func writeAddrAnswer(w io.Writer, a Answer, top int, wide bool) error {
	fmt.Fprintf(w, "== %s\n", a.Address)
	fmt.Fprintf(w, "Routed today via: %s\n", viaString(a.RoutedBefore))
	fmt.Fprintf(w, "Routed with ROV via: %s\n", viaString(a.RoutedAfter))
	if d := a.DefaultNotCounted; d != nil {
		fmt.Fprintf(w, "Default route not counted (as in analyze; --count-default counts it): %s\n", viaString(d))
	}
	return routeTable(w, "Routes containing it (most specific first)", a.Routes, top, wide)
}

func writeASNAnswer(w io.Writer, a Answer, top int, wide bool) error {
	fmt.Fprintf(w, "== AS%d\n", *a.ASN)
	if err := routeTable(w, "Routes it originates", a.Originated, top, wide); err != nil {
		return err
	}
	if len(a.VRPs) > 0 {
		fmt.Fprintf(w, "Its VRPs (%s):\n", shown(len(a.VRPs), top))
		t := newTable(w, "VRP", "TA", "Used", "Announced", "Allows", "Risky (RFC 9319)")
		for _, v := range limit(a.VRPs, top) {
			t.Append(vrpList([]VRPRef{v.VRPRef}, ""), v.TA, v.Used, v.Announced, strconv.FormatFloat(v.Allows, 'g', 6, 64), v.Risky)
		}
		if err := renderTop(w, t, len(a.VRPs), top); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(w, "Its VRPs: none")
	}
	if len(a.Suggested) > 0 {
		fmt.Fprintln(w, "Suggested VRPs (one per announced prefix, maxLength = its length):")
		widen := slices.ContainsFunc(a.Suggested, func(s Suggestion) bool { return s.WideningInstead != nil })
		cols := []any{"VRP", "Already valid", "Route state now"}
		if widen {
			cols = append(cols, "Instead of widening (RFC 9319 §4)")
		}
		t := newTable(w, cols...)
		if widen && !wide {
			t = compactTable(w, []column{{"VRP", 30}, {"Already valid", 15}, {"Route state now", 17}, {"Instead of widening (RFC 9319 §4)", 48}})
		}
		for _, s := range limit(a.Suggested, top) {
			row := []any{vrpList([]VRPRef{s.VRPRef}, ""), s.Exists, s.State.String()}
			if widen {
				note := ""
				if wi := s.WideningInstead; wi != nil {
					note = fmt.Sprintf("%s to /%d would allow %s prefixes", vrpList([]VRPRef{wi.VRP}, ""), wi.MaxLength, strconv.FormatFloat(wi.Allows, 'g', 6, 64))
				}
				row = append(row, note)
			}
			t.Append(row...)
		}
		if err := renderTop(w, t, len(a.Suggested), top); err != nil {
			return err
		}
	}
	if len(a.Hijacks) > 0 {
		fmt.Fprintln(w, "Possible hijacks (no VRP suggested: another AS's VRP allows the route):")
		t := newTable(w, "Route", "Route state now", "Allowed by")
		if !wide {
			t = compactTable(w, []column{{"Route", 30}, {"Route state now", 17}, {"Allowed by", 69}})
		}
		for _, h := range limit(a.Hijacks, top) {
			t.Append(fmt.Sprintf("%s AS%d", h.Prefix, h.ASN), h.State.String(), vrpList(h.VRPs, ", "))
		}
		return renderTop(w, t, len(a.Hijacks), top)
	}
	return nil
}

// lookupColumns are the route table's columns within TerminalWidth (see
// compactColumns): state and class share a cell.
var lookupColumns = []column{{"Prefix", 24}, {"Origin", 11}, {"State (class)", 24}, {"Paths", 7}, {"If ROV drops it", 18}, {"Why", 29}}

func routeTable(w io.Writer, title string, rows []Invalid, top int, wide bool) error {
	if len(rows) == 0 {
		fmt.Fprintf(w, "%s: none\n", title)
		return nil
	}
	if top > 0 && len(rows) > top {
		fmt.Fprintf(w, "%s (%s):\n", title, shown(len(rows), top))
	} else {
		fmt.Fprintf(w, "%s:\n", title)
	}
	t := newTable(w, "Prefix", "Origin", "State", "Class", "Paths", "Peers", "If ROV drops it", "Why")
	if !wide {
		t = compactTable(w, lookupColumns)
	}
	for _, r := range limit(rows, top) {
		origin := OriginLabel(r.Origin, r.ASSet)
		impact := ""
		if r.Dropped {
			impact = impactCell(r)
			if c := r.Cover; c != nil {
				impact += " via " + coverCell(c)
			}
		}
		if wide {
			t.Append(r.Prefix, origin, r.State.String(), r.Class.String(), r.Paths, r.Peers, impact, r.Explanation)
			continue
		}
		origin = foldedOrigin(r.Origin, r.ASSet)
		state := r.State.String()
		if r.Class != classify.None {
			state += " (" + r.Class.String() + ")"
		}
		t.Append(r.Prefix, origin, state, r.Paths, impact, r.Explanation)
	}
	return renderTop(w, t, len(rows), top)
}

// renderTop renders t and says how many of n rows --top left out.
func renderTop(w io.Writer, t *tablewriter.Table, n, top int) error {
	if err := t.Render(); err != nil {
		return err
	}
	if top > 0 && n > top {
		fmt.Fprintf(w, "(%d more; --top 0 shows all)\n", n-top)
	}
	return nil
}

func viaString(v *Via) string {
	if v == nil {
		return "nothing (unreachable)"
	}
	return fmt.Sprintf("%s %s (%s)", v.Prefix, joinASNs(v.Origins, ",", "AS"), v.State.String())
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func more(n, shown int) string {
	if n > shown {
		return fmt.Sprintf(" (+%d more)", n-shown)
	}
	return ""
}

// writeWrapped writes label and a ", "-separated list on lines of at most
// width columns (0: one line), breaking after the commas and indenting
// the continuation lines under the list.
func writeWrapped(w io.Writer, label, list string, width int) {
	if width <= 0 || utf8.RuneCountInString(label+list) <= width {
		fmt.Fprintf(w, "%s%s\n", label, list)
		return
	}
	indent := strings.Repeat(" ", utf8.RuneCountInString(label))
	line := label
	for i, item := range strings.Split(list, ", ") {
		if i > 0 {
			item = ", " + item
			if utf8.RuneCountInString(line+item) > width {
				fmt.Fprintf(w, "%s,\n", line)
				line, item = indent, strings.TrimPrefix(item, ", ")
			}
		}
		line += item
	}
	fmt.Fprintf(w, "%s\n", line)
}
