//go:build pprof

package main

// Profiling for the benchmark suite only: `mocpcr-bench -pprof DIR` builds
// the binary with -tags pprof, and this file then serves net/http/pprof on
// MOCPCR_PPROF_ADDR, a separate loopback listener. The product binary
// (make build) has no such file, so no profiling endpoint can ever be
// reached on the public mux.

import (
	"net/http"
	_ "net/http/pprof" // registers on http.DefaultServeMux, served only here
	"os"
	"runtime"
)

func init() {
	addr := os.Getenv("MOCPCR_PPROF_ADDR")
	if addr == "" {
		return
	}
	runtime.SetMutexProfileFraction(5)
	runtime.SetBlockProfileRate(int(1e6)) // one sample per ms blocked
	go func() { _ = http.ListenAndServe(addr, nil) }()
}
