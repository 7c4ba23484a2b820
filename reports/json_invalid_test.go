package reports

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"testing"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/rov"
)

// randomInvalid makes a row with every field varied, including nil and
// empty lists, no cover, IPv6, the zero prefix and awkward shares.
func randomInvalid(r *rand.Rand) Invalid {
	pfx := func() netip.Prefix {
		switch r.IntN(6) {
		case 0:
			return netip.Prefix{}
		case 1:
			var a [16]byte
			a[0], a[1], a[5] = 0x20, 0x01, byte(r.Uint32())
			return netip.PrefixFrom(netip.AddrFrom16(a), r.IntN(129)).Masked()
		}
		return netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32()), 0}), r.IntN(33)).Masked()
	}
	u32s := func() []uint32 {
		switch r.IntN(3) {
		case 0:
			return nil
		case 1:
			return []uint32{}
		}
		l := make([]uint32, 1+r.IntN(4))
		for i := range l {
			l[i] = r.Uint32() >> r.IntN(32)
		}
		return l
	}
	shares := []float64{0, 1, 0.5, 1.0 / 3, 1e-6, 9.99e-7, 1e-7, 2.5e-12, 1e20, 1e21, 123456789e20, math.SmallestNonzeroFloat64, -0.25, r.Float64()}
	inv := Invalid{
		Prefix: pfx(), ASSet: u32s(),
		State: classify.RouteState(r.IntN(4)), Class: classify.Class(r.IntN(6)), AS0: r.IntN(2) == 0,
		Paths: r.Uint32(), Peers: r.IntN(1 << 20), Dropped: r.IntN(2) == 0,
		Impact: classify.Impact(r.IntN(5)), CoveredShare: shares[r.IntN(len(shares))],
	}
	if r.IntN(3) > 0 {
		o := r.Uint32() >> r.IntN(32)
		inv.Origin = &o
	}
	switch r.IntN(3) {
	case 0:
	case 1:
		inv.VRPs = []VRPRef{}
	default:
		for range 1 + r.IntN(3) {
			inv.VRPs = append(inv.VRPs, VRPRef{Prefix: pfx(), MaxLength: uint8(r.IntN(129)), ASN: r.Uint32()})
		}
	}
	if r.IntN(2) == 0 {
		inv.Cover = &Cover{Prefix: pfx(), Origins: u32s(), State: rov.State(r.IntN(3)), OtherOrigin: r.IntN(2) == 0}
	}
	return inv
}

// TestInvalidJSONMatchesEncoder: appendInvalidJSON writes every row it
// accepts byte for byte as encoding/json's Encoder with the stream's
// indentation, declines the rows it cannot (an explanation, an unknown
// state, class or impact, a non-finite share), and whole reports made of
// random rows stream exactly as encoding/json writes them.
func TestInvalidJSONMatchesEncoder(t *testing.T) {
	if n := reflect.TypeFor[Invalid]().NumField(); n != 14 {
		t.Fatalf("Invalid has %d fields; appendInvalidJSON writes 14: teach it the new one", n)
	}
	if n := reflect.TypeFor[Cover]().NumField(); n != 4 {
		t.Fatalf("Cover has %d fields; appendInvalidJSON writes 4", n)
	}
	if n := reflect.TypeFor[VRPRef]().NumField(); n != 3 {
		t.Fatalf("VRPRef has %d fields; appendInvalidJSON writes 3", n)
	}
	ref := func(inv *Invalid) ([]byte, error) {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetIndent(jsonIndent(2), "  ")
		err := enc.Encode(inv)
		return bytes.TrimSuffix(b.Bytes(), []byte{'\n'}), err
	}
	r := rand.New(rand.NewPCG(5, 6))
	accepted := 0
	var rows []Invalid
	for i := range 5000 {
		inv := randomInvalid(r)
		want, err := ref(&inv)
		got, ok := appendInvalidJSON(nil, &inv, jsonIndent(2))
		if err != nil {
			if ok {
				t.Fatalf("row %d: encoding/json fails (%v) but appendInvalidJSON wrote %s", i, err, got)
			}
			continue
		}
		rows = append(rows, inv)
		if !ok {
			t.Fatalf("row %d declined, encoding/json writes %s", i, want)
		}
		accepted++
		if !bytes.Equal(got, want) {
			t.Fatalf("row %d:\n got %s\nwant %s", i, got, want)
		}
	}
	if accepted < 1000 {
		t.Fatalf("only %d of 5000 rows written by appendInvalidJSON: the generator makes too many unknown values", accepted)
	}
	declined := []Invalid{
		{Explanation: "plain"},
		{Class: classify.Class(200)},
		{CoveredShare: math.NaN()},
		{CoveredShare: math.Inf(1)},
		{Cover: &Cover{State: rov.State(99)}},
	}
	for i := range declined {
		if _, ok := appendInvalidJSON(nil, &declined[i], jsonIndent(2)); ok {
			t.Errorf("declined[%d] written by appendInvalidJSON", i)
		}
	}
	// Through the stream, with a row that must fall back to encoding/json.
	rows = append(rows, Invalid{Explanation: "<b>&\"é", VRPs: []VRPRef{}})
	rep := Report{Invalids: rows, Origins: []OriginRow{}}
	var got bytes.Buffer
	if err := WriteJSON(&got, rep); err != nil {
		t.Fatal(err)
	}
	if want := encoderJSON(t, rep); !bytes.Equal(got.Bytes(), want) {
		t.Error("streamed report of random rows differs from encoding/json")
	}
}
