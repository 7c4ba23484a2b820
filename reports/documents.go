package reports

import (
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/rovimpact/rovimpact/internal/atomicfile"

	"github.com/rovimpact/rovimpact/classify"
)

// AnalyzeDoc is analyze's report with what its formats need besides it.
type AnalyzeDoc struct {
	Report Report
	Top    int  // rows per table of the table format (0: all)
	Wide   bool // table format: every column whole (WriteTableWide)
	// Generated is when the html report was made (zero: not shown).
	Generated time.Time
	// Trend returns the history's trend for the html report (nil: none);
	// only the html writer calls it.
	Trend func() ([]TrendPoint, error)
	// ASPA adds the html report's ASPA section (analyze --aspa; nil: none).
	ASPA *ASPAReport
}

// AnalyzeFormats is analyze's format table.
var AnalyzeFormats = newFormats("analyze",
	Format[AnalyzeDoc]{"table", func(w io.Writer, d AnalyzeDoc) error {
		if d.Wide {
			return WriteTableWide(w, d.Report, d.Top)
		}
		return WriteTable(w, d.Report, d.Top)
	}},
	Format[AnalyzeDoc]{"json", func(w io.Writer, d AnalyzeDoc) error { return WriteJSON(w, d.Report) }},
	Format[AnalyzeDoc]{"csv", func(w io.Writer, d AnalyzeDoc) error { return WriteInvalidsCSV(w, d.Report.Invalids) }},
	Format[AnalyzeDoc]{"html", writeAnalyzeHTML},
	Format[AnalyzeDoc]{"ndjson", func(w io.Writer, d AnalyzeDoc) error { return WriteInvalidsNDJSON(w, d.Report.Invalids) }},
)

func writeAnalyzeHTML(w io.Writer, d AnalyzeDoc) error {
	doc := HTMLDoc{Report: d.Report, Generated: d.Generated, ASPA: d.ASPA}
	if d.Trend != nil {
		var err error
		if doc.Trend, err = d.Trend(); err != nil {
			return err
		}
	}
	return WriteHTML(w, doc)
}

// ReportFile is one file of analyze --output-dir.
type ReportFile struct {
	Name  string
	Write func(io.Writer) error
}

// ReportFiles are the files analyze --output-dir writes: the report in
// JSON, text (every row) and HTML, and the invalids and origins as CSV;
// peers.csv only with per-peer rows asked for (perPeer), since a
// header-only file would read as "no peer dropped anything".
func ReportFiles(d AnalyzeDoc, perPeer bool) []ReportFile {
	rep := d.Report
	files := []ReportFile{
		{"report.json", func(w io.Writer) error { return WriteJSON(w, rep) }},
		{"report.txt", func(w io.Writer) error { return WriteTable(w, rep, 0) }},
		{"report.html", func(w io.Writer) error { return writeAnalyzeHTML(w, d) }},
		{"invalids.csv", func(w io.Writer) error { return WriteInvalidsCSV(w, rep.Invalids) }},
		{"origins.csv", func(w io.Writer) error { return WriteOriginsCSV(w, rep.Origins) }},
	}
	if perPeer {
		files = append(files, ReportFile{"peers.csv", func(w io.Writer) error { return WritePeersCSV(w, rep.Peers) }})
	}
	return files
}

// WriteReportDir writes ReportFiles into dir (made if missing), for cron
// jobs that keep each night's results. Each file is written to a
// temporary name and renamed, so a reader never sees half a report.
func WriteReportDir(dir string, d AnalyzeDoc, perPeer bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range ReportFiles(d, perPeer) {
		if err := atomicfile.Write(filepath.Join(dir, f.Name), f.Write); err != nil {
			return err
		}
	}
	return nil
}

// LookupRequest is what lookup answers: queries against an analysis.
type LookupRequest struct {
	Analysis *classify.Analysis
	Queries  []Query
	Origin   *uint32 // --origin: also the verdict for this origin
	Top      int     // table format: rows per list (0: all)
	Wide     bool    // table format: route tables' columns whole
}

// LookupFormats is lookup's format table. Every format answers one query
// at a time (LookupWriter), so a batch holds one answer in memory.
var LookupFormats = func() Formats[LookupRequest] {
	f := Formats[LookupRequest]{Doc: "lookup"}
	for _, name := range lookupFormatNames {
		f.entries = append(f.entries, Format[LookupRequest]{name, lookupFormat(name)})
	}
	return f
}()

// lookupFormatNames are the formats LookupWriter renders.
var lookupFormatNames = []string{"table", "json", "csv", "ndjson"}

func lookupFormat(name string) func(io.Writer, LookupRequest) error {
	return func(w io.Writer, r LookupRequest) error {
		lw, err := NewLookupWriter(w, name)
		if err != nil {
			return err
		}
		lw.Top, lw.Wide = r.Top, r.Wide
		for _, q := range r.Queries {
			if err := lw.WriteQuery(r.Analysis, q, r.Origin); err != nil {
				return err
			}
		}
		return lw.Close()
	}
}

// DiffFormats is diff's format table; line is the one-line summary (for
// syslog or a mail subject).
var DiffFormats = newFormats("diff",
	Format[Diff]{"line", func(w io.Writer, d Diff) error { _, err := io.WriteString(w, d.Line()+"\n"); return err }},
	Format[Diff]{"table", WriteDiffTable},
	Format[Diff]{"json", WriteDiffJSON},
	Format[Diff]{"csv", WriteDiffCSV},
	Format[Diff]{"ndjson", WriteDiffNDJSON},
)

// VRPDiffDoc is vrps diff's document with the table format's row limit.
type VRPDiffDoc struct {
	Diff VRPDiff
	Top  int // rows per table of the table format (0: all)
}

// VRPDiffFormats is vrps diff's format table.
var VRPDiffFormats = newFormats("vrps diff",
	Format[VRPDiffDoc]{"line", func(w io.Writer, d VRPDiffDoc) error {
		_, err := io.WriteString(w, d.Diff.Line()+"\n")
		return err
	}},
	Format[VRPDiffDoc]{"table", func(w io.Writer, d VRPDiffDoc) error { return WriteVRPDiffTable(w, d.Diff, d.Top) }},
	Format[VRPDiffDoc]{"json", func(w io.Writer, d VRPDiffDoc) error { return WriteVRPDiffJSON(w, d.Diff) }},
	Format[VRPDiffDoc]{"csv", func(w io.Writer, d VRPDiffDoc) error { return WriteVRPDiffCSV(w, d.Diff) }},
	Format[VRPDiffDoc]{"ndjson", func(w io.Writer, d VRPDiffDoc) error { return WriteVRPDiffNDJSON(w, d.Diff) }},
)
