package study

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/rovimpact/rovimpact/internal/compressed"
	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/rov"
)

// VRPOptions say which VRP files a study loads and how.
type VRPOptions struct {
	Files       []string
	SLURM       []string
	DropExpired bool
	// AllowEmpty and MaxAge are the guards of CheckVRPs.
	AllowEmpty bool
	MaxAge     time.Duration
	// ASPAs, when set, receives the files' ASPAs, read in the same pass
	// as their VRPs (rovimpact aspa).
	ASPAs *[]ASPAFile
}

// LoadVRPs reads, merges and SLURM-filters the VRP files and builds the
// index: the VRP half of the shared pipeline (../shared/DESIGN.md), with
// the summary every report states. Warnings (expired VRPs, ignored BGPsec
// entries) go to warn when it is not nil.
func LoadVRPs(opt VRPOptions, now time.Time, warn io.Writer) (*rov.Index, reports.VRPSummary, error) {
	sum := reports.VRPSummary{ByTA: map[string]int{}, Files: opt.Files}
	if len(opt.Files) == 0 {
		return nil, sum, Usagef("--vrps FILE is required")
	}
	var sets [][]rov.VRP
	for _, name := range opt.Files {
		vrps, st, err := loadVRPFileASPAs(name, rov.LoadOptions{Now: now, DropExpired: opt.DropExpired}, opt.ASPAs)
		if err != nil {
			return nil, sum, err
		}
		noteBuildTime(&sum, name, st.BuildTime)
		sum.Read += st.Read
		sum.Duplicates += st.Duplicates
		sum.Expired += st.Expired
		sum.DroppedExpired += st.DroppedExpired
		if st.Expired > 0 && warn != nil {
			verb := "kept (use --drop-expired to drop them)"
			if opt.DropExpired {
				verb = "dropped"
			}
			fmt.Fprintf(warn, "rovimpact: warning: %s: %d of %d VRPs expired before %s: %s\n", name, st.Expired, st.Read, now.UTC().Format(time.DateOnly), verb)
		}
		sets = append(sets, vrps)
	}
	// One file (the usual case) is already the loader's own canonical,
	// deduplicated slice (rov.LoadVRPs returns it so): no merge copy of
	// 700k VRPs, and no second pass to check it.
	var vrps []rov.VRP
	if len(sets) == 1 {
		vrps = sets[0]
	} else {
		vrps = rov.MergeVRPs(sets...)
	}
	slurm, err := LoadSLURM(opt.SLURM)
	if err != nil {
		return nil, sum, err
	}
	if slurm != nil {
		var st rov.SLURMStats
		vrps, st = slurm.Apply(vrps)
		sum.SLURMRemoved, sum.SLURMAdded = st.Removed, st.Added
		if st.BGPsecIgnored > 0 && warn != nil {
			fmt.Fprintf(warn, "rovimpact: note: %d SLURM BGPsec entries ignored (rovimpact validates origins only)\n", st.BGPsecIgnored)
		}
	}
	countVRPs(&sum, vrps)
	if sum.BuildTime != nil {
		sum.AgeSeconds = int64(now.Sub(*sum.BuildTime) / time.Second)
	}
	return rov.NewIndex(vrps), sum, nil
}

// countVRPs fills the summary's counts of the set as loaded.
// The TAs are counted per run of equal names (exports group VRPs by TA):
// one map update per run instead of one per VRP.
func countVRPs(sum *reports.VRPSummary, vrps []rov.VRP) {
	ta, n := "", 0
	for i := range vrps {
		v := &vrps[i]
		if v.Prefix.Addr().Is4() {
			sum.IPv4++
		} else {
			sum.IPv6++
		}
		if v.ASN == 0 {
			sum.AS0++
		}
		if v.TA != ta {
			if n > 0 {
				sum.ByTA[ta] += n
			}
			ta, n = v.TA, 0
		}
		n++
	}
	if n > 0 {
		sum.ByTA[ta] += n
	}
	sum.Loaded = len(vrps)
}

// noteBuildTime folds one file's build time into the set's: the
// exporter's metadata, else the file's modification time (stdin has
// none). The set is as old as its oldest file.
func noteBuildTime(sum *reports.VRPSummary, name string, meta time.Time) {
	t, from := meta, "metadata"
	if t.IsZero() {
		if name == "-" {
			sum.Sources = append(sum.Sources, reports.VRPSource{File: name})
			return
		}
		fi, err := os.Stat(name)
		if err != nil {
			sum.Sources = append(sum.Sources, reports.VRPSource{File: name})
			return
		}
		t, from = fi.ModTime().UTC().Truncate(time.Second), "file_mtime"
	}
	sum.Sources = append(sum.Sources, reports.VRPSource{File: name, BuildTime: &t, BuildTimeFrom: from})
	if sum.BuildTime == nil || t.Before(*sum.BuildTime) {
		sum.BuildTime, sum.BuildTimeFrom = &t, from
	}
}

// CheckVRPs refuses a VRP set that cannot give a true answer: an empty one
// makes every route not_found, so nothing would be dropped and a nightly
// diff calls every invalid resolved; a stale one answers for a past
// Internet. AllowEmpty turns the first into a warning.
func CheckVRPs(opt VRPOptions, sum reports.VRPSummary, warn io.Writer) error {
	if sum.Loaded == 0 {
		msg := fmt.Sprintf("VRPs: no VRPs left after loading, expiry and SLURM (%s: %d read, %d duplicates, %d expired and dropped, %d removed by SLURM): every route would be not_found",
			strings.Join(sum.Files, ", "), sum.Read, sum.Duplicates, sum.DroppedExpired, sum.SLURMRemoved)
		if !opt.AllowEmpty {
			return fmt.Errorf("%s (--allow-empty-vrps to analyse anyway)", msg)
		}
		fmt.Fprintf(warn, "rovimpact: warning: %s (--allow-empty-vrps)\n", msg)
	}
	if opt.MaxAge <= 0 {
		return nil
	}
	if sum.BuildTime == nil {
		return fmt.Errorf("VRPs: --max-vrp-age %s: the build time of %s is unknown (no exporter metadata, no file time)", opt.MaxAge, strings.Join(sum.Files, ", "))
	}
	if age := time.Duration(sum.AgeSeconds) * time.Second; age > opt.MaxAge {
		return fmt.Errorf("VRPs: %s %s, more than --max-vrp-age %s", strings.Join(sum.Files, ", "), reports.VRPAge(sum), opt.MaxAge)
	}
	return nil
}

// LoadVRPFile reads one VRP file, any compression.
func LoadVRPFile(name string, opt rov.LoadOptions) ([]rov.VRP, rov.LoadStats, error) {
	f, err := compressed.Open(name)
	if err != nil {
		return nil, rov.LoadStats{}, err
	}
	defer f.Close()
	return rov.LoadVRPs(f, name, opt)
}

// LoadSLURM reads the SLURM files and merges them into one (RFC 8416 §4.2:
// overlapping assertions or filters between files are an error); nil when
// names is empty. Every VRP consumer (analyze's pipeline, watch's VRP feed)
// takes its SLURM from here.
func LoadSLURM(names []string) (*rov.SLURM, error) {
	if len(names) == 0 {
		return nil, nil
	}
	files := make([]*rov.SLURM, 0, len(names))
	for _, name := range names {
		f, err := compressed.Open(name)
		if err != nil {
			return nil, err
		}
		s, err := rov.LoadSLURM(f, name)
		f.Close()
		if err != nil {
			return nil, err
		}
		files = append(files, s)
	}
	return rov.MergeSLURM(files...)
}
