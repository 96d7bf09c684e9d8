package store

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// TextIndex names a full-text index the way each engine holds it: on
// SQLite an FTS5 table whose rowid is the indexed row's id, on
// PostgreSQL a tsvector column of the row. Migrations create both (see
// 00176_change_search.*.sql); queries use Match and TextQuery, so the
// difference stays here.
type TextIndex struct {
	// FTSTable is the SQLite FTS5 table (changes_fts).
	FTSTable string
	// IDColumn is the indexed row's id as the query names it (c.id).
	IDColumn string
	// VectorColumn is the PostgreSQL tsvector column as the query names it (c.search).
	VectorColumn string
}

// MaxTextTerms bounds the words of one full-text query: more add cost
// and no precision.
const MaxTextTerms = 20

// TextTerms splits text into the words a full-text query looks for:
// runs of letters and digits, lower-cased, at most MaxTextTerms. Both
// engines' tokenizers split on the same characters, so a word typed is a
// word indexed.
func TextTerms(text string) []string {
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if len(words) > MaxTextTerms {
		words = words[:MaxTextTerms]
	}
	return words
}

// MinPrefixTerm is the shortest term that also matches longer words it
// starts: a shorter one ("1", "p") matches whole words only, or it would
// find every "101" and "pump".
const MinPrefixTerm = 3

// TextQuery is the query text for Match finding rows holding every one
// of terms (TextTerms), each of at least MinPrefixTerm characters also
// as the start of a longer word ("valv" finds "valve"): an FTS5 query on
// SQLite, a tsquery on PostgreSQL. Terms are letters and digits only,
// so nothing in them is query syntax.
func (db *DB) TextQuery(terms []string) string {
	parts := make([]string, len(terms))
	for i, t := range terms {
		prefix := utf8.RuneCountInString(t) >= MinPrefixTerm
		switch {
		case db.Dialect == Postgres && prefix:
			parts[i] = t + ":*"
		case db.Dialect == Postgres:
			parts[i] = t
		case prefix:
			parts[i] = `"` + t + `"*`
		default:
			parts[i] = `"` + t + `"`
		}
	}
	if db.Dialect == Postgres {
		return strings.Join(parts, " & ")
	}
	return strings.Join(parts, " AND ")
}

// Match is a WHERE condition true for the rows of ix matching the query
// text bound to placeholder ($3), made by TextQuery.
func (db *DB) Match(ix TextIndex, placeholder string) string {
	if db.Dialect == Postgres {
		return ix.VectorColumn + " @@ to_tsquery('simple', " + placeholder + ")"
	}
	return ix.IDColumn + " IN (SELECT rowid FROM " + ix.FTSTable + " WHERE " + ix.FTSTable + " MATCH " + placeholder + ")"
}
