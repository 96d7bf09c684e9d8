package store

import "strings"

// stablePlanSQL wraps every $N placeholder of a SQLite statement in a
// unary plus (+$N), outside string literals, quoted names and comments.
//
// Why: with statistics present (ANALYZE writes sqlite_stat4, and SQLite
// is built with STAT4), SQLite plans an equality on an indexed column
// against the bound value and marks the statement to be re-prepared
// whenever that parameter is bound again. A cached statement then costs a
// full parse and plan on every call, exactly what the cache is for
// avoiding: 42 % of the My work page's CPU under load was
// sqlite3Reprepare. SQLite only looks at a bare parameter; +$N is the same
// value (unary plus is a no-op in SQLite, and a bound parameter has no
// affinity to lose) but is not probed, so the plan comes from the
// per-index averages (sqlite_stat1) and stays put. Index use is
// unchanged: +$N is still a constant for the planner.
func stablePlanSQL(query string) string {
	if !strings.Contains(query, "$") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	var quote byte // inside '...' or "..." when non-zero
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '-' && strings.HasPrefix(query[i:], "--"):
			end := strings.IndexByte(query[i:], '\n')
			if end < 0 {
				end = len(query) - i
			}
			b.WriteString(query[i : i+end])
			i += end - 1
			continue
		case c == '/' && strings.HasPrefix(query[i:], "/*"):
			end := strings.Index(query[i+2:], "*/")
			if end < 0 {
				end = len(query) - i
			} else {
				end += 4
			}
			b.WriteString(query[i : i+end])
			i += end - 1
			continue
		case c == '$' && i+1 < len(query) && query[i+1] >= '0' && query[i+1] <= '9':
			b.WriteByte('+')
		}
		b.WriteByte(c)
	}
	return b.String()
}
