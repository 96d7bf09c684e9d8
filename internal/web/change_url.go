package web

import (
	"fmt"
	"net/url"

	"github.com/mocpcr/mocpcr/internal/change"
)

// changeURL is the address of a change's page. Change pages are addressed
// by the human number (/changes/MOC-2026-0001); /changes/{id} with a
// numeric id (the form notification links use) redirects there.
//
// Templates call it as {{changeURL .}} with a change number (string), a
// change.Change, *change.Change, *change.Detail, change.WorkItem or
// *change.WorkItem; a numeric id (int64) gives /changes/{id}. An optional
// second argument appends a sub-path: {{changeURL . "edit"}} is
// /changes/MOC-2026-0001/edit.
func changeURL(ref any, sub ...string) string {
	var key string
	switch v := ref.(type) {
	case string:
		key = v
	case change.Change:
		key = v.Number
	case *change.Change:
		if v != nil {
			key = v.Number
		}
	case *change.Detail:
		if v != nil && v.Change != nil {
			key = v.Change.Number
		}
	case change.WorkItem:
		key = v.ChangeNumber
		if key == "" {
			key = fmt.Sprint(v.ChangeID)
		}
	case *change.WorkItem:
		if v != nil {
			key = v.ChangeNumber
		}
	case change.ActionItem:
		key = v.ChangeNumber
		if key == "" {
			key = fmt.Sprint(v.ChangeID)
		}
	case int64:
		key = fmt.Sprint(v)
	case int:
		key = fmt.Sprint(v)
	}
	if key == "" {
		return "/changes"
	}
	u := "/changes/" + url.PathEscape(key)
	for _, s := range sub {
		u += "/" + s
	}
	return u
}

// changePath is the address of a change's page (its human number).
func changePath(number string) string { return "/changes/" + number }
