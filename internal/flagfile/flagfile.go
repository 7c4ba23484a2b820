// Package flagfile reads a YAML configuration file whose keys are the
// names of a command's flags, so that every flag, including one added
// later, can be given in the file without a second list to keep in step.
// Flags given on the command line win over the file.
//
// YAML because operators keep their other daemons' settings (BGPalerter,
// Prometheus, Alertmanager) in it, and go.yaml.in/yaml/v3 (the YAML
// organisation's maintained continuation of gopkg.in/yaml.v3) exposes the
// parsed node tree with the line of every key and value, so a mistake is
// reported at file:line.
package flagfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

// Error is a mistake in the file, at a line (0: the file as a whole).
type Error struct {
	File string
	Line int
	Key  string
	Err  error
}

func (e *Error) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	if e.Key == "" {
		return fmt.Sprintf("%s: %v", loc, e.Err)
	}
	return fmt.Sprintf("%s: %s: %v", loc, e.Key, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Section decodes a key whose value is not a flag (a mapping or list of
// its own, such as alert receivers). It returns errors located with At.
type Section func(file string, key, value *yaml.Node) error

// At locates err at node's line in file.
func At(file string, node *yaml.Node, key string, err error) error {
	return &Error{File: file, Line: node.Line, Key: key, Err: err}
}

// File is a loaded configuration: where each key was written, so that an
// error found later (a value that parses but is wrong) can name its line.
type File struct {
	Name  string
	Lines map[string]int // flag or section name -> line of its key
}

// Line returns "file:line: " for a key set from the file, else "".
func (f *File) Line(key string) string {
	if f == nil {
		return ""
	}
	if l, ok := f.Lines[key]; ok {
		return fmt.Sprintf("%s:%d: ", f.Name, l)
	}
	return ""
}

// Skip are flags the file may not set (the one naming the file itself,
// help).
var Skip = []string{"config", "help"}

// Load reads name and sets every flag of fs it names that fs has not
// already had set (on the command line). A list sets a repeatable flag
// (one that implements pflag.SliceValue) to its items. Keys that are not
// flags go to sections; any other key is an error.
func Load(fs *pflag.FlagSet, name string, sections map[string]Section) (*File, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return Parse(fs, name, data, sections)
}

// Parse is Load of data already read.
func Parse(fs *pflag.FlagSet, name string, data []byte, sections map[string]Section) (*File, error) {
	f := &File{Name: name, Lines: map[string]int{}}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return f, nil // an empty file sets nothing
		}
		return nil, yamlError(name, err)
	}
	var more yaml.Node
	if err := dec.Decode(&more); err == nil {
		return nil, &Error{File: name, Line: more.Line, Err: errors.New("a second YAML document: want one mapping of flag names to values")}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return nil, &Error{File: name, Line: root.Line, Err: errors.New("want a mapping of flag names to values (listen: 127.0.0.1:179)")}
	}
	given := map[string]bool{}
	fs.VisitAll(func(fl *pflag.Flag) { given[fl.Name] = fl.Changed })
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		key := k.Value
		if k.Kind != yaml.ScalarNode || key == "" {
			return nil, &Error{File: name, Line: k.Line, Err: errors.New("a key must be a flag name")}
		}
		if l, dup := f.Lines[key]; dup {
			return nil, &Error{File: name, Line: k.Line, Key: key, Err: fmt.Errorf("given twice (first on line %d)", l)}
		}
		f.Lines[key] = k.Line
		if sec, ok := sections[key]; ok {
			if err := sec(name, k, v); err != nil {
				return nil, err
			}
			continue
		}
		fl := fs.Lookup(key)
		if fl != nil && slices.Contains(Skip, key) {
			return nil, &Error{File: name, Line: k.Line, Key: key, Err: errors.New("a command-line flag only, not a config key")}
		}
		if fl == nil || fl.Hidden {
			return nil, &Error{File: name, Line: k.Line, Key: key, Err: fmt.Errorf("unknown key%s", suggest(fs, key, sections))}
		}
		if given[key] {
			continue // the command line wins
		}
		if err := set(fs, fl, v); err != nil {
			return nil, &Error{File: name, Line: v.Line, Key: key, Err: err}
		}
	}
	return f, nil
}

func set(fs *pflag.FlagSet, fl *pflag.Flag, v *yaml.Node) error {
	if v.Kind == yaml.AliasNode {
		v = v.Alias
	}
	switch v.Kind {
	case yaml.ScalarNode:
		if v.Tag == "!!null" {
			return errors.New("no value")
		}
		if sv, ok := fl.Value.(pflag.SliceValue); ok {
			fl.Changed = true
			return sv.Replace([]string{v.Value})
		}
		return fs.Set(fl.Name, v.Value)
	case yaml.SequenceNode:
		sv, ok := fl.Value.(pflag.SliceValue)
		if !ok {
			return fmt.Errorf("takes one %s value, not a list", fl.Value.Type())
		}
		var vals []string
		for _, it := range v.Content {
			if it.Kind != yaml.ScalarNode || it.Tag == "!!null" {
				return fmt.Errorf("line %d: a list item must be a plain value", it.Line)
			}
			vals = append(vals, it.Value)
		}
		if err := sv.Replace(vals); err != nil {
			return err
		}
		fl.Changed = true
		return nil
	default:
		return fmt.Errorf("want a value or a list of values, not a mapping")
	}
}

// suggest names the flag closest to a misspelt key.
func suggest(fs *pflag.FlagSet, key string, sections map[string]Section) string {
	best, bestD := "", 3
	try := func(name string) {
		if d := distance(key, name); d < bestD {
			best, bestD = name, d
		}
	}
	fs.VisitAll(func(fl *pflag.Flag) {
		if !slices.Contains(Skip, fl.Name) {
			try(fl.Name)
		}
	})
	for s := range sections {
		try(s)
	}
	if best == "" {
		return " (the keys are watch's flag names without --)"
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// distance is the Levenshtein distance of a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// yamlError turns the YAML parser's "yaml: line N: msg" into file:N: msg.
func yamlError(name string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var line int
	if n, _ := fmt.Sscanf(msg, "line %d:", &line); n == 1 {
		msg = strings.TrimSpace(msg[strings.IndexByte(msg, ':')+1:])
		return &Error{File: name, Line: line, Err: errors.New(msg)}
	}
	return &Error{File: name, Err: errors.New(msg)}
}

// Given lists the flags set on fs as "--name=value" arguments (a
// repeatable flag once per value), so that a fresh flag set parsing them
// has the command line again: the file is then read under the same
// command line on every reload.
func Given(fs *pflag.FlagSet) []string {
	var args []string
	fs.VisitAll(func(fl *pflag.Flag) {
		if !fl.Changed {
			return
		}
		if sv, ok := fl.Value.(pflag.SliceValue); ok {
			for _, v := range sv.GetSlice() {
				args = append(args, "--"+fl.Name+"="+v)
			}
			return
		}
		args = append(args, "--"+fl.Name+"="+fl.Value.String())
	})
	return args
}
