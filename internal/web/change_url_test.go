package web

import (
	"testing"

	"github.com/mocpcr/mocpcr/internal/change"
)

func TestChangeURL(t *testing.T) {
	c := &change.Change{ID: 7, Number: "MOC-2026-0001"}
	cases := []struct {
		ref  any
		sub  []string
		want string
	}{
		{"MOC-2026-0001", nil, "/changes/MOC-2026-0001"},
		{c, nil, "/changes/MOC-2026-0001"},
		{*c, []string{"edit"}, "/changes/MOC-2026-0001/edit"},
		{&change.Detail{Change: c}, []string{"print"}, "/changes/MOC-2026-0001/print"},
		{change.WorkItem{ChangeID: 7, ChangeNumber: "PCR-2026-0003"}, nil, "/changes/PCR-2026-0003"},
		{change.ActionItem{ChangeID: 7}, nil, "/changes/7"},
		{int64(7), nil, "/changes/7"},
		{"", nil, "/changes"},
		{"a/b", nil, "/changes/a%2Fb"},
	}
	for _, tc := range cases {
		if got := changeURL(tc.ref, tc.sub...); got != tc.want {
			t.Errorf("changeURL(%#v, %v) = %q, want %q", tc.ref, tc.sub, got, tc.want)
		}
	}
}
