package problem_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/mocpcr/mocpcr/internal/problem"
)

func TestKindSurvivesWrapping(t *testing.T) {
	err := fmt.Errorf("approve MOC-2026-0001: %w", problem.Newf(problem.Conflict, "not in approval"))
	if k := problem.KindOf(err); k != problem.Conflict {
		t.Fatalf("kind %v, want conflict", k)
	}
	if k := problem.KindOf(errors.New("disk full")); k != problem.Internal {
		t.Fatalf("an error without a kind is %v, want internal", k)
	}
}

func TestInvalidNamesTheFieldFirst(t *testing.T) {
	e := problem.Invalidf("title", "is required")
	if e.Field != "title" || e.Message != "title: is required" || e.Kind.String() != "invalid" {
		t.Fatalf("%+v", e)
	}
}

func TestListReportsEveryFieldInFormOrder(t *testing.T) {
	var l problem.List
	if l.Err() != nil {
		t.Fatal("an empty list is no error")
	}
	l.Invalid("unit_id", "is not on the site")
	l.Invalid("title", "is required")
	l.Invalid("title", "is too long") // the first problem of a field stays
	pe := problem.As(l.Err("title", "unit_id"))
	if pe == nil || pe.Field != "title" || pe.Message != "title: is required" || len(pe.Fields) != 2 || pe.Fields[1].Field != "unit_id" {
		t.Fatalf("%+v", pe)
	}
}
