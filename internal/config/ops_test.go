package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/config"
)

func TestJobRescueAfter(t *testing.T) {
	c, err := config.Load(config.MapEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.JobRescueAfter != 0 {
		t.Errorf("default JobRescueAfter = %s, want 0 (the queue's default)", c.JobRescueAfter)
	}
	c, err = config.Load(config.MapEnv(map[string]string{"MOCPCR_JOB_RESCUE_AFTER": "45s"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.JobRescueAfter != 45*time.Second {
		t.Errorf("JobRescueAfter = %s, want 45s", c.JobRescueAfter)
	}
	for _, bad := range []string{"soon", "1s", "0", "25h", "-5s"} {
		_, err := config.Load(config.MapEnv(map[string]string{"MOCPCR_JOB_RESCUE_AFTER": bad}))
		if err == nil {
			t.Errorf("MOCPCR_JOB_RESCUE_AFTER=%q accepted", bad)
			continue
		}
		if want := "MOCPCR_JOB_RESCUE_AFTER must be a duration from 2s to 24h (for example 3m), got \"" + bad + "\""; !strings.Contains(err.Error(), want) {
			t.Errorf("error = %q, want it to contain %q", err, want)
		}
	}
}
