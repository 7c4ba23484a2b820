package rov

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"
	"unicode/utf8"
)

// The JSON VRP exports all share one shape:
//
//	{"metadata": {...}, "roas": [{"prefix": "..", "maxLength": 24,
//	  "asn": 13335 | "AS13335", "ta": "..", "expires": 1753453058}, ...],
//	 ...other top-level members (aspas, bgpsec_keys, routerKeys...)}
//
// Routinator's jsonext has "source": [{"tal": "..", ...}] instead of "ta".
// "aspas" (rpki-client, Routinator) is read into ASPA values (aspa.go).
// Every string must be UTF-8 (RFC 8259 §8.1); a bad byte is an error at
// its offset, where encoding/json would silently substitute U+FFFD.
// The scanner below walks that shape directly over a refilled byte buffer:
// it decodes only prefix, maxLength, asn, ta, expires and source[].tal, and
// validates (but does not build) everything else, so it accepts exactly
// the documents encoding/json accepts (the differential fuzz test checks
// this). Members are matched by exact, case-sensitive name; of duplicate
// members inside one ROA object the last wins, as with encoding/json maps;
// a second top-level "roas" member is an error.

// ljMaxDepth is encoding/json's nesting limit, kept equal so both accept
// the same documents.
const ljMaxDepth = 10000

// ljScanner is a pull scanner over a JSON byte stream. Slices it returns
// point into its buffer and are valid only until the next call.
type ljScanner struct {
	r    io.Reader
	name string
	buf  []byte
	pos  int   // next unread byte
	end  int   // buf[:end] holds data
	base int64 // input offset of buf[0]
	eof  bool
	rerr error
	tmp  []byte // unescaped string contents (slow path)
}

// fill moves the unread data to the front of the buffer (growing it when
// full) and reads more. It reports whether any byte was added.
func (s *ljScanner) fill() bool {
	if s.eof || s.rerr != nil {
		return false
	}
	if s.pos > 0 {
		n := copy(s.buf, s.buf[s.pos:s.end])
		s.base += int64(s.pos)
		s.end = n
		s.pos = 0
	}
	if s.end == len(s.buf) {
		nb := make([]byte, 2*len(s.buf))
		copy(nb, s.buf[:s.end])
		s.buf = nb
	}
	for {
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		if err == io.EOF {
			s.eof = true
		} else if err != nil {
			s.rerr = err
		}
		if n > 0 {
			return true
		}
		if err != nil {
			return false
		}
	}
}

func (s *ljScanner) errAt(i int, format string, args ...any) error {
	return fmt.Errorf("%s: offset %d: %s", s.name, s.base+int64(i), fmt.Sprintf(format, args...))
}

// eofErr is the error for input that ends inside a value: a read error if
// there was one, else io.ErrUnexpectedEOF (a truncated file is not a clean
// end).
func (s *ljScanner) eofErr() error {
	if s.rerr != nil {
		return fmt.Errorf("%s: offset %d: %w", s.name, s.base+int64(s.end), s.rerr)
	}
	return fmt.Errorf("%s: offset %d: truncated JSON: %w", s.name, s.base+int64(s.end), io.ErrUnexpectedEOF)
}

// peek skips JSON whitespace and returns the next byte without consuming
// it; it fails at end of input.
func (s *ljScanner) peek() (byte, error) {
	for {
		for s.pos < s.end {
			c := s.buf[s.pos]
			if c != ' ' && c != '\n' && c != '\t' && c != '\r' {
				return c, nil
			}
			s.pos++
		}
		if !s.fill() {
			return 0, s.eofErr()
		}
	}
}

// expect consumes byte want after optional whitespace.
func (s *ljScanner) expect(want byte, context string) error {
	c, err := s.peek()
	if err != nil {
		return err
	}
	if c != want {
		return s.errAt(s.pos, "invalid character %q %s", c, context)
	}
	s.pos++
	return nil
}

