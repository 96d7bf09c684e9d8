package web

import (
	"reflect"
	"testing"
	"time"
)

func TestJSONKindSpeaksJSON(t *testing.T) {
	for _, c := range []struct {
		v    any
		want string
	}{
		{int64(1), "a whole number"}, {"", "a string"}, {true, "true or false"}, {1.5, "a number"},
		{[]string{}, "an array of strings"}, {[]int64{}, "an array of whole numbers"},
		{map[string]any{}, "an object"}, {time.Time{}, "an object"}, {new(int64), "a whole number"},
	} {
		if got := jsonKind(reflect.TypeOf(c.v)); got != c.want {
			t.Errorf("jsonKind(%T) = %q, want %q", c.v, got, c.want)
		}
	}
}
