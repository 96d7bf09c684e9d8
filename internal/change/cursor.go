package change

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"
)

// listCursor is where a page of the change list ends: the sort it was
// read in, the sort values of its last row and that row's id. It holds
// the values rather than only the id, so a row that changed (a new title,
// a later update time) after the page was read does not move the place
// the next page starts.
type listCursor struct {
	Sort string      `json:"s"`
	Keys []cursorKey `json:"k,omitempty"`
	ID   int64       `json:"id"`
}

// cursorKey is one sort value with its type, so it is bound back as the
// type it was read as (a time compares as a time on PostgreSQL, an
// integer rank as an integer).
type cursorKey struct {
	S *string    `json:"s,omitempty"`
	I *int64     `json:"i,omitempty"`
	T *time.Time `json:"t,omitempty"`
}

// value is the key as a query argument; nil for SQL NULL.
func (k cursorKey) value() any {
	switch {
	case k.S != nil:
		return *k.S
	case k.I != nil:
		return *k.I
	case k.T != nil:
		return k.T.UTC()
	}
	return nil
}

// encodeCursor makes the opaque token of the row id whose sort values
// are keys. The token is base64 so clients treat it as one.
func encodeCursor(o listOrder, id int64, keys []any) (string, error) {
	c := listCursor{Sort: o.sort, ID: id, Keys: make([]cursorKey, len(keys))}
	for i, v := range keys {
		switch v := v.(type) {
		case nil:
		case string:
			c.Keys[i].S = &v
		case []byte:
			s := string(v)
			c.Keys[i].S = &s
		case int64:
			c.Keys[i].I = &v
		case time.Time:
			c.Keys[i].T = &v
		default:
			return "", fmt.Errorf("list cursor: sort value %d has type %T", i, v)
		}
	}
	b, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("list cursor: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// decodeCursor reads a token made by encodeCursor for the same sort.
func decodeCursor(token string, o listOrder) (listCursor, error) {
	var c listCursor
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || c.ID <= 0 || len(c.Keys) != len(o.parts) {
		return c, invalid("after", "is not a cursor of this list: pass the next value of the previous page as it is")
	}
	if c.Sort != o.sort {
		return c, invalid("after", "the cursor was made for sort %q, not %q: start again without after when changing the sort", c.Sort, o.sort)
	}
	for i, p := range o.parts {
		// Only the expiry can be absent; any other missing value is a
		// token that was not ours.
		if c.Keys[i].value() == nil && p.expr != "c.expires_on" {
			return c, invalid("after", "is not a cursor of this list: pass the next value of the previous page as it is")
		}
	}
	return c, nil
}
