package change

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"
)

// No cell of the CSV export can be read by a spreadsheet as a formula,
// whichever field the text came from.
func TestCSVExportNeutralisesFormulasInEveryCell(t *testing.T) {
	formulas := []string{"=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "  =cmd|' /C calc'!A0"}
	for _, f := range formulas {
		c := Change{Number: f, Kind: Kind(f), Duration: Duration(f), Stage: Stage(f), Title: f, SiteCode: f, UnitCode: f,
			EquipmentTags: []string{f}, RiskRanking: f, InitiatorName: f, CreatedAt: time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)}
		var buf bytes.Buffer
		if err := WriteCSV(&buf, []Change{c}); err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		for i, cell := range rows[1] {
			if t0 := strings.TrimLeft(cell, " "); t0 != "" && strings.ContainsRune("=+-@\t\r\n", rune(t0[0])) {
				t.Errorf("column %s holds %q, which a spreadsheet runs as a formula", rows[0][i], cell)
			}
		}
	}
	// Ordinary text is left as it is.
	var buf bytes.Buffer
	_ = WriteCSV(&buf, []Change{{Number: "MOC-2026-0001", Title: "Replace P-101 seals", CreatedAt: time.Now()}})
	if !strings.Contains(buf.String(), "MOC-2026-0001,") || !strings.Contains(buf.String(), ",Replace P-101 seals,") {
		t.Errorf("plain cells changed: %s", buf.String())
	}
}
