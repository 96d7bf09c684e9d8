package change

import "github.com/mocpcr/mocpcr/internal/problem"

// The domain's refusals, as problem errors: the web edge maps their kind
// to a status once.

func invalid(field, format string, args ...any) *problem.Error {
	return problem.Invalidf(field, format, args...)
}

func forbidden(format string, args ...any) *problem.Error {
	return problem.Newf(problem.Forbidden, format, args...)
}

func conflict(format string, args ...any) *problem.Error {
	return problem.Newf(problem.Conflict, format, args...)
}

func notFound(format string, args ...any) *problem.Error {
	return problem.Newf(problem.NotFound, format, args...)
}

// asMissing answers for an object reached by its own id (an action item,
// a PSSR item) when the actor cannot see its change: as an object that
// does not exist, so the answer neither confirms it nor names its change.
func asMissing(err error, format string, args ...any) error {
	if problem.KindOf(err) == problem.NotFound {
		return notFound(format, args...)
	}
	return err
}
