package web

import (
	"context"
	"net/http"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
)

// idSource says which path value of a route changeCall reads, and how.
type idSource struct {
	name   string // "" reads none
	change bool   // the value names a change: its id or its number
}

// The idSources of changeCall.
var (
	// withChange: routes like /changes/{id}/...; {id} is the change's
	// numeric id or its number (MOC-2026-0004), as on the pages.
	withChange = idSource{name: "id", change: true}
	// withID: other records' routes (/actions/{id}/...): a numeric id.
	withID = idSource{name: "id"}
	// noID: collection routes: nothing to read.
	noID = idSource{}
)

// noBody is the In of a change API call that reads no request body.
type noBody struct{}

// apiReply is a successful answer other than "200 with the value as JSON".
type apiReply struct {
	status   int
	location string // the Location header, if any
	body     any    // written as JSON unless status is 204
}

func created(body any, location string) apiReply {
	return apiReply{status: http.StatusCreated, location: location, body: body}
}

// changeCall serves one API request, after the route table
// authorized the caller (allowOnly). Every handler shares these steps, in
// this order, each answering on its own when it fails:
//
//  1. take the caller from the request's context;
//  2. read the idParam path value, unless idParam is noID (404): a
//     change's id or number for withChange, a numeric id for withID;
//  3. decode the JSON body strictly into In, unless In is noBody (422);
//  4. call do, which asks the domain;
//  5. render its value: an apiReply as it says, anything else as 200 JSON;
//     or its error through fail.
func changeCall[In any](s *Server, w http.ResponseWriter, r *http.Request, idParam idSource,
	do func(ctx context.Context, u *auth.User, id int64, in In) (any, error)) {
	u, id, ok := s.changeRequest(w, r, idParam)
	if !ok {
		return
	}
	var in In
	if _, none := any(in).(noBody); !none && !decodeBody(w, r, &in) {
		return
	}
	v, err := do(r.Context(), u, id, in)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rep, ok := v.(apiReply)
	if !ok {
		writeJSON(w, http.StatusOK, v)
		return
	}
	if rep.location != "" {
		w.Header().Set("Location", rep.location)
	}
	if rep.status == http.StatusNoContent {
		w.WriteHeader(rep.status)
		return
	}
	writeJSON(w, rep.status, rep.body)
}

// changeRequest is steps 1 and 2 of changeCall, for handlers that read
// or write something other than JSON.
func (s *Server) changeRequest(w http.ResponseWriter, r *http.Request, p idSource) (*auth.User, int64, bool) {
	u := auth.UserFrom(r.Context())
	switch {
	case p.name == "":
		return u, 0, true
	case p.change:
		// The pages resolve their {ref} the same way (loadChangePage).
		id, err := s.Changes.Resolve(r.Context(), u, r.PathValue(p.name))
		if err != nil {
			s.fail(w, r, err)
			return nil, 0, false
		}
		return u, id, true
	}
	id, ok := pathID(w, r, p.name)
	return u, id, ok
}

// detailOf loads change id as u sees it and answers with part of it.
func (s *Server) detailOf(ctx context.Context, u *auth.User, id int64, part func(*change.Detail) any) (any, error) {
	d, err := s.Changes.Get(ctx, u, id)
	if err != nil {
		return nil, err
	}
	return part(d), nil
}
