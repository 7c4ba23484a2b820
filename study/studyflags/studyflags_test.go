package studyflags

import (
	"reflect"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/rovimpact/rovimpact/study"
)

func TestValues(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr bool
		local   uint32
		top     int
	}{
		{"defaults", nil, false, 0, 20},
		{"AS spellings: plain", []string{"--local-as", "64500"}, false, 64500, 20},
		{"AS spellings: AS prefix", []string{"--local-as", "AS64500"}, false, 64500, 20},
		{"AS spellings: lower case", []string{"--local-as", "as64500"}, false, 64500, 20},
		{"AS beyond 32 bits", []string{"--local-as", "4294967296"}, true, 0, 20},
		{"AS garbage", []string{"--local-as", "ASX"}, true, 0, 20},
		{"top 0 means all", []string{"--top", "0"}, false, 0, 0},
		// A negative row count used to mean "all" silently; it is a
		// usage error now.
		{"top negative", []string{"--top", "-1"}, true, 0, 20},
		{"top not a number", []string{"--top", "x"}, true, 0, 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s Study
			var top int
			f := pflag.NewFlagSet("t", pflag.ContinueOnError)
			Analysis(f, &s.Analysis)
			CountVar(f, &top, "top", 20, "rows")
			err := f.Parse(tc.args)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Parse(%q) error %v, want error %v", tc.args, err, tc.wantErr)
			}
			if err == nil && (s.Analysis.LocalAS != tc.local || top != tc.top) {
				t.Errorf("local-as %d, top %d; want %d, %d", s.Analysis.LocalAS, top, tc.local, tc.top)
			}
		})
	}
}

func TestConfig(t *testing.T) {
	var s Study
	f := pflag.NewFlagSet("t", pflag.ContinueOnError)
	VRP(f, &s.VRP)
	VRPGuards(f, &s.VRP)
	Routes(f, &s.Route, "ROUTES", "use")
	Partial(f, &s.Route)
	Analysis(f, &s.Analysis)
	args := []string{"--vrps", "a.json", "--vrps", "b.csv", "--slurm", "l.slurm", "--drop-expired", "--allow-empty-vrps",
		"--max-vrp-age", "36h", "--updates", "u.gz", "--peer", "AS64500", "--allow-partial", "--as-set", "withdraw", "--count-default"}
	if err := f.Parse(args); err != nil {
		t.Fatal(err)
	}
	c := s.Config([]string{"rib.mrt"}, time.Time{}, nil)
	if len(c.VRP.Files) != 2 || len(c.VRP.SLURM) != 1 || !c.VRP.DropExpired || !c.VRP.AllowEmpty || c.VRP.MaxAge.Hours() != 36 ||
		len(c.Route.Updates) != 1 || len(c.Route.Peers) != 1 || !c.Route.AllowPartial ||
		c.Analysis.ASSet != "withdraw" || !c.Analysis.CountDefault || len(c.Routes) != 1 || c.Routes[0] != "rib.mrt" {
		t.Errorf("flags %q gave %+v", args, c)
	}
	want := study.Inputs{VRPs: []string{"a.json", "b.csv"}, SLURM: []string{"l.slurm"}, Routes: []string{"rib.mrt"}, Updates: []string{"u.gz"}}
	if got := c.Inputs(); !reflect.DeepEqual(got, want) {
		t.Errorf("Inputs %+v, want %+v", got, want)
	}
}
