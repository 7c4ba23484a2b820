package rov

import (
	"reflect"
	"testing"
)

func TestChangedCustomers(t *testing.T) {
	a := NewASPASet([]ASPA{{CustomerASID: 1, Providers: []uint32{10}}, {CustomerASID: 2, Providers: []uint32{20, 21}},
		{CustomerASID: 3, Providers: []uint32{0}}, {CustomerASID: 5, Providers: []uint32{50}}})
	b := NewASPASet([]ASPA{{CustomerASID: 1, Providers: []uint32{10}}, {CustomerASID: 2, Providers: []uint32{21}},
		{CustomerASID: 4, Providers: []uint32{40}}, {CustomerASID: 5, Providers: []uint32{50}}, {CustomerASID: 5, Providers: []uint32{0}}})
	for _, tt := range []struct {
		name string
		a, b *ASPASet
		want []uint32
	}{
		// 2: providers changed; 3: gone (its AS0 entry too); 4: new; 5: an
		// added AS0 ASPA changes nothing (§4: AS 0 has "no influence").
		{"changed, gone, new", a, b, []uint32{2, 3, 4}},
		{"same set", a, a, nil},
		{"from nothing", nil, b, []uint32{1, 2, 4, 5}},
		{"to nothing", a, nil, []uint32{1, 2, 3, 5}},
	} {
		if got := ChangedCustomers(tt.a, tt.b); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}
