// Command mocpcr is the Management of Change and Process Change Request
// system: one binary that serves the web UI and API, runs the background
// jobs and carries the administrator's tools.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"strings"
	"syscall"

	"github.com/mocpcr/mocpcr/internal/config"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

// command is one subcommand. run gets the arguments after the command
// name and returns the process exit code.
type command struct {
	summary string
	run     func(ctx context.Context, env *environment, args []string) int
}

// environment is what a command may touch, replaceable in tests.
type environment struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         config.Environment
}

// commands is every subcommand, by name; each runs from its own file.
var commands = map[string]command{
	"serve":       {"start the web server and background jobs (default)", serve},
	"migrate":     {"apply pending database migrations and exit", migrate},
	"user":        {"manage users: user create --email ... --name ... --role ...", userCommand},
	"token":       {"create a personal API token: token create --email USER_EMAIL [--name N] [--expires YYYY-MM-DD]", tokenCommand},
	"email":       {"check the email configuration (email check) or send a test email (email test --to ADDRESS)", emailCommand},
	"audit":       {"verify the tamper-evident audit trail of every change (audit verify)", auditCommand},
	"backup":      {"write a consistent copy of the SQLite database (safe while serving)", backup},
	"healthcheck": {"exit 0 if the local server answers /healthz (for container HEALTHCHECK)", healthcheck},
	"version":     {"print the version", versionCommand},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	env := &environment{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.LookupEnv}
	code := run(ctx, env, os.Args[1:])
	stop()
	os.Exit(code)
}

// errUsage marks an error after which usage has already been printed.
var errUsage = errors.New("usage")

func run(ctx context.Context, env *environment, args []string) int {
	name := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if name == "help" || name == "-h" || name == "--help" {
		usage(env.stdout)
		return 0
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(env.stderr, "mocpcr: unknown command %q\n\n", name)
		usage(env.stderr)
		return 2
	}
	return c.run(ctx, env, args)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "mocpcr: Management of Change (MOC) and Process Change Request (PCR) system")
	fmt.Fprintln(w, "\nUsage: mocpcr [command] [flags]   (serve is the default command)")
	fmt.Fprintln(w, "\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(w, "  %-12s %s\n", "help", "show this help")
	fmt.Fprintln(w, "\nRun 'mocpcr COMMAND -h' for a command's flags. Configuration comes from environment variables; see README.md.")
}

// newFlagSet returns a flag set that prints usage and makes the command
// exit 2 on a bad flag.
func newFlagSet(env *environment, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.stderr, "Usage: mocpcr %s\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args; ok is false with the exit code when the command
// must stop (2 for bad flags, 0 for -h).
func parseFlags(fs *flag.FlagSet, args []string) (code int, ok bool) {
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		return 0, false
	}
	if err != nil {
		return 2, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "mocpcr %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		fs.Usage()
		return 2, false
	}
	return 0, true
}

// loadConfig reads the configuration and reports every problem at once.
func loadConfig(env *environment) (*config.Config, bool) {
	cfg, err := config.Load(env.getenv)
	if err != nil {
		fmt.Fprintln(env.stderr, "mocpcr:", err)
		return nil, false
	}
	return cfg, true
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if rev != "" {
			if dirty {
				rev += "-dirty"
			}
			return "dev+" + rev
		}
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			return bi.Main.Version
		}
	}
	return "dev"
}

// versionCommand prints the build's version.
func versionCommand(ctx context.Context, env *environment, args []string) int {
	fs := newFlagSet(env, "version", "version")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	fmt.Fprintln(env.stdout, "mocpcr", buildVersion())
	return 0
}