// readString reads the string starting at s.pos (which holds '"') and
// returns its decoded contents.
func (s *ljScanner) readString() ([]byte, error) {
	i := s.pos + 1
	for {
		for i < s.end {
			c := s.buf[i]
			if c == '"' {
				b := s.buf[s.pos+1 : i]
				s.pos = i + 1
				return b, nil
			}
			if c == '\\' || c >= 0x80 {
				return s.readStringSlow(i)
			}
			if c < 0x20 {
				return nil, s.errAt(i, "invalid control character %q in string", c)
			}
			i++
		}
		off := i - s.pos
		if !s.fill() {
			return nil, s.eofErr()
		}
		i = s.pos + off
	}
}

// readStringSlow handles strings with escapes or non-ASCII bytes by
// finding the closing quote and letting encoding/json unquote the token,
// so escapes and invalid UTF-8 are treated exactly as encoding/json does.
// Export files almost never need it.
func (s *ljScanner) readStringSlow(i int) ([]byte, error) {
	for {
		for i < s.end {
			c := s.buf[i]
			switch {
			case c == '"':
				// RFC 8259 §8.1: JSON text is UTF-8. encoding/json would
				// turn a bad byte into U+FFFD, so a TA "ripe\xff" would
				// quietly become a TA of its own; refuse it with its offset.
				if j := ljInvalidUTF8(s.buf[s.pos+1 : i]); j >= 0 {
					return nil, s.errAt(s.pos+1+j, "invalid UTF-8 byte 0x%02x in string", s.buf[s.pos+1+j])
				}
				var str string
				if err := json.Unmarshal(s.buf[s.pos:i+1], &str); err != nil {
					return nil, s.errAt(s.pos, "bad string: %v", err)
				}
				s.tmp = append(s.tmp[:0], str...)
				s.pos = i + 1
				return s.tmp, nil
			case c == '\\':
				i += 2
			case c < 0x20:
				return nil, s.errAt(i, "invalid control character %q in string", c)
			default:
				i++
			}
		}
		off := i - s.pos
		if !s.fill() {
			return nil, s.eofErr()
		}
		i = s.pos + off
	}
}

// ljInvalidUTF8 returns the offset of the first byte of b that is not
// part of valid UTF-8, or -1.
func ljInvalidUTF8(b []byte) int {
	if utf8.Valid(b) {
		return -1
	}
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return -1
}

func ljIsNumByte(c byte) bool {
	return c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}

// readNumber reads the number starting at s.pos and checks it against the
// JSON number grammar (RFC 8259 §6).
func (s *ljScanner) readNumber() ([]byte, error) {
	i := s.pos
scan:
	for {
		for i < s.end {
			if !ljIsNumByte(s.buf[i]) {
				break scan
			}
			i++
		}
		off := i - s.pos
		if !s.fill() {
			if s.rerr != nil {
				return nil, s.eofErr()
			}
			i = s.pos + off
			break
		}
		i = s.pos + off
	}
	b := s.buf[s.pos:i]
	if !ljValidNumber(b) {
		return nil, s.errAt(s.pos, "invalid number %q", b)
	}
	s.pos = i
	return b, nil
}

// ljValidNumber reports whether b is a JSON number:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func ljValidNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return false
	}
	if b[i] == '0' {
		i++
	} else if b[i] >= '1' && b[i] <= '9' {
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	} else {
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		j := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == j {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == j {
			return false
		}
	}
	return i == len(b)
}

// readLiteral consumes true, false or null.
func (s *ljScanner) readLiteral(word string) error {
	for s.end-s.pos < len(word) {
		if !s.fill() {
			if s.rerr != nil {
				return s.eofErr()
			}
			break
		}
	}
	n := min(len(word), s.end-s.pos)
	if string(s.buf[s.pos:s.pos+n]) != word {
		return s.errAt(s.pos, "invalid literal, want %s", word)
	}
	s.pos += len(word)
	return nil
}

// Kinds of JSON values, as told by their first byte.
const (
	ljString = iota
	ljNumber
	ljNull
	ljOther // object, array, true, false
)

func ljKind(c byte) int {
	switch {
	case c == '"':
		return ljString
	case c == '-' || c >= '0' && c <= '9':
		return ljNumber
	case c == 'n':
		return ljNull
	}
	return ljOther
}

