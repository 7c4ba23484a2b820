package rov

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
)

// ASPA is one Validated ASPA Payload (draft-ietf-sidrops-aspa-profile):
// the customer AS attests that Providers are its upstream providers.
// Exports carry them beside the ROAs; NewASPASet turns them into the
// U-SPAS table that ASPA path verification (aspa_verify.go,
// draft-ietf-sidrops-aspa-verification) reads. Expires is a Unix time, 0 when the export
// does not say; TA is empty when it does not say.
type ASPA struct {
	CustomerASID uint32
	Providers    []uint32
	Expires      int64
	TA           string
}

// The "aspas" member of the JSON exports, as their producers write it:
//
//	rpki-client (output-json.c; 100 of them in ../shared/data/vrp):
//	  {"customer_asid": 945, "expires": 1753070425, "providers": [13213, 150369]}
//	Routinator json / jsonext (its test/output/*.json, *.jsonext):
//	  {"customer": "AS1234", "providers": ["AS1", "AS2"], "ta": "N/A"}
//
// A provider is a number or an "AS…" string. Within one object the last
// of duplicate members wins, as in encoding/json; "customer_asid" is used
// when both it and "customer" are present.

// ljASPA collects one ASPA object's members; errors are judged at the end
// of the object in a fixed order, as ljFields does for ROAs.
type ljASPA struct {
	cust, custAsid       uint32
	hasCust, hasCustAsid bool
	custErr, asidErr     error
	providers            []uint32
	provErr              error
	expires              int64
	expErr               error
	ta                   string
	taErr                error
}

func (f *ljASPA) aspa() (ASPA, error) {
	cust, has, err := f.cust, f.hasCust, f.custErr
	if f.hasCustAsid || f.asidErr != nil {
		cust, has, err = f.custAsid, f.hasCustAsid, f.asidErr
	}
	switch {
	case err != nil:
		return ASPA{}, err
	case !has:
		return ASPA{}, errors.New(`missing "customer_asid" (or "customer")`)
	case f.provErr != nil:
		return ASPA{}, f.provErr
	case f.expErr != nil:
		return ASPA{}, f.expErr
	case f.taErr != nil:
		return ASPA{}, f.taErr
	}
	var prov []uint32 // nil for none, "providers": [] or null alike
	if len(f.providers) > 0 {
		prov = slices.Clone(f.providers)
	}
	return ASPA{CustomerASID: cust, Providers: prov, Expires: f.expires, TA: f.ta}, nil
}

// ljASN parses an ASN member value: a number or an "AS…" string.
func ljASN(kind int, b []byte, c byte, field string) (uint32, error) {
	switch kind {
	case ljNumber:
		return loadParseASNNumber(b)
	case ljString:
		return loadParseASNText(b)
	}
	return 0, ljTypeErr(field, c, "a number or string")
}

// ljReadASPAs reads the "aspas" array; the scanner is positioned at its
// value.
func (l *vrpLoader) ljReadASPAs(s *ljScanner) error {
	c, err := s.peek()
	if err != nil {
		return err
	}
	if c != '[' {
		return s.errAt(s.pos, `"aspas" is %s, want an array`, ljKindName(c))
	}
	s.pos++
	return s.eachElement(func(i int) error {
		c, err := s.peek()
		if err != nil {
			return err
		}
		if c != '{' {
			if err := s.skipValue(3); err != nil {
				return err
			}
			return fmt.Errorf("%s: aspas[%d]: not an object", l.name, i)
		}
		s.pos++
		var f ljASPA
		err = s.eachMember(func(key []byte) error {
			switch string(key) {
			case "customer_asid", "customer":
				asid := string(key) == "customer_asid"
				return l.ljMember(s, func(kind int, b []byte, c byte) {
					var n uint32
					var err error
					if kind != ljNull {
						n, err = ljASN(kind, b, c, string(key))
					}
					if asid {
						f.custAsid, f.hasCustAsid, f.asidErr = n, kind != ljNull, err
					} else {
						f.cust, f.hasCust, f.custErr = n, kind != ljNull, err
					}
				})
			case "providers":
				return l.ljReadProviders(s, &f)
			case "expires":
				return l.ljReadExpires(s, &f.expires, &f.expErr)
			case "ta":
				return l.ljReadTA(s, &f.ta, &f.taErr)
			}
			return s.skipValue(4)
		})
		if err != nil {
			return err
		}
		a, err := f.aspa()
		if err != nil {
			return fmt.Errorf("%s: aspas[%d]: %w", l.name, i, err)
		}
		l.aspas = append(l.aspas, a)
		return nil
	})
}

// ljReadProviders reads an ASPA's "providers" array (null: none given).
func (l *vrpLoader) ljReadProviders(s *ljScanner, f *ljASPA) error {
	f.providers, f.provErr = f.providers[:0], nil
	if ok, err := s.openArray("providers", &f.provErr); !ok {
		return err
	}
	return s.eachElement(func(j int) error {
		c, err := s.peek()
		if err != nil {
			return err
		}
		var n uint32
		switch ljKind(c) {
		case ljNumber:
			b, err := s.readNumber()
			if err != nil {
				return err
			}
			n, err = loadParseASNNumber(b)
			if err != nil && f.provErr == nil {
				f.provErr = fmt.Errorf("providers[%d]: %w", j, err)
			}
		case ljString:
			b, err := s.readString()
			if err != nil {
				return err
			}
			n, err = loadParseASNText(b)
			if err != nil && f.provErr == nil {
				f.provErr = fmt.Errorf("providers[%d]: %w", j, err)
			}
		default:
			if f.provErr == nil {
				f.provErr = ljTypeErr(fmt.Sprintf("providers[%d]", j), c, "a number or string")
			}
			return s.skipValue(5)
		}
		f.providers = append(f.providers, n)
		return nil
	})
}

// finishASPAs returns the ASPAs in customer order (file order among one
// customer's).
func (l *vrpLoader) finishASPAs() []ASPA {
	slices.SortStableFunc(l.aspas, func(a, b ASPA) int { return cmp.Compare(a.CustomerASID, b.CustomerASID) })
	return l.aspas
}
