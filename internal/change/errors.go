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
