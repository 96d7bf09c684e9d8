package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"
)

// healthcheck exists because the container image has no shell or curl.
func healthcheck(ctx context.Context, env *environment, args []string) int {
	fs := newFlagSet(env, "healthcheck", "healthcheck")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	cfg, ok := loadConfig(env)
	if !ok {
		return 1
	}
	host, port, _ := net.SplitHostPort(cfg.Addr)
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 4*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/healthz", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(env.stderr, "unhealthy:", err)
		return 1
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintln(env.stderr, "unhealthy: /healthz answered", resp.Status)
		return 1
	}
	fmt.Fprintln(env.stdout, "healthy")
	return 0
}
