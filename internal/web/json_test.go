package web

import (
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/change"
)

// decodeTarget has the shapes the API bodies have: scalars, a nested
// object, a list of objects and a map of objects.
type decodeTarget struct {
	Kind      string            `json:"kind"`
	Screening *change.Screening `json:"screening"`
	Items     []struct {
		X int `json:"x"`
	} `json:"items"`
	ByName map[string]struct {
		Y int `json:"y"`
	} `json:"by_name"`
}

func TestDecodeBodyRefusals(t *testing.T) {
	for _, c := range []struct {
		name, body   string
		field, error string // "" field: accepted
	}{
		{"one object", `{"kind":"MOC","screening":{"pssr_needed":true}}`, "", ""},
		{"white space after the object", "{\"kind\":\"MOC\"}\n\t ", "", ""},
		{"empty body", "", "", ""},
		{"case-insensitive like encoding/json", `{"KIND":"MOC","Screening":{"PSSR_Needed":true}}`, "", ""},
		{"a second object", `{"kind":"MOC"}{"a":1}`, "body", "body: unexpected data after the JSON object; send exactly one object"},
		{"garbage after the object", `{"kind":"MOC"} x`, "body", "body: unexpected data after the JSON object; send exactly one object"},
		{"an array", `[1,2]`, "body", "body: expected a JSON object, got an array"},
		{"a string", `"MOC"`, "body", "body: expected a JSON object, got a string"},
		{"a number", ` 42`, "body", "body: expected a JSON object, got a number"},
		{"null", `null`, "body", "body: expected a JSON object, got null"},
		{"a boolean", `true`, "body", "body: expected a JSON object, got true or false"},
		{"unknown top-level field", `{"zzz":1}`, "zzz", "zzz: unknown field"},
		{"unknown nested field", `{"kind":"MOC","screening":{"pssr":true}}`, "screening.pssr", "screening.pssr: unknown field"},
		{"unknown field in a list", `{"items":[{"x":1},{"z":2}]}`, "items.z", "items.z: unknown field"},
		{"unknown field in a map value", `{"by_name":{"a":{"y":1,"q":2}}}`, "by_name.q", "by_name.q: unknown field"},
		{"the first unknown field in order", `{"screening":{"disciplines":["x"],"b":1},"a":2}`, "screening.b", "screening.b: unknown field"},
		{"same key known elsewhere", `{"items":[{"x":1}],"screening":{"x":1}}`, "screening.x", "screening.x: unknown field"},
		{"nested type error keeps its path", `{"screening":{"disciplines":5}}`, "screening.disciplines", "screening.disciplines: expected an array of strings, got number"},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			r := httptest.NewRequest("POST", "/api/v1/x", strings.NewReader(c.body))
			var v decodeTarget
			ok := decodeBody(w, r, &v)
			if c.field == "" {
				if !ok || w.Body.Len() != 0 {
					t.Fatalf("refused: %d %s", w.Code, w.Body)
				}
				return
			}
			var e apiError
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil {
				t.Fatalf("%d %q: %v", w.Code, w.Body, err)
			}
			if ok || w.Code != 422 || e.Code != "invalid" || e.Field != c.field || e.Error != c.error {
				t.Fatalf("got ok=%v %d %+v, want 422 field %q error %q", ok, w.Code, e, c.field, c.error)
			}
			if strings.Contains(e.Error, "Go ") || strings.Contains(e.Error, "web.") {
				t.Fatalf("error names a Go type: %q", e.Error)
			}
		})
	}
}

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
