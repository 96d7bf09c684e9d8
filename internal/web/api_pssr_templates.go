package web

import (
	"context"
	"fmt"
	"net/http"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
)

func (s *Server) apiListPSSRTemplates(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, noID, func(ctx context.Context, _ *auth.User, _ int64, _ noBody) (any, error) {
		ts, err := s.Changes.PSSRTemplates(ctx)
		return map[string]any{"templates": ts}, err
	})
}

func (s *Server) apiGetPSSRTemplate(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, withID, func(ctx context.Context, _ *auth.User, id int64, _ noBody) (any, error) {
		return s.Changes.PSSRTemplate(ctx, id)
	})
}

type pssrTemplateInput struct {
	Name      string                    `json:"name"`
	IsDefault bool                      `json:"is_default"`
	Items     []change.PSSRTemplateItem `json:"items"`
}

func (s *Server) apiCreatePSSRTemplate(w http.ResponseWriter, r *http.Request) {
	s.savePSSRTemplate(w, r, 0)
}

func (s *Server) apiUpdatePSSRTemplate(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	s.savePSSRTemplate(w, r, id)
}

// savePSSRTemplate creates (id 0) or replaces template id.
func (s *Server) savePSSRTemplate(w http.ResponseWriter, r *http.Request, id int64) {
	changeCall(s, w, r, noID, func(ctx context.Context, u *auth.User, _ int64, in pssrTemplateInput) (any, error) {
		t, err := s.Changes.SavePSSRTemplate(ctx, u, change.PSSRTemplate{ID: id, Name: in.Name, IsDefault: in.IsDefault, Items: in.Items})
		if err != nil {
			return nil, err
		}
		if id != 0 {
			return t, nil
		}
		return created(t, fmt.Sprintf("/api/v1/pssr-templates/%d", t.ID)), nil
	})
}
