package web

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"sort"
)

// The OpenAPI document is kept in parts, one per area (openapi/*.json),
// each holding "paths" and "components.schemas"; they are merged into one
// OpenAPI 3 document at start.
//
//go:embed openapi/*.json
var openapiFiles embed.FS

type openapiPart struct {
	Paths      map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas         map[string]json.RawMessage `json:"schemas"`
		SecuritySchemes map[string]json.RawMessage `json:"securitySchemes"`
	} `json:"components"`
}

func buildOpenAPI() ([]byte, error) {
	names, err := fs.Glob(openapiFiles, "openapi/*.json")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	paths := map[string]json.RawMessage{}
	schemas := map[string]json.RawMessage{}
	schemes := map[string]json.RawMessage{}
	for _, n := range names {
		b, err := fs.ReadFile(openapiFiles, n)
		if err != nil {
			return nil, err
		}
		var part openapiPart
		if err := json.Unmarshal(b, &part); err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		for k, v := range part.Paths {
			if _, dup := paths[k]; dup {
				return nil, fmt.Errorf("%s: path %s is already described in another part", n, k)
			}
			paths[k] = v
		}
		for k, v := range part.Components.Schemas {
			schemas[k] = v
		}
		for k, v := range part.Components.SecuritySchemes {
			schemes[k] = v
		}
	}
	doc := map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{
			"title":       "mocpcr API",
			"version":     "1",
			"description": "Management of Change and Process Change Request API. Authenticate with a personal API token: Authorization: Bearer <token>. Errors are JSON objects with an \"error\" message.",
		},
		"servers":    []map[string]string{{"url": "/"}},
		"security":   []map[string][]string{{"bearerAuth": {}}},
		"paths":      paths,
		"components": map[string]any{"schemas": schemas, "securitySchemes": schemes},
	}
	return json.MarshalIndent(doc, "", "  ")
}

func (s *Server) serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(s.openapi)
}
