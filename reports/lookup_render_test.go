package reports

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestLookupWriterJSONIsEncoder: the streamed document is byte for byte
// what json.Encoder (SetIndent "", "  ") writes for all the answers at
// once, on every lookup golden (each query kind), and for no answers.
func TestLookupWriterJSONIsEncoder(t *testing.T) {
	files, err := filepath.Glob("../cmd/rovimpact/testdata/lookup/*.json.golden")
	if err != nil || len(files) == 0 {
		t.Fatalf("no lookup goldens (%v)", err)
	}
	docs := map[string][]Answer{"none": {}}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct{ Answers []Answer }
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		docs[filepath.Base(f)] = doc.Answers
	}
	for name, answers := range docs {
		t.Run(name, func(t *testing.T) {
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetIndent("", "  ")
			if err := enc.Encode(struct {
				Answers []Answer `json:"answers"`
			}{answers}); err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			lw, err := NewLookupWriter(&got, "json")
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range answers {
				if err := lw.Write(a); err != nil {
					t.Fatal(err)
				}
			}
			if err := lw.Close(); err != nil {
				t.Fatal(err)
			}
			if got.String() != want.String() {
				t.Errorf("streamed:\n%s\nencoder:\n%s", got.String(), want.String())
			}
		})
	}
}

// TestLookupWriterUnknownFormat: a format the writer does not know is an
// error naming it, not an empty document.
func TestLookupWriterUnknownFormat(t *testing.T) {
	if _, err := NewLookupWriter(&bytes.Buffer{}, "yaml"); err == nil {
		t.Error("format yaml accepted")
	}
}
