package rov

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode/utf8"
)

// The CSV exports operators have, as their producers document them:
//
//   - Routinator "csv" (routinator-manual source/output-formats.rst):
//     ASN,IP Prefix,Max Length,Trust Anchor
//     AS196615,2001:7fb:fd03::/48,48,ripe
//   - rpki-client "-c" (OpenBSD usr.sbin/rpki-client/output-csv.c, since
//     2021 with the Expires column, a Unix time):
//     ASN,IP Prefix,Max Length,Trust Anchor,Expires
//     AS13335,1.0.0.0/24,24,apnic,1753453058
//   - Routinator "csvcompat" (the RIPE NCC RPKI Validator's CSV): every
//     field in double quotes, the ASN documented as a bare number
//     ("196615"; Routinator's own tests show "AS1234"; both are taken):
//     "ASN","IP Prefix","Max Length","Trust Anchor"
//     "196615","2001:7fb:fd03::/48","48","ripe"
//   - Routinator "csvext" (the RIPE NCC RPKI Validator 1.x format), which
//     is also the RIPE NCC RPKI archive's daily roas.csv
//     (ftp.ripe.net/rpki/<ta>.tal/YYYY/MM/DD/roas.csv, written by
//     Routinator per RIPE-NCC/internet-dataset-descriptions
//     rpki-repo-archive.md): the ROA's rsync URI (or N/A) and its validity
//     ("YYYY-MM-DD hh:mm:ss" UTC, or N/A), no trust anchor:
//     URI,ASN,IP Prefix,Max Length,Not Before,Not After
//     rsync://rpki.ripe.net/repository/DEFAULT/73/fe2d72-c2dd-46c1-9429-e66369649411/1/49sMtcwyAuAW2lVDSQBGhOHd9og.roa,AS196615,93.175.147.0/24,24,2021-05-03 14:51:30,2022-07-01 00:00:00
//   - plain "prefix,maxlen,asn[,ta]" with or without a header.
//
// A UTF-8 byte order mark before the first line and CRLF line ends are
// accepted (spreadsheets write both); '#' comment lines and blank lines
// are skipped. Fields may be quoted as RFC 4180 §2 says (a quoted field
// may hold commas and "" for a quote) but may not span lines: no VRP
// field holds a line break, so an open quote at the end of a line is an
// error. Text fields (trust anchor, URI) must be UTF-8: a TA name with a
// stray Latin-1 byte would otherwise become a TA of its own in every
// per-TA count.

// lcCols tells which comma-separated column holds which VRP field; -1
// means absent.
type lcCols struct {
	n                       int // number of columns a row must have (0: 3 or 4)
	prefix, maxLen, asn, ta int
	expires                 int // rpki-client: Unix time
	notAfter                int // csvext: "YYYY-MM-DD hh:mm:ss" UTC or N/A
	names                   []string
}

// Column layouts of headerless files: the plain "prefix,maxlen,asn[,ta]"
// and Routinator's "ASN,IP Prefix,Max Length,Trust Anchor" order.
var (
	lcPlain      = lcCols{prefix: 0, maxLen: 1, asn: 2, ta: 3, expires: -1, notAfter: -1}
	lcRoutinator = lcCols{n: 4, asn: 0, prefix: 1, maxLen: 2, ta: 3, expires: -1, notAfter: -1}
)

// lcNotAfterLayout is csvext's time format (Routinator output.rs: year-
// month-day hour:minute:second, UTC).
const lcNotAfterLayout = "2006-01-02 15:04:05"

