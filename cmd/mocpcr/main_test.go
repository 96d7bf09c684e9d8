package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/config"
)

func runCmd(t *testing.T, vars map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &environment{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: config.MapEnv(vars)}
	code = run(context.Background(), env, args)
	return code, out.String(), errb.String()
}

func TestUnknownCommandAndFlagExit2(t *testing.T) {
	for _, args := range [][]string{{"frobnicate"}, {"serve", "--nope"}, {"migrate", "extra"}, {"--bogus"}} {
		code, _, stderr := runCmd(t, nil, args...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
		if !strings.Contains(stderr, "Usage: mocpcr") {
			t.Errorf("%v: no usage printed: %q", args, stderr)
		}
	}
}

func TestHelpAndVersion(t *testing.T) {
	code, out, _ := runCmd(t, nil, "help")
	if code != 0 || !strings.Contains(out, "serve") || !strings.Contains(out, "migrate") {
		t.Errorf("help: %d %q", code, out)
	}
	code, out, _ = runCmd(t, nil, "version")
	if code != 0 || !strings.HasPrefix(out, "mocpcr ") {
		t.Errorf("version: %d %q", code, out)
	}
}

func TestMigrateCommand(t *testing.T) {
	dir := t.TempDir()
	code, out, stderr := runCmd(t, map[string]string{"MOCPCR_DATA_DIR": dir}, "migrate")
	if code != 0 || !strings.Contains(out, "applied 00001_foundation.sql") {
		t.Fatalf("first migrate: %d %q %q", code, out, stderr)
	}
	code, out, _ = runCmd(t, map[string]string{"MOCPCR_DATA_DIR": dir}, "migrate")
	if code != 0 || !strings.Contains(out, "database is up to date") {
		t.Fatalf("second migrate: %d %q", code, out)
	}
}

func TestBadConfigIsOneClearError(t *testing.T) {
	code, out, stderr := runCmd(t, map[string]string{"DATABASE_URL": "postgres://u:topsecret@127.0.0.1:1/db", "MOCPCR_DB_WAIT": "0"}, "migrate")
	if code != 1 || out != "" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	if strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.Contains(stderr, "cannot connect to PostgreSQL") {
		t.Errorf("want one line naming the problem, got %q", stderr)
	}
	if strings.Contains(stderr, "topsecret") || strings.Contains(stderr, "goroutine") {
		t.Errorf("stderr leaks a secret or a stack: %q", stderr)
	}
}

// A database that stays away is waited for, one line per wait, and then
// the same one-line error is given.
func TestUnreachableDatabaseIsWaitedForThenOneError(t *testing.T) {
	code, _, stderr := runCmd(t, map[string]string{"DATABASE_URL": "postgres://u:topsecret@127.0.0.1:1/db", "MOCPCR_DB_WAIT": "2s"}, "migrate")
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if len(lines) < 2 {
		t.Fatalf("want wait lines before the error, got %q", stderr)
	}
	for _, l := range lines[:len(lines)-1] {
		if !strings.Contains(l, "waiting for PostgreSQL") {
			t.Errorf("wait line %q does not say it waits", l)
		}
	}
	if last := lines[len(lines)-1]; !strings.Contains(last, "cannot connect to PostgreSQL") {
		t.Errorf("last line %q", last)
	}
	if strings.Contains(stderr, "topsecret") {
		t.Errorf("stderr leaks the password: %q", stderr)
	}
}

// The real binary: starts with no configuration, answers /healthz and
// /readyz, and finishes an in-flight request on SIGTERM.
func TestServeBinaryStartsAndStopsGracefully(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "mocpcr")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	cmd := exec.Command(bin)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "MOCPCR_ADDR="+addr, "MOCPCR_DATA_DIR="+filepath.Join(dir, "data"))
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	base := "http://" + addr
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz not up in 15s; logs:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	resp, err := http.Get(base + "/readyz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("/readyz = %v %v", resp, err)
	}
	resp.Body.Close()
	if resp, err := http.Get(base + "/no-such-page"); err == nil {
		resp.Body.Close()
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "mocpcr.db")); err != nil {
		t.Errorf("SQLite file not in data dir: %v", err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v\n%s", err, logs.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("did not exit within 20s of SIGTERM")
	}
	for _, want := range []string{"demo site seeded", "shutting down", `"request_id"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %q:\n%s", want, logs.String())
		}
	}
}
