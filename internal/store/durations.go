package store

// SecondsBetween is a SQL expression for the seconds from timestamp
// column from to column to (to - from), as a float: julianday arithmetic
// on SQLite, whose timestamps are text, an interval's epoch on PostgreSQL.
func (db *DB) SecondsBetween(from, to string) string {
	if db.Dialect == Postgres {
		return "EXTRACT(EPOCH FROM (" + to + " - " + from + "))"
	}
	return "((julianday(" + to + ") - julianday(" + from + ")) * 86400.0)"
}
