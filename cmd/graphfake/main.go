// Command graphfake runs the in-repo fake of Microsoft Entra ID and
// Microsoft Graph as a process, so mocpcr can be tried end to end with
// EMAIL_PROVIDER=graph on a machine with no Microsoft 365 tenant:
//
//	go run ./cmd/graphfake --addr 127.0.0.1:9300
//
// It prints the environment variables that point mocpcr at it. It is a
// development tool; it is not part of the mocpcr binary.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/mocpcr/mocpcr/internal/mail/graphtest"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9300", "address to listen on")
	latency := flag.Duration("latency", 0, "simulated latency of each sendMail call, e.g. 50ms")
	mode := flag.String("fail", "", "fault to inject: 403 (no Mail.Send consent), 404 (unlicensed mailbox), 503, 429, token-down, secret-expired")
	flag.Parse()

	s := graphtest.NewUnstarted()
	s.SetLatency(*latency)
	switch *mode {
	case "":
	case "403":
		s.SetAccessDenied(true)
	case "404":
		s.SetNotFound(true)
	case "503":
		s.FailUnavailable(1<<30, "")
	case "429":
		s.Throttle(1<<30, "5")
	case "token-down":
		s.SetTokenMode(graphtest.TokenDown)
	case "secret-expired":
		s.SetSecretExpired(true)
	default:
		fmt.Fprintf(os.Stderr, "graphfake: unknown --fail %q: expected 403, 404, 503, 429, token-down or secret-expired\n", *mode)
		os.Exit(2)
	}
	if err := s.Start(*addr); err != nil {
		fmt.Fprintln(os.Stderr, "graphfake:", err)
		os.Exit(1)
	}
	fmt.Printf(`fake Entra ID + Graph listening on %s
Point mocpcr at it with:

  EMAIL_PROVIDER=graph \
  AZURE_AUTHORITY_HOST=%[2]s GRAPH_ENDPOINT=%[2]s \
  AZURE_TENANT_ID=%[3]s \
  AZURE_CLIENT_ID=%[4]s \
  AZURE_CLIENT_SECRET='%[5]s' \
  GRAPH_MAIL_SENDER=%[6]s \
  AUTH_PROVIDER=local \
  go run ./cmd/mocpcr

`, *addr, s.URL, graphtest.TenantID, graphtest.ClientID, graphtest.ClientSecret, graphtest.Sender)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			s.Close()
			return
		case <-tick.C:
			fmt.Printf("%s tokens issued: %d, sendMail calls: %d, messages accepted: %d\n",
				time.Now().Format(time.TimeOnly), s.TokenRequests(), s.SendRequests(), len(s.Messages()))
		}
	}
}
