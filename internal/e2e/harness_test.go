// Package e2e drives the real server in Debian's Chromium, headless, the
// way a user would. Screenshots of key pages are saved under
// test-artifacts/ (git-ignored) at the repository root.
package e2e

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/mocpcr/mocpcr/internal/app"
	"github.com/mocpcr/mocpcr/internal/config"
)

// chromiumPath finds the browser, or skips (fails when CI requires it).
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("MOCPCR_E2E_REQUIRED") != "" {
		t.Fatal("MOCPCR_E2E_REQUIRED is set but chromium is not installed (apt-get install chromium)")
	}
	t.Skip("browser tests skipped: install Debian's chromium (apt-get install chromium) to run them")
	return ""
}

// server is a real mocpcr on a random loopback port with a fresh database.
type server struct {
	URL string
	App *app.App
}

func startServer(t *testing.T, env map[string]string) *server {
	t.Helper()
	chromiumPath(t) // every test here drives the browser: skip before starting anything
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{
		"MOCPCR_ADDR":     ln.Addr().String(),
		"MOCPCR_DATA_DIR": t.TempDir(),
	}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := config.Load(config.MapEnv(vars))
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, logger, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := a.Serve(ctx, ln); err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		a.Close()
	})
	return &server{URL: cfg.BaseURL, App: a}
}

// browser is one headless Chromium tab that records console errors.
type browser struct {
	t   *testing.T
	ctx context.Context

	mu     sync.Mutex
	errors []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := chromiumPath(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(1280, 900),
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	b := &browser{t: t}
	listener := chromedp.WithListener(b.recordErrors)
	ctx, cancel := chromedp.NewContext(actx, listener)
	// One limit for the whole browser: a hung page fails the test instead
	// of hanging CI.
	ctx, tcancel := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { tcancel(); cancel(); acancel() })
	b.ctx = ctx
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return b
}

// recordErrors is the tab's event listener: uncaught exceptions and
// console.error calls become test failures in noConsoleErrors.
func (b *browser) recordErrors(ev any) {
	switch e := ev.(type) {
	case *runtime.EventExceptionThrown:
		d := e.ExceptionDetails
		msg := d.Text
		if d.Exception != nil {
			msg += " " + d.Exception.Description
		}
		b.addError(fmt.Sprintf("exception at %s:%d: %s", d.URL, d.LineNumber, msg))
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError {
			var parts []string
			for _, a := range e.Args {
				parts = append(parts, fmt.Sprint(a.Value, a.Description))
			}
			b.addError("console.error: " + strings.Join(parts, " "))
		}
	}
}

func (b *browser) addError(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.errors = append(b.errors, s)
}

// do performs steps and fails the test on error.
func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

// get runs one action that returns a value, failing the test on error.
func get[T any](b *browser, a chromedp.Action[T]) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, a)
	if err != nil {
		b.t.Fatalf("browser: %v", err)
	}
	return v
}

// text returns the text of the first element matching a CSS selector.
func (b *browser) text(css string) string {
	b.t.Helper()
	return get(b, chromedp.Text(chromedp.CSS(css)))
}

// noConsoleErrors fails the test if any page logged a JavaScript error.
func (b *browser) noConsoleErrors() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range b.errors {
		b.t.Errorf("JavaScript error: %s", e)
	}
	b.errors = nil
}

// screenshot saves the full page as test-artifacts/<name>.png.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	buf := get(b, chromedp.FullScreenshot(100)) // quality 100 makes chromium encode PNG
	dir := artifactsDir(b.t)
	if err := os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644); err != nil {
		b.t.Errorf("save screenshot: %v", err)
	}
}

func artifactsDir(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	root := strings.TrimSpace(string(out))
	if err != nil || root == "" {
		root = os.TempDir()
	}
	dir := filepath.Join(root, "test-artifacts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func (s *server) url(path string) string { return fmt.Sprintf("%s%s", s.URL, path) }