// lcHeader recognises a header line. Every column must have a known name
// and prefix, max length and ASN must all be present, so a data line is
// never mistaken for a header. quoted tells that the header's fields were
// quoted (csvcompat).
func lcHeader(fields [][]byte, quoted bool) (lcCols, string, bool) {
	c := lcCols{n: len(fields), prefix: -1, maxLen: -1, asn: -1, ta: -1, expires: -1, notAfter: -1}
	var ipPrefix, uri bool
	for i, f := range fields {
		switch string(bytes.ToLower(f)) {
		case "asn", "as", "origin":
			c.asn = i
		case "ip prefix":
			c.prefix, ipPrefix = i, true
		case "prefix":
			c.prefix = i
		case "max length", "maxlength", "maxlen", "max_length", "max-length":
			c.maxLen = i
		case "trust anchor", "ta", "tal":
			c.ta = i
		case "expires":
			c.expires = i
		case "not after":
			c.notAfter = i
		case "uri":
			uri = true
		case "not before":
			// Not used: a ROA not yet valid is not in a validator's
			// output, so the column only restates what the URI's
			// certificate said.
		default:
			return lcCols{}, "", false
		}
		c.names = append(c.names, string(f))
	}
	if c.prefix < 0 || c.maxLen < 0 || c.asn < 0 {
		return lcCols{}, "", false
	}
	format := FormatCSV
	switch {
	case uri && c.notAfter >= 0:
		format = FormatRoutinatorCSVExt
	case ipPrefix && c.expires >= 0:
		format = FormatRPKIClientCSV
	case ipPrefix && quoted:
		format = FormatRoutinatorCSVCompat
	case ipPrefix:
		format = FormatRoutinatorCSV
	}
	return c, format, true
}

// lcName names column i in errors: its header name, else its number.
func (c lcCols) name(i int) string {
	if i < len(c.names) {
		return fmt.Sprintf("%q column", c.names[i])
	}
	return fmt.Sprintf("column %d", i+1)
}

// lcSplit splits line b into fields (appended to fields[:0]), trimming
// spaces around each and removing RFC 4180 quotes. A quoted field with
// "" escapes is unescaped into scratch, so fields may point into it; both
// are reused per line. starts receives the byte offset in b of each
// field's contents (after its opening quote).
// quoted reports whether any field was quoted.
func lcSplit(b []byte, fields [][]byte, starts []int, scratch []byte) ([][]byte, []int, []byte, bool, error) {
	fields, starts, scratch = fields[:0], starts[:0], scratch[:0]
	quoted := false
	i := 0
	for {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
			i++
		}
		start, contents := i, i
		var f []byte
		if i < len(b) && b[i] == '"' {
			quoted = true
			i++
			from := i
			contents = i
			esc := false
			for {
				j := bytes.IndexByte(b[i:], '"')
				if j < 0 {
					return nil, nil, nil, false, fmt.Errorf("column %d: quoted field not closed on this line", start+1)
				}
				i += j
				if i+1 < len(b) && b[i+1] == '"' { // "" is one quote
					esc = true
					i += 2
					continue
				}
				break
			}
			f = b[from:i]
			i++ // closing quote
			if esc {
				n := len(scratch)
				scratch = append(scratch, bytes.ReplaceAll(f, []byte(`""`), []byte(`"`))...)
				f = scratch[n:]
			}
			for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
				i++
			}
			if i < len(b) && b[i] != ',' {
				return nil, nil, nil, false, fmt.Errorf("column %d: %q after a quoted field, want a comma", i+1, b[i])
			}
		} else {
			j := bytes.IndexByte(b[i:], ',')
			if j < 0 {
				j = len(b) - i
			}
			f = bytes.TrimRight(b[i:i+j], " \t")
			if k := bytes.IndexByte(f, '"'); k >= 0 {
				return nil, nil, nil, false, fmt.Errorf("column %d: quote inside an unquoted field %q", i+k+1, f)
			}
			i += j
		}
		fields = append(fields, f)
		starts = append(starts, contents)
		if i >= len(b) {
			return fields, starts, scratch, quoted, nil
		}
		i++ // the comma
	}
}

