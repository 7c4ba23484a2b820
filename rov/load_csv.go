package rov

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// lcCols tells which comma-separated column holds which VRP field; -1
// means absent.
type lcCols struct {
	n                       int // number of columns a row must have (0: 3 or 4)
	prefix, maxLen, asn, ta int
}

// Column layouts of headerless files: the plain "prefix,maxlen,asn[,ta]"
// and Routinator's "ASN,IP Prefix,Max Length,Trust Anchor" order.
var (
	lcPlain      = lcCols{prefix: 0, maxLen: 1, asn: 2, ta: 3}
	lcRoutinator = lcCols{n: 4, asn: 0, prefix: 1, maxLen: 2, ta: 3}
)

// lcHeader recognises a header line. Every column must have a known name
// and prefix, max length and ASN must all be present, so a data line is
// never mistaken for a header. Routinator's csvext columns (URI, Not
// Before, Not After) are accepted and ignored.
func lcHeader(fields [][]byte) (lcCols, string, bool) {
	c := lcCols{n: len(fields), prefix: -1, maxLen: -1, asn: -1, ta: -1}
	format := FormatCSV
	for i, f := range fields {
		switch string(bytes.ToLower(f)) {
		case "asn", "as", "origin":
			c.asn = i
		case "ip prefix":
			c.prefix = i
			format = FormatRoutinatorCSV
		case "prefix":
			c.prefix = i
		case "max length", "maxlength", "maxlen", "max_length", "max-length":
			c.maxLen = i
		case "trust anchor", "ta", "tal":
			c.ta = i
		case "uri", "not before", "not after":
		default:
			return lcCols{}, "", false
		}
	}
	if c.prefix < 0 || c.maxLen < 0 || c.asn < 0 {
		return lcCols{}, "", false
	}
	return c, format, true
}

// loadCSV reads a CSV export line by line. Blank lines and lines starting
// with '#' are skipped (they are not VRP entries, so not counted).
func (l *vrpLoader) loadCSV(br *bufio.Reader) error {
	var (
		cols     lcCols
		haveCols bool
		fields   = make([][]byte, 0, 8)
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
		fields = fields[:0]
		for f := range bytes.SplitSeq(b, []byte{','}) {
			fields = append(fields, bytes.TrimSpace(f))
		}
		if !haveCols {
			haveCols = true
			if c, format, ok := lcHeader(fields); ok {
				cols, l.st.Format = c, format
				continue
			}
			cols, l.st.Format = lcPlain, FormatCSV
			if len(fields[0]) > 0 && (fields[0][0] == 'A' || fields[0][0] == 'a') {
				cols, l.st.Format = lcRoutinator, FormatRoutinatorCSV
			}
			if bytes.IndexFunc(b, func(r rune) bool { return r >= '0' && r <= '9' }) < 0 {
				return fmt.Errorf("%s:%d: unrecognised header %q: want e.g. \"ASN,IP Prefix,Max Length,Trust Anchor\" or \"prefix,maxlen,asn\"", l.name, line, b)
			}
		}
		v, err := lcRow(l, cols, fields)
		if err != nil {
			return fmt.Errorf("%s:%d: %w", l.name, line, err)
		}
		l.add(v, 0)
		if rerr == io.EOF {
			break
		}
	}
	if l.st.Format == "" {
		return fmt.Errorf("%s: no VRP lines and no header: not a VRP export", l.name)
	}
	return nil
}

// lcRow parses one data row.
func lcRow(l *vrpLoader, c lcCols, fields [][]byte) (VRP, error) {
	if c.n == 0 {
		if len(fields) != 3 && len(fields) != 4 {
			return VRP{}, fmt.Errorf("want 3 or 4 fields (prefix,maxlen,asn[,ta]), got %d", len(fields))
		}
	} else if len(fields) != c.n {
		return VRP{}, fmt.Errorf("want %d fields, got %d", c.n, len(fields))
	}
	p, err := loadParsePrefix(fields[c.prefix])
	if err != nil {
		return VRP{}, err
	}
	asn, err := loadParseASNText(fields[c.asn])
	if err != nil {
		return VRP{}, err
	}
	if len(fields[c.maxLen]) == 0 {
		return VRP{}, errors.New("maxLength is empty")
	}
	m, err := loadParseUint(fields[c.maxLen], 1<<16, "maxLength")
	if err != nil {
		return VRP{}, err
	}
	ml, err := loadCheckMaxLen(p, m)
	if err != nil {
		return VRP{}, err
	}
	v := VRP{Prefix: p, MaxLen: ml, ASN: asn}
	if c.ta >= 0 && c.ta < len(fields) {
		v.TA = l.intern(fields[c.ta])
	}
	return v, nil
}
