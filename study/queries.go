package study

import (
	"bufio"
	"fmt"
	"io"
	"os"
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