func ljKindName(c byte) string {
	switch c {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// skipValue validates and skips one value. depth is the nesting level a
// container value would have.
func (s *ljScanner) skipValue(depth int) error {
	c, err := s.peek()
	if err != nil {
		return err
	}
	switch {
	case c == '{' || c == '[':
		if depth > ljMaxDepth {
			return s.errAt(s.pos, "exceeded max nesting depth %d", ljMaxDepth)
		}
		s.pos++
		if c == '{' {
			return s.eachMember(func([]byte) error { return s.skipValue(depth + 1) })
		}
		return s.eachElement(func(int) error { return s.skipValue(depth + 1) })
	case c == '"':
		_, err := s.readString()
		return err
	case c == '-' || c >= '0' && c <= '9':
		_, err := s.readNumber()
		return err
	case c == 't':
		return s.readLiteral("true")
	case c == 'f':
		return s.readLiteral("false")
	case c == 'n':
		return s.readLiteral("null")
	}
	return s.errAt(s.pos, "invalid character %q looking for beginning of value", c)
}

// eachMember iterates the members of an object whose '{' was consumed,
// calling fn with each key (valid only until fn reads further) positioned
// before the value; fn must consume the value.
func (s *ljScanner) eachMember(fn func(key []byte) error) error {
	c, err := s.peek()
	if err != nil {
		return err
	}
	if c == '}' {
		s.pos++
		return nil
	}
	for {
		if c != '"' {
			return s.errAt(s.pos, "invalid character %q looking for beginning of object key", c)
		}
		key, err := s.readString()
		if err != nil {
			return err
		}
		// The key may live in s.tmp or the buffer; expect() may refill the
		// buffer, so callers compare keys before reading on, and here we
		// only need it until fn starts.
		if s.pos < s.end && s.buf[s.pos] == ':' {
			s.pos++
		} else {
			k := string(key)
			if err := s.expect(':', "after object key"); err != nil {
				return err
			}
			key = []byte(k)
		}
		if err := fn(key); err != nil {
			return err
		}
		c, err = s.peek()
		if err != nil {
			return err
		}
		s.pos++
		switch c {
		case ',':
			c, err = s.peek()
			if err != nil {
				return err
			}
		case '}':
			return nil
		default:
			return s.errAt(s.pos-1, "invalid character %q after object value", c)
		}
	}
}

// eachElement iterates an array whose '[' was consumed; fn must consume
// element i.
func (s *ljScanner) eachElement(fn func(i int) error) error {
	c, err := s.peek()
	if err != nil {
		return err
	}
	if c == ']' {
		s.pos++
		return nil
	}
	for i := 0; ; i++ {
		if err := fn(i); err != nil {
			return err
		}
		c, err = s.peek()
		if err != nil {
			return err
		}
		s.pos++
		switch c {
		case ',':
		case ']':
			return nil
		default:
			return s.errAt(s.pos-1, "invalid character %q after array element", c)
		}
	}
}

// ljFields collects one ROA object's members. Each member's outcome (value
// or error) is stored when read and judged at the end of the object, so a
// duplicate member overrides the earlier one as in encoding/json.
type ljFields struct {
	prefix    netip.Prefix
	prefixErr error
	hasPrefix bool

	asn     uint32
	asnErr  error
	hasASN  bool
	asnText bool

	maxLen    uint64
	maxLenErr error
	hasMaxLen bool

	ta, srcTA     string
	taErr, srcErr error
	hasSource     bool

	expires    int64
	expiresErr error
}

// vrp turns the collected members into a VRP, checking the rules in a
// fixed order so the first problem reported does not depend on member
// order.
func (f *ljFields) vrp() (VRP, int64, error) {
	switch {
	case f.prefixErr != nil:
		return VRP{}, 0, f.prefixErr
	case !f.hasPrefix:
		return VRP{}, 0, errors.New(`missing "prefix"`)
	case f.asnErr != nil:
		return VRP{}, 0, f.asnErr
	case !f.hasASN:
		return VRP{}, 0, errors.New(`missing "asn"`)
	case f.maxLenErr != nil:
		return VRP{}, 0, f.maxLenErr
	case !f.hasMaxLen:
		return VRP{}, 0, errors.New(`missing "maxLength"`)
	case f.taErr != nil:
		return VRP{}, 0, f.taErr
	case f.srcErr != nil:
		return VRP{}, 0, f.srcErr
	case f.expiresErr != nil:
		return VRP{}, 0, f.expiresErr
	}
	m, err := loadCheckMaxLen(f.prefix, f.maxLen)
	if err != nil {
		return VRP{}, 0, err
	}
	ta := f.ta
	if ta == "" {
		ta = f.srcTA
	}
	return VRP{Prefix: f.prefix, MaxLen: m, ASN: f.asn, TA: ta}, f.expires, nil
}

func ljTypeErr(field string, c byte, want string) error {
	return fmt.Errorf("%s is %s, want %s", field, ljKindName(c), want)
}

// ljFormatHint maps metadata member names to the exporter that writes them.
func ljFormatHint(key string) string {
	switch key {
	case "buildmachine", "buildtime", "elapsedtime":
		return FormatRPKIClientJSON
	case "generatedTime":
		return FormatRoutinatorJSON
	case "counts", "signature", "signatureDate":
		return FormatStayRTRJSON
	}
	return ""
}

// ljFormat decides LoadStats.Format: a metadata hint wins; without one,
// jsonext's "source" or an "AS…" string ASN means Routinator, a numeric
// ASN rpki-client (stayrtr files carry "counts" in their metadata).
func ljFormat(hint string, sawSource, firstASNText bool) string {
	switch {
	case hint != "":
		return hint
	case sawSource || firstASNText:
		return FormatRoutinatorJSON
	}
	return FormatRPKIClientJSON
}

// loadJSON reads a JSON export through the streaming scanner.
func (l *vrpLoader) loadJSON(r io.Reader) error {
	// Twice LoadExport's bufio buffer: a refill then asks for at least its
	// size, which bufio reads straight into this buffer instead of
	// through its own (a second copy of every byte).
	s := &ljScanner{r: r, name: l.name, buf: make([]byte, 512<<10)}
	if err := s.expect('{', "looking for beginning of JSON object"); err != nil {
		return err
	}
	var (
		hint          string
		seenRoas      bool
		seenASPAs     bool
		sawSource     bool
		firstASNText  bool
		firstASNKnown bool
		capHint       int
	)
	err := s.eachMember(func(key []byte) error {
		switch string(key) {
		case "roas":
			if seenRoas {
				return s.errAt(s.pos, `duplicate "roas" member`)
			}
			seenRoas = true
			c, err := s.peek()
			if err != nil {
				return err
			}
			if c != '[' {
				return s.errAt(s.pos, `"roas" is %s, want an array`, ljKindName(c))
			}
			if l.opt.ASPAsOnly {
				return s.skipValue(2)
			}
			s.pos++
			if capHint > 0 && cap(l.vrps) == 0 {
				l.vrps = make([]VRP, 0, capHint)
			}
			return s.eachElement(func(i int) error {
				if v, exp, text, ok := l.ljFastROA(s); ok {
					if !firstASNKnown {
						firstASNKnown, firstASNText = true, text
					}
					l.add(v, exp)
					return nil
				}
				f, err := l.ljReadROA(s)
				if err != nil {
					return err
				}
				if f == nil {
					return fmt.Errorf("%s: roas[%d]: not an object", l.name, i)
				}
				v, exp, err := f.vrp()
				if err != nil {
					return fmt.Errorf("%s: roas[%d]: %w", l.name, i, err)
				}
				if f.hasSource {
					sawSource = true
				}
				if !firstASNKnown {
					firstASNKnown, firstASNText = true, f.asnText
				}
				l.add(v, exp)
				return nil
			})
		case "aspas":
			if seenASPAs {
				return s.errAt(s.pos, `duplicate "aspas" member`)
			}
			seenASPAs = true
			return l.ljReadASPAs(s)
		case "metadata":
			c, err := s.peek()
			if err != nil {
				return err
			}
			if c != '{' {
				return s.skipValue(2)
			}
			s.pos++
			return s.eachMember(func(k []byte) error {
				if h := ljFormatHint(string(k)); h != "" && hint == "" {
					hint = h
				}
				switch string(k) {
				case "buildtime", "generatedTime":
					return l.ljMember(s, func(kind int, b []byte, _ byte) {
						if t, err := time.Parse(time.RFC3339, string(b)); kind == ljString && err == nil {
							l.st.BuildTime = t.UTC()
						}
					})
				case "generated":
					return l.ljMember(s, func(kind int, b []byte, _ byte) {
						if n, err := loadParseUint(b, 1<<40, "generated"); kind == ljNumber && err == nil && l.st.BuildTime.IsZero() {
							l.st.BuildTime = time.Unix(int64(n), 0).UTC()
						}
					})
				case "vrps", "uniquevrps", "counts":
					// A size hint only (rpki-client and stayrtr write
					// their VRP count before "roas"): presizing the
					// result saves ~150 MB of append growth on a full
					// export. Capped so a hostile file cannot make us
					// allocate much before any entry is read.
					c, err := s.peek()
					if err != nil {
						return err
					}
					if ljKind(c) == ljNumber {
						b, err := s.readNumber()
						if err != nil {
							return err
						}
						if n, err := loadParseUint(b, 1<<22, "count"); err == nil && capHint == 0 {
							capHint = int(n)
						}
						return nil
					}
				}
				return s.skipValue(3)
			})
		}
		return s.skipValue(2)
	})
	if err != nil {
		return err
	}
	// Trailing non-space data means a corrupt or concatenated file.
	for {
		for s.pos < s.end {
			switch s.buf[s.pos] {
			case ' ', '\t', '\r', '\n':
				s.pos++
				continue
			}
			return s.errAt(s.pos, "invalid character %q after top-level value", s.buf[s.pos])
		}
		if !s.fill() {
			break
		}
	}
	if s.rerr != nil {
		return s.eofErr()
	}
	if !seenRoas {
		return fmt.Errorf(`%s: no "roas" array: not a VRP export`, l.name)
	}
	l.st.Format = ljFormat(hint, sawSource, firstASNText)
	return nil
}

// ljReadROA reads one element of "roas". It returns nil fields (and no
// error) if the element is a valid JSON value but not an object.
func (l *vrpLoader) ljReadROA(s *ljScanner) (*ljFields, error) {
	c, err := s.peek()
	if err != nil {
		return nil, err
	}
	if c != '{' {
		if err := s.skipValue(3); err != nil {
			return nil, err
		}
		return nil, nil
	}
	s.pos++
	f := &l.fields
	*f = ljFields{}
	err = s.eachMember(func(key []byte) error {
		switch string(key) {
		case "prefix":
			return l.ljMember(s, func(kind int, b []byte, c byte) {
				f.hasPrefix, f.prefixErr = kind != ljNull, nil
				switch kind {
				case ljString:
					f.prefix, f.prefixErr = loadParsePrefix(b)
				case ljNull:
				default:
					f.prefixErr = ljTypeErr("prefix", c, "a string")
				}
			})
		case "asn":
			return l.ljMember(s, func(kind int, b []byte, c byte) {
				f.hasASN, f.asnErr, f.asnText = kind != ljNull, nil, kind == ljString
				switch kind {
				case ljString:
					f.asn, f.asnErr = loadParseASNText(b)
				case ljNumber:
					f.asn, f.asnErr = loadParseASNNumber(b)
				case ljNull:
				default:
					f.asnErr = ljTypeErr("asn", c, "a number or string")
				}
			})
		case "maxLength":
			return l.ljMember(s, func(kind int, b []byte, c byte) {
				f.hasMaxLen, f.maxLenErr = kind != ljNull, nil
				switch kind {
				case ljNumber:
					f.maxLen, f.maxLenErr = loadParseUint(b, 1<<16, "maxLength")
				case ljNull:
				default:
					f.maxLenErr = ljTypeErr("maxLength", c, "a number")
				}
			})
		case "ta":
			return l.ljReadTA(s, &f.ta, &f.taErr)
		case "expires":
			return l.ljReadExpires(s, &f.expires, &f.expiresErr)
		case "source":
			return l.ljReadSource(s, f)
		}
		return s.skipValue(4)
	})
	return f, err
}

// openArray starts reading the array member field: null is read and ok
// is false; a value of another kind sets *errp to a type error naming
// field and is skipped (ok false); an array's '[' is consumed (ok true).
// ROA sources and ASPA providers open alike.
func (s *ljScanner) openArray(field string, errp *error) (ok bool, err error) {
	c, err := s.peek()
	if err != nil {
		return false, err
	}
	if c == 'n' {
		return false, s.readLiteral("null")
	}
	if c != '[' {
		*errp = ljTypeErr(field, c, "an array")
		return false, s.skipValue(4)
	}
	s.pos++
	return true, nil
}

// ljReadTA reads a "ta" member (a string or null) into ta and its error
// into errp; ROA and ASPA entries decode it alike, with the same message.
func (l *vrpLoader) ljReadTA(s *ljScanner, ta *string, errp *error) error {
	return l.ljMember(s, func(kind int, b []byte, c byte) {
		*ta, *errp = "", nil
		switch kind {
		case ljString:
			*ta = l.intern(b)
		case ljNull:
		default:
			*errp = ljTypeErr("ta", c, "a string")
		}
	})
}

// ljReadExpires reads an "expires" member (a number or null) into exp and
// its error into errp; ROA and ASPA entries decode it alike.
func (l *vrpLoader) ljReadExpires(s *ljScanner, exp *int64, errp *error) error {
	return l.ljMember(s, func(kind int, b []byte, c byte) {
		*exp, *errp = 0, nil
		switch kind {
		case ljNumber:
			*exp, *errp = loadParseExpires(b)
		case ljNull:
		default:
			*errp = ljTypeErr("expires", c, "a number")
		}
	})
}

// ljMember reads a scalar member value and hands it to set; objects,
// arrays and booleans are validated, skipped and reported as ljOther.
func (l *vrpLoader) ljMember(s *ljScanner, set func(kind int, b []byte, c byte)) error {
	c, err := s.peek()
	if err != nil {
		return err
	}
	switch ljKind(c) {
	case ljString:
		b, err := s.readString()
		if err != nil {
			return err
		}
		set(ljString, b, c)
	case ljNumber:
		b, err := s.readNumber()
		if err != nil {
			return err
		}
		set(ljNumber, b, c)
	case ljNull:
		if err := s.readLiteral("null"); err != nil {
			return err
		}
		set(ljNull, nil, c)
	default:
		if err := s.skipValue(4); err != nil {
			return err
		}
		set(ljOther, nil, c)
	}
	return nil
}

// ljReadSource reads Routinator jsonext's "source" array, taking the TA
// from the first element's "tal". Validity times are not used: jsonext
// carries no single expiry for the VRP.
func (l *vrpLoader) ljReadSource(s *ljScanner, f *ljFields) error {
	f.hasSource, f.srcTA, f.srcErr = false, "", nil
	if ok, err := s.openArray("source", &f.srcErr); !ok {
		return err
	}
	f.hasSource = true
	found := false
	return s.eachElement(func(i int) error {
		c, err := s.peek()
		if err != nil {
			return err
		}
		if c != '{' {
			if f.srcErr == nil {
				f.srcErr = ljTypeErr(fmt.Sprintf("source[%d]", i), c, "an object")
			}
			return s.skipValue(5)
		}
		s.pos++
		// Within one element the last "tal" wins (as in a decoded map).
		var (
			elemTA  string
			elemHas bool
			elemErr error
		)
		err = s.eachMember(func(k []byte) error {
			if string(k) != "tal" {
				return s.skipValue(6)
			}
			elemTA, elemHas, elemErr = "", false, nil
			c, err := s.peek()
			if err != nil {
				return err
			}
			switch ljKind(c) {
			case ljString:
				b, err := s.readString()
				if err != nil {
					return err
				}
				elemTA, elemHas = l.intern(b), true
				return nil
			case ljNull:
				return s.readLiteral("null")
			}
			elemErr = ljTypeErr(fmt.Sprintf("source[%d].tal", i), c, "a string")
			return s.skipValue(6)
		})
		if err != nil {
			return err
		}
		if elemErr != nil && f.srcErr == nil {
			f.srcErr = elemErr
		}
		if elemHas && !found {
			f.srcTA, found = elemTA, true
		}
		return nil
	})
}
