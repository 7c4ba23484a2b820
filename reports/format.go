package reports

import (
	"bufio"
	"fmt"
	"io"
	"slices"

	"github.com/rovimpact/rovimpact/internal/exitcode"
)

// A document type (analyze's report, lookup answers, a diff, a VRP diff,
// the routes list, the history) has one format table: the names of its
// output formats, in the order help texts list them, each with the one
// function that writes the document in it. Commands pass the --format
// name through; adding a format to a document is one entry in its table,
// and a name not in the table is a *FormatError (exit 2 in the CLI).

// FormatError is an output format the document does not have.
type FormatError struct {
	Doc    string   // "analyze", "lookup", ...
	Format string   // what was asked for
	Known  []string // the document's formats, in table order
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("--format %q: want one of %v", e.Format, e.Known)
}

// ExitCode is exitcode.Usage: the format is the user's choice.
func (e *FormatError) ExitCode() exitcode.Code { return exitcode.Usage }

// Format is one entry of a format table: a name and its writer.
type Format[D any] struct {
	Name  string
	Write func(io.Writer, D) error
}

// Formats is the format table of documents of type D.
type Formats[D any] struct {
	Doc     string
	entries []Format[D]
}

func newFormats[D any](doc string, entries ...Format[D]) Formats[D] {
	return Formats[D]{Doc: doc, entries: entries}
}

// Names lists the formats in table order (the first is the default).
func (f Formats[D]) Names() []string {
	names := make([]string, len(f.entries))
	for i, e := range f.entries {
		names[i] = e.Name
	}
	return names
}

// Check returns a *FormatError unless name is in the table: commands call
// it before any work, so a typo does not cost a whole analysis.
func (f Formats[D]) Check(name string) error {
	_, err := f.lookup(name)
	return err
}

// Write writes d to w in format name.
func (f Formats[D]) Write(w io.Writer, name string, d D) error {
	write, err := f.lookup(name)
	if err != nil {
		return err
	}
	return write(w, d)
}

// Print writes d to w (a command's standard output) in format name
// through a buffer flushed at the end: what every command does with its
// document. A name not in the table writes nothing.
func (f Formats[D]) Print(w io.Writer, name string, d D) error {
	out := bufio.NewWriter(w)
	if err := f.Write(out, name, d); err != nil {
		return err
	}
	return out.Flush()
}

func (f Formats[D]) lookup(name string) (func(io.Writer, D) error, error) {
	i := slices.IndexFunc(f.entries, func(e Format[D]) bool { return e.Name == name })
	if i < 0 {
		return nil, &FormatError{Doc: f.Doc, Format: name, Known: f.Names()}
	}
	return f.entries[i].Write, nil
}
