// Package sitetime writes times the one way people read them everywhere
// (pages, signatures, emails): in the site's time zone, with the zone and
// its offset, so "14:05" is never a guess between UTC and local time.
// Calendar dates (due dates, expiry dates) are days, not instants, and
// are written as they are: YYYY-MM-DD.
package sitetime

import (
	"time"
	// Sites name IANA zones; the binary carries the zone database so
	// that works on a server (or container) without one.
	_ "time/tzdata"
)

// DateLayout is the one date format: ISO 8601, unambiguous in every
// country a plant may be in.
const DateLayout = "2006-01-02"

// Load returns the IANA zone name, or UTC if it does not load (a stored
// zone was valid when saved, and a record must still print if the zone
// database changed since).
func Load(name string) *time.Location {
	if loc, err := time.LoadLocation(name); err == nil && name != "" {
		return loc
	}
	return time.UTC
}

// Format writes instant t in loc: date, time, zone abbreviation and
// offset, "2026-03-02 10:00 CET (UTC+01:00)". The zero time is "". A nil
// loc is UTC.
func Format(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	if loc == nil {
		loc = time.UTC
	}
	t = t.In(loc)
	return t.Format("2006-01-02 15:04 MST") + " (UTC" + t.Format("-07:00") + ")"
}

// Day writes the calendar day of instant t in loc (the day it was there).
func Day(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format(DateLayout)
}

// Date writes a calendar date (a due or expiry date, stored as midnight
// UTC of that day) as YYYY-MM-DD; no zone applies to a day.
func Date(d time.Time) string {
	if d.IsZero() {
		return ""
	}
	return d.UTC().Format(DateLayout)
}