// loadCSV reads a CSV export line by line. Blank lines and lines starting
// with '#' are skipped (they are not VRP entries, so not counted).
func (l *vrpLoader) loadCSV(br *bufio.Reader) error {
	var (
		cols     lcCols
		haveCols bool
		fields   = make([][]byte, 0, 8)
		starts   = make([]int, 0, 8)
		scratch  []byte
		quoted   bool
		line     int
	)
	for {
		raw, rerr := br.ReadSlice('\n')
		if rerr == bufio.ErrBufferFull {
			return fmt.Errorf("%s:%d: line longer than %d bytes", l.name, line+1, br.Size())
		}
		if rerr != nil && rerr != io.EOF {
			return fmt.Errorf("%s:%d: %w", l.name, line+1, rerr)
		}
		if len(raw) == 0 && rerr == io.EOF {
			break
		}
		line++
		b := bytes.TrimSpace(raw)
		if len(b) == 0 || b[0] == '#' {
			if rerr == io.EOF {
				break
			}
			continue
		}
		var err error
		fields, starts, scratch, quoted, err = lcSplit(b, fields, starts, scratch)
		if err != nil {
			return fmt.Errorf("%s:%d: %w", l.name, line, err)
		}
		if !haveCols {
			haveCols = true
			if c, format, ok := lcHeader(fields, quoted); ok {
				cols, l.st.Format = c, format
				continue
			}
			cols, l.st.Format = lcPlain, FormatCSV
			if len(fields[0]) > 0 && (fields[0][0] == 'A' || fields[0][0] == 'a') {
				cols, l.st.Format = lcRoutinator, FormatRoutinatorCSV
			}
			if bytes.IndexFunc(b, func(r rune) bool { return r >= '0' && r <= '9' }) < 0 {
				return fmt.Errorf("%s:%d: unrecognised header %q: want e.g. \"ASN,IP Prefix,Max Length,Trust Anchor[,Expires]\", \"URI,ASN,IP Prefix,Max Length,Not Before,Not After\" or \"prefix,maxlen,asn\"", l.name, line, b)
			}
		}
		v, exp, err := lcRow(l, cols, fields, starts)
		if err != nil {
			return fmt.Errorf("%s:%d: %w", l.name, line, err)
		}
		l.add(v, exp)
		if rerr == io.EOF {
			break
		}
	}
	if l.st.Format == "" {
		return fmt.Errorf("%s: no VRP lines and no header: not a VRP export", l.name)
	}
	return nil
}

// lcText checks that text field i is UTF-8, naming the column and the
// byte position (1-based, in the line) of the first bad byte.
func lcText(c lcCols, fields [][]byte, starts []int, i int) error {
	f := fields[i]
	if utf8.Valid(f) {
		return nil
	}
	j := 0
	for j < len(f) {
		r, n := utf8.DecodeRune(f[j:])
		if r == utf8.RuneError && n <= 1 {
			break
		}
		j += n
	}
	col := starts[i] + j + 1 // off by one per "" escape before it
	return fmt.Errorf("column %d: invalid UTF-8 byte 0x%02x in the %s (%q)", col, f[j], c.name(i), f)
}

// lcRow parses one data row; expires is a Unix time, 0 if unknown.
func lcRow(l *vrpLoader, c lcCols, fields [][]byte, starts []int) (VRP, int64, error) {
	if c.n == 0 {
		if len(fields) != 3 && len(fields) != 4 {
			return VRP{}, 0, fmt.Errorf("want 3 or 4 fields (prefix,maxlen,asn[,ta]), got %d", len(fields))
		}
	} else if len(fields) != c.n {
		return VRP{}, 0, fmt.Errorf("want %d fields, got %d", c.n, len(fields))
	}
	p, err := loadParsePrefix(fields[c.prefix])
	if err != nil {
		return VRP{}, 0, err
	}
	asn, err := loadParseASNText(fields[c.asn])
	if err != nil {
		return VRP{}, 0, err
	}
	if len(fields[c.maxLen]) == 0 {
		return VRP{}, 0, errors.New("maxLength is empty")
	}
	m, err := loadParseUint(fields[c.maxLen], 1<<16, "maxLength")
	if err != nil {
		return VRP{}, 0, err
	}
	ml, err := loadCheckMaxLen(p, m)
	if err != nil {
		return VRP{}, 0, err
	}
	for i := range fields {
		if i != c.prefix && i != c.asn && i != c.maxLen {
			if err := lcText(c, fields, starts, i); err != nil {
				return VRP{}, 0, err
			}
		}
	}
	v := VRP{Prefix: p, MaxLen: ml, ASN: asn}
	if c.ta >= 0 && c.ta < len(fields) {
		v.TA = l.intern(fields[c.ta])
	}
	var exp int64
	switch {
	case c.expires >= 0:
		if exp, err = loadParseExpires(fields[c.expires]); err != nil {
			return VRP{}, 0, err
		}
	case c.notAfter >= 0:
		if f := fields[c.notAfter]; string(f) != "N/A" {
			t, err := time.Parse(lcNotAfterLayout, string(f))
			if err != nil {
				return VRP{}, 0, fmt.Errorf("Not After %q: want YYYY-MM-DD hh:mm:ss (UTC) or N/A", f)
			}
			exp = t.Unix()
		}
	}
	return v, exp, nil
}
