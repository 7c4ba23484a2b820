package study

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/rovimpact/rovimpact/reports"
)

// SplitLookupArgs tells lookup's queries from its route files: an existing
// file (or "-") is a route file, anything else must parse as a query.
func SplitLookupArgs(args []string) (queries, files []string, err error) {
	for _, a := range args {
		if _, serr := os.Stat(a); serr == nil || a == "-" {
			files = append(files, a)
			continue
		}
		if _, err := reports.ParseQuery(a); err != nil {
			return nil, nil, Usagef("%v (and no such route file)", err)
		}
		queries = append(queries, a)
	}
	return queries, files, nil
}

// ReadQueries reads one query a line, skipping blanks and # comments.
func ReadQueries(r io.Reader) ([]string, error) {
	var qs []string
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		qs = append(qs, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading queries from stdin: %w", err)
	}
	if len(qs) == 0 {
		return nil, Usagef("no QUERY given (as arguments or on standard input)")
	}
	return qs, nil
}

// ParseQueries parses lookup's queries; a bad one is a *UsageError.
func ParseQueries(qs []string) ([]reports.Query, error) {
	out := make([]reports.Query, 0, len(qs))
	for _, q := range qs {
		pq, err := reports.ParseQuery(q)
		if err != nil {
			return nil, &UsageError{Err: err}
		}
		out = append(out, pq)
	}
	return out, nil
}

// LookupArgs reads lookup's arguments as the command takes them, in this
// order (the first bad one is the error): split into queries and route
// files, the analysis options checked, the queries read from in when
// none was given, each parsed. An AS path query is a usage error in csv:
// its hops are not route rows.
func LookupArgs(args []string, in io.Reader, a AnalysisOptions, format string) ([]reports.Query, []string, error) {
	queries, files, err := SplitLookupArgs(args)
	if err != nil {
		return nil, nil, err
	}
	if _, err := a.Classify(); err != nil {
		return nil, nil, err
	}
	if len(queries) == 0 {
		if queries, err = ReadQueries(in); err != nil {
			return nil, nil, err
		}
	}
	parsed, err := ParseQueries(queries)
	if err != nil {
		return nil, nil, err
	}
	if format == "csv" && slices.ContainsFunc(parsed, reports.Query.IsASPath) {
		return nil, nil, Usagef("an AS path query is answered in table, json or ndjson, not csv (its hops are not route rows)")
	}
	return parsed, files, nil
}
