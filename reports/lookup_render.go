package reports

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/olekukonko/tablewriter"
)

// WriteLookupJSON writes `{"answers":[...]}`.
func WriteLookupJSON(w io.Writer, answers []Answer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Answers []Answer `json:"answers"`
	}{answers})
}

// LookupColumns are the CSV columns of lookup: the query, how the route
// relates to it, then analyze's invalid-route columns and the explanation.
var LookupColumns = append(append([]string{"query", "relation"}, InvalidColumns...), "explanation")

// WriteLookupCSV writes one row per route in the answers: relation is
// "route" (exactly the prefix, or containing the address), "less_specific",
// "more_specific", "originated" (AS queries) or "hypothetical" (--origin).
func WriteLookupCSV(w io.Writer, answers []Answer) error {
	cw := csv.NewWriter(w)
	cw.Write(LookupColumns)
	for _, a := range answers {
		emit := func(rel string, rows []Invalid) {
			for _, r := range rows {
				cw.Write(append(append([]string{a.Query, rel}, invalidRecord(r)...), r.Explanation))
			}
		}
		if a.Hypothetical != nil {
			emit("hypothetical", []Invalid{*a.Hypothetical})
		}
		emit("route", a.Routes)
		emit("less_specific", a.LessSpecific)
		emit("more_specific", a.MoreSpecific)
		emit("originated", a.Originated)
	}
	cw.Flush()
	return cw.Error()
}

// WriteLookupTable writes each answer as a few small tables, each list
// (routes, VRPs, suggestions) cut to its top rows (0: all) with a line
// saying how many were left out; JSON and CSV always list all.
func WriteLookupTable(w io.Writer, answers []Answer, top int) error {
	for i, a := range answers {
		if i > 0 {
			fmt.Fprintln(w)
		}
		var err error
		switch a.Kind {
		case "prefix":
			err = writePrefixAnswer(w, a, top)
		case "address":
			err = writeAddrAnswer(w, a, top)
		default:
			err = writeASNAnswer(w, a, top)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func writePrefixAnswer(w io.Writer, a Answer, top int) error {
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
		if err := routeTable(w, sec.title, sec.rows, top); err != nil {
			return err
		}
	}
	return nil
}

func writeAddrAnswer(w io.Writer, a Answer, top int) error {
	fmt.Fprintf(w, "== %s\n", a.Address)
	fmt.Fprintf(w, "Routed today via: %s\n", viaString(a.RoutedBefore))
	fmt.Fprintf(w, "Routed with ROV via: %s\n", viaString(a.RoutedAfter))
	return routeTable(w, "Routes containing it (most specific first)", a.Routes, top)
}

func writeASNAnswer(w io.Writer, a Answer, top int) error {
	fmt.Fprintf(w, "== AS%d\n", *a.ASN)
	if err := routeTable(w, "Routes it originates", a.Originated, top); err != nil {
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
		t := newTable(w, "VRP", "Already valid", "Route state now")
		for _, s := range limit(a.Suggested, top) {
			t.Append(vrpList([]VRPRef{s.VRPRef}, ""), s.Exists, s.State)
		}
		return renderTop(w, t, len(a.Suggested), top)
	}
	return nil
}

func routeTable(w io.Writer, title string, rows []Invalid, top int) error {
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
	for _, r := range limit(rows, top) {
		origin := OriginLabel(r.Origin, r.ASSet)
		impact := ""
		if r.Dropped {
			impact = impactCell(r)
			if c := r.Cover; c != nil {
				impact += " via " + coverCell(c)
			}
		}
		t.Append(r.Prefix, origin, r.State, r.Class, r.Paths, r.Peers, impact, r.Explanation)
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
