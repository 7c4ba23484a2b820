package flagfile

import (
	"errors"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func testFlags() (*pflag.FlagSet, *[]string, *time.Duration) {
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	list := fs.StringArray("vrps", nil, "")
	d := fs.Duration("interval", time.Second, "")
	fs.Bool("drop-expired", false, "")
	fs.String("config", "", "")
	return fs, list, d
}

// TestParse pins what the file sets, and that the command line wins.
func TestParse(t *testing.T) {
	fs, list, d := testFlags()
	if err := fs.Parse([]string{"--interval=5s"}); err != nil {
		t.Fatal(err)
	}
	f, err := Parse(fs, "w.yaml", []byte("# c\ninterval: 9s\nvrps:\n  - a\n  - b\ndrop-expired: true\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if *d != 5*time.Second || len(*list) != 2 || (*list)[1] != "b" || !fs.Changed("drop-expired") {
		t.Errorf("interval %v, vrps %v: want 5s (the command line), [a b]", *d, *list)
	}
	if f.Line("vrps") != "w.yaml:3: " || f.Line("nothing") != "" {
		t.Errorf("lines: %v", f.Lines)
	}
	if args := Given(fs); len(args) != 4 {
		t.Errorf("Given: %q, want interval, two vrps, drop-expired", args)
	}
}

// FuzzParse: any bytes give either flags set or an *Error with a file
// name, never a panic.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"interval: 1s\n", "vrps: [a, b]\n", "vrps:\n  x: 1\n", "- a\n", "a: &x 1\nvrps: *x\n",
		"interval: 1s\ninterval: 2s\n", "---\na: 1\n---\nb: 2\n", "drop-expired: ~\n", "{", "config: x\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fs, _, _ := testFlags()
		_, err := Parse(fs, "w.yaml", data, nil)
		var fe *Error
		if err != nil && (!errors.As(err, &fe) || fe.File != "w.yaml" || fe.Line < 0) {
			t.Fatalf("error %v (%T): want *Error for w.yaml", err, err)
		}
	})
}
