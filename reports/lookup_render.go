package reports

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
)

// LookupWriter writes lookup answers one at a time, so that a batch of
// queries holds one answer in memory, not all of them: each Write renders
// its answer at once. The bytes are those of WriteLookupJSON,
// WriteLookupCSV or WriteLookupTable on all the answers (a test checks it).
// Close ends the document; it does not close the underlying writer.
type LookupWriter struct {
	w      io.Writer
	format string
	n      int
	cw     *csv.Writer
	err    error
}

// LookupFormats are the formats NewLookupWriter knows.
var LookupFormats = []string{"table", "json", "csv"}

// NewLookupWriter returns a LookupWriter for format ("table", "json" or
// "csv").
func NewLookupWriter(w io.Writer, format string) (*LookupWriter, error) {
	lw := &LookupWriter{w: w, format: format}
	switch format {
	case "table", "json":
	case "csv":
		lw.cw = csv.NewWriter(w)
		lw.err = lw.cw.Write(LookupColumns)
	default:
		return nil, fmt.Errorf("lookup: unknown format %q (want table, json or csv)", format)
	}
	return lw, nil
}

// Write renders one answer.
func (lw *LookupWriter) Write(a Answer) error {
	if lw.err != nil {
		return lw.err
	}
	switch lw.format {
	case "json":
		// The layout of json.Encoder with SetIndent("", "  ") on
		// {"answers": [...]}: each answer indented by two levels.
		b, err := json.MarshalIndent(a, "    ", "  ")
		if err != nil {
			lw.err = err
			return err
		}
		sep := ",\n    "
		if lw.n == 0 {
			sep = "{\n  \"answers\": [\n    "
		}
		if _, err := io.WriteString(lw.w, sep); err != nil {
			lw.err = err
			return err
		}
		_, lw.err = lw.w.Write(b)
	case "csv":
		lw.err = writeLookupCSVRows(lw.cw, a)
	default:
		if lw.n > 0 {
			if _, err := fmt.Fprintln(lw.w); err != nil {
				lw.err = err
				return err
			}
		}
		switch a.Kind {
		case "prefix":
			lw.err = writePrefixAnswer(lw.w, a)
		case "address":
			lw.err = writeAddrAnswer(lw.w, a)
		default:
			lw.err = writeASNAnswer(lw.w, a)
		}
	}
	lw.n++
	return lw.err
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

func writeLookupCSVRows(cw *csv.Writer, a Answer) error {
	var err error
	emit := func(rel string, rows []Invalid) {
		for _, r := range rows {
			if err == nil {
				err = cw.Write(append(append([]string{a.Query, rel}, invalidRecord(r)...), r.Explanation))
			}
		}
	}
	if a.Hypothetical != nil {
		emit("hypothetical", []Invalid{*a.Hypothetical})
	}
	emit("route", a.Routes)
	emit("less_specific", a.LessSpecific)
	emit("more_specific", a.MoreSpecific)
	emit("originated", a.Originated)
	return err
}

// WriteLookupTable writes each answer as a few small tables.
func WriteLookupTable(w io.Writer, answers []Answer) error { return writeLookups(w, "table", answers) }

func writePrefixAnswer(w io.Writer, a Answer) error {
	fmt.Fprintf(w, "== %s\n", a.Prefix)
	fmt.Fprintf(w, "Covering VRPs: %s\n", orNone(vrpList(a.CoveringVRPs, ", ")))
	if n := len(a.InsideVRPs); n > 0 {
		fmt.Fprintf(w, "VRPs inside: %s\n", vrpList(limit(a.InsideVRPs, 10), ", ")+more(n, 10))
	}
	if h := a.Hypothetical; h != nil {
		fmt.Fprintf(w, "If AS%d announced it: %s", *h.Origin, h.State)
		if h.Class != "" {
			fmt.Fprintf(w, " (%s)", h.Class)
		}
		fmt.Fprintf(w, ": %s\n", h.Explanation)
	}
	for _, sec := range []struct {
		title string
		rows  []Invalid
	}{{"Routes for this prefix", a.Routes}, {"Less-specific routes covering it", a.LessSpecific}, {"More-specific routes inside it", a.MoreSpecific}} {
		if err := routeTable(w, sec.title, sec.rows); err != nil {
			return err
		}
	}
	return nil
}

func writeAddrAnswer(w io.Writer, a Answer) error {
	fmt.Fprintf(w, "== %s\n", a.Address)
	fmt.Fprintf(w, "Routed today via: %s\n", viaString(a.RoutedBefore))
	fmt.Fprintf(w, "Routed with ROV via: %s\n", viaString(a.RoutedAfter))
	if d := a.DefaultNotCounted; d != nil {
		fmt.Fprintf(w, "Default route not counted (as in analyze; --count-default counts it): %s\n", viaString(d))
	}
	return routeTable(w, "Routes containing it (most specific first)", a.Routes)
}

func writeASNAnswer(w io.Writer, a Answer) error {
	fmt.Fprintf(w, "== AS%d\n", *a.ASN)
	if err := routeTable(w, "Routes it originates", a.Originated); err != nil {
		return err
	}
	if len(a.VRPs) > 0 {
		fmt.Fprintf(w, "Its VRPs (%d):\n", len(a.VRPs))
		t := newTable(w, "VRP", "TA", "Used", "Announced", "Allows", "Risky (RFC 9319)")
		for _, v := range a.VRPs {
			t.Append(vrpList([]VRPRef{v.VRPRef}, ""), v.TA, v.Used, v.Announced, strconv.FormatFloat(v.Allows, 'g', 6, 64), v.Risky)
		}
		if err := t.Render(); err != nil {
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
		for _, s := range a.Suggested {
			row := []any{vrpList([]VRPRef{s.VRPRef}, ""), s.Exists, s.State}
			if widen {
				note := ""
				if wi := s.WideningInstead; wi != nil {
					note = fmt.Sprintf("%s to /%d would allow %s prefixes", vrpList([]VRPRef{wi.VRP}, ""), wi.MaxLength, strconv.FormatFloat(wi.Allows, 'g', 6, 64))
				}
				row = append(row, note)
			}
			t.Append(row...)
		}
		if err := t.Render(); err != nil {
			return err
		}
	}
	if len(a.Hijacks) > 0 {
		fmt.Fprintln(w, "Possible hijacks (no VRP suggested: another AS's VRP allows the route):")
		t := newTable(w, "Route", "Route state now", "Allowed by")
		for _, h := range a.Hijacks {
			t.Append(fmt.Sprintf("%s AS%d", h.Prefix, h.ASN), h.State, vrpList(h.VRPs, ", "))
		}
		return t.Render()
	}
	return nil
}

func routeTable(w io.Writer, title string, rows []Invalid) error {
	if len(rows) == 0 {
		fmt.Fprintf(w, "%s: none\n", title)
		return nil
	}
	fmt.Fprintf(w, "%s:\n", title)
	t := newTable(w, "Prefix", "Origin", "State", "Class", "Paths", "Peers", "If ROV drops it", "Why")
	for _, r := range rows {
		origin := originString(r.Origin, "")
		if r.Origin == nil {
			origin = "{" + joinASNs(r.ASSet, ",", "") + "}"
		}
		impact := ""
		if r.Dropped {
			impact = impactCell(r)
			if c := r.Cover; c != nil {
				impact += " via " + coverCell(c)
			}
		}
		t.Append(r.Prefix, origin, r.State, r.Class, r.Paths, r.Peers, impact, r.Explanation)
	}
	return t.Render()
}

func viaString(v *Via) string {
	if v == nil {
		return "nothing (unreachable)"
	}
	return fmt.Sprintf("%s %s (%s)", v.Prefix, joinASNs(v.Origins, ",", "AS"), v.State)
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
