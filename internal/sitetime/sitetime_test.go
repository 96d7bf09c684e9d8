package sitetime_test

import (
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/sitetime"
)

// An instant is written in the site's zone with the zone and offset; a
// calendar date is written as its day whatever the zone.
func TestFormatWritesTheSiteZoneAndOffset(t *testing.T) {
	at := time.Date(2026, 1, 15, 13, 5, 0, 0, time.UTC)
	for _, tc := range []struct{ zone, want string }{
		{"Europe/Berlin", "2026-01-15 14:05 CET (UTC+01:00)"},
		{"America/Chicago", "2026-01-15 07:05 CST (UTC-06:00)"},
		{"Asia/Kolkata", "2026-01-15 18:35 IST (UTC+05:30)"},
		{"UTC", "2026-01-15 13:05 UTC (UTC+00:00)"},
		{"Not/AZone", "2026-01-15 13:05 UTC (UTC+00:00)"},
	} {
		if got := sitetime.Format(at, sitetime.Load(tc.zone)); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.zone, got, tc.want)
		}
	}
	if got := sitetime.Format(time.Time{}, time.UTC); got != "" {
		t.Errorf("zero time: %q", got)
	}
	late := time.Date(2026, 1, 15, 23, 30, 0, 0, time.UTC)
	if got := sitetime.Day(late, sitetime.Load("Europe/Berlin")); got != "2026-01-16" {
		t.Errorf("day of 23:30 UTC in Berlin: %q, want 2026-01-16", got)
	}
	due := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	if got := sitetime.Date(due); got != "2026-03-02" {
		t.Errorf("calendar date: %q", got)
	}
}
