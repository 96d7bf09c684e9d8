package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/problem"
)

// callChange runs one changeCall behind the route table's permission
// check on a bare Server and returns the answer.
func callChange[In any](t *testing.T, u *auth.User, id, body string, do func(ctx context.Context, u *auth.User, id int64, in In) (any, error)) *httptest.ResponseRecorder {
	t.Helper()
	s := &Server{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	r := httptest.NewRequest("POST", "/api/v1/things/"+id, strings.NewReader(body))
	r.SetPathValue("id", id)
	if u != nil {
		r = r.WithContext(auth.WithUser(r.Context(), u))
	}
	w := httptest.NewRecorder()
	s.allowOnly(auth.ActionApproveChange, func(w http.ResponseWriter, r *http.Request) {
		changeCall(s, w, r, withID, do)
	})(w, r)
	return w
}

func TestChangeCallSteps(t *testing.T) {
	approver := &auth.User{ID: 7, Roles: []auth.Role{auth.RoleApprover}}
	reviewer := &auth.User{ID: 8, Roles: []auth.Role{auth.RoleReviewer}}
	type note struct {
		Note string `json:"note"`
	}
	var called []string
	echo := func(_ context.Context, u *auth.User, id int64, in note) (any, error) {
		called = append(called, in.Note)
		return map[string]any{"user": u.ID, "id": id, "note": in.Note}, nil
	}
	for _, c := range []struct {
		name     string
		u        *auth.User
		id, body string
		status   int
		want     string // in the body
	}{
		{"anonymous before a bad id", nil, "x", `{"zzz":1}`, 401, `"code":"unauthenticated"`},
		{"no permission before a bad id", reviewer, "x", `{}`, 403, "permission"},
		{"bad id before a bad body", approver, "x", `{"zzz":1}`, 404, `id: \"x\" is not an id","code":"not_found"`},
		{"unknown field named", approver, "3", `{"zzz":1}`, 422, `"error":"zzz: unknown field","code":"invalid","field":"zzz"`},
		{"wrong type named in JSON words", approver, "3", `{"note":5}`, 422, `"error":"note: expected a string, got number","code":"invalid","field":"note"`},
		{"malformed JSON is the body's fault", approver, "3", `{"note":`, 422, `"code":"invalid","field":"body"`},
		{"called with user, id and body", approver, "3", `{"note":"hi"}`, 200, `{"id":3,"note":"hi","user":7}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			called = nil
			w := callChange(t, c.u, c.id, c.body, echo)
			if w.Code != c.status || !strings.Contains(w.Body.String(), c.want) {
				t.Fatalf("got %d %s, want %d with %s", w.Code, w.Body, c.status, c.want)
			}
			if (c.status == 200) != (len(called) == 1) {
				t.Fatalf("do called %d times for status %d", len(called), c.status)
			}
		})
	}
}

func TestChangeCallNoBodyIsNotRead(t *testing.T) {
	w := callChange(t, &auth.User{Roles: []auth.Role{auth.RoleApprover}}, "5", `not json at all`,
		func(_ context.Context, _ *auth.User, id int64, _ noBody) (any, error) { return id, nil })
	if w.Code != 200 || strings.TrimSpace(w.Body.String()) != "5" {
		t.Fatalf("got %d %s", w.Code, w.Body)
	}
}

func TestChangeCallRendering(t *testing.T) {
	u := &auth.User{Roles: []auth.Role{auth.RoleApprover}}
	domainErr := &problem.Error{Kind: problem.Conflict, Field: "stage", Message: "stage: not now"}
	for _, c := range []struct {
		name     string
		v        any
		err      error
		status   int
		location string
		body     map[string]any // nil: no body
	}{
		{"created with location", created(map[string]any{"a": 1.0}, "/x/1"), nil, 201, "/x/1", map[string]any{"a": 1.0}},
		{"no content", apiReply{status: http.StatusNoContent}, nil, 204, "", nil},
		{"handler refusal names its field", nil, problem.Invalidf("screening", "required"), 422, "", map[string]any{"error": "screening: required", "code": "invalid", "field": "screening"}},
		{"handler refusal without a field", nil, problem.New(problem.Invalid, "Nothing to do"), 422, "", map[string]any{"error": "Nothing to do", "code": "invalid"}},
		{"domain error is mapped", nil, domainErr, 409, "", map[string]any{"error": "stage: not now", "code": "conflict", "field": "stage"}},
		{"signature failure names the password", nil, signatureError(&problem.Error{Kind: problem.Reauth, Message: "sign"}, problem.Invalidf("password", "is not correct")), 403, "",
			map[string]any{"error": "password: is not correct", "code": "reauth_required", "field": "password"}},
		{"a fault checking the signature is a fault", nil, signatureError(&problem.Error{Kind: problem.Reauth, Message: "sign"}, errors.New("db on fire")), 500, "",
			map[string]any{"error": "internal error", "code": "internal"}},
		{"signature not the problem", nil, signatureError(domainErr, errors.New("wrong password")), 409, "", map[string]any{"error": "stage: not now", "code": "conflict", "field": "stage"}},
		{"internal error is hidden", nil, errors.New("db on fire"), 500, "", map[string]any{"error": "internal error", "code": "internal"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := callChange(t, u, "1", "", func(context.Context, *auth.User, int64, noBody) (any, error) { return c.v, c.err })
			if w.Code != c.status || w.Header().Get("Location") != c.location {
				t.Fatalf("got %d Location %q, want %d %q", w.Code, w.Header().Get("Location"), c.status, c.location)
			}
			if c.body == nil {
				if w.Body.Len() != 0 {
					t.Fatalf("body %q, want none", w.Body)
				}
				return
			}
			var got map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatalf("body %q: %v", w.Body, err)
			}
			if c.status >= 400 && got["request_id"] == "" {
				t.Errorf("error without request_id: %v", got)
			}
			delete(got, "request_id")
			if b1, b2 := mustJSON(t, got), mustJSON(t, c.body); b1 != b2 {
				t.Fatalf("body %s, want %s", b1, b2)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
