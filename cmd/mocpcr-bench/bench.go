package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mocpcr/mocpcr/internal/jobs"
	"github.com/mocpcr/mocpcr/internal/mail"
	"github.com/mocpcr/mocpcr/internal/mail/graph"
	"github.com/mocpcr/mocpcr/internal/mail/graphtest"
	"github.com/mocpcr/mocpcr/internal/store"
)

type httpResult struct {
	name     string
	rps      float64
	p50, p99 time.Duration
	// oneP50 is the route's p50 with one client; rawP50 the p50 of its
	// queries run directly (0: no raw SQL measured for this route).
	oneP50, rawP50 time.Duration
}

type emailResult struct {
	latency time.Duration
	n       int
	rate    float64
	tokens  int
}

type result struct {
	db                     string
	http                   []httpResult
	eventAPI50, eventAPI99 time.Duration
	eventSSE50, eventSSE99 time.Duration
	email                  []emailResult
	tokenNote              string
	tokenOK                bool
	rssIdle, rssLoad       float64
	startEmpty, startLarge time.Duration
	loadTime               time.Duration
	// loadAvg is /proc/loadavg at the end of the HTTP measures: the
	// machine is shared, so the figures say how busy it was.
	loadAvg string
}

func numCPU() int { return runtime.NumCPU() }

// database is one fresh database: a SQLite data directory or a
// PostgreSQL schema (dropped by drop).
type database struct {
	dialect store.Dialect
	dataDir string
	url     string
	drop    func()
}

func newDatabase(ctx context.Context, o options, kind, dir string) (*database, error) {
	dataDir, err := os.MkdirTemp(dir, kind)
	if err != nil {
		return nil, err
	}
	if kind == "sqlite" {
		return &database{dialect: store.SQLite, dataDir: dataDir, drop: func() {}}, nil
	}
	conn, err := pgx.Connect(ctx, o.pgURL)
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "bench_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return nil, err
	}
	u, err := url.Parse(o.pgURL)
	if err != nil {
		return nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return &database{dialect: store.Postgres, dataDir: dataDir, url: u.String(), drop: func() {
		c, err := pgx.Connect(context.Background(), o.pgURL)
		if err == nil {
			c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			c.Close(context.Background())
		}
	}}, nil
}

func (d *database) open(ctx context.Context) (*store.DB, error) {
	db, err := store.Open(ctx, store.Options{URL: d.url, DataDir: d.dataDir})
	if err != nil {
		return nil, err
	}
	if _, err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// server is a running mocpcr process.
type server struct {
	cmd  *exec.Cmd
	url  string
	done chan struct{}
	// pprofURL is the side profiling listener (-pprof), else empty.
	pprofURL string
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func startServer(o options, bin string, d *database) (*server, time.Duration, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, 0, err
	}
	env := []string{"MOCPCR_ADDR=" + addr, "MOCPCR_DATA_DIR=" + d.dataDir, "MOCPCR_LOG_LEVEL=warn", "MOCPCR_LOG_FORMAT=json"}
	var pprofURL string
	if o.pprofDir != "" {
		paddr, err := freeAddr()
		if err != nil {
			return nil, 0, err
		}
		env = append(env, "MOCPCR_PPROF_ADDR="+paddr)
		pprofURL = "http://" + paddr
	}
	if d.url != "" {
		env = append(env, "DATABASE_URL="+d.url)
	}
	s := &server{url: "http://" + addr, done: make(chan struct{}), pprofURL: pprofURL}
	s.cmd = exec.Command(bin, "serve")
	s.cmd.Env = env
	s.cmd.Stderr = os.Stderr
	start := time.Now()
	if err := s.cmd.Start(); err != nil {
		return nil, 0, err
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	for {
		select {
		case <-s.done:
			return nil, 0, fmt.Errorf("server exited during start-up")
		default:
		}
		resp, err := http.Get(s.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s, time.Since(start), nil
			}
		}
		if time.Since(start) > 2*time.Minute {
			s.stop()
			return nil, 0, fmt.Errorf("server not ready after 2 minutes")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (s *server) stop() {
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

// rssMB reads VmRSS of the process.
func (s *server) rssMB() float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return math.NaN()
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return float64(kb) / 1024
		}
	}
	return math.NaN()
}

func benchDatabase(ctx context.Context, o options, bin, kind, dir string) (*result, error) {
	r := &result{db: kind}

	logf("%s: start-up on an empty database", kind)
	empty, err := newDatabase(ctx, o, kind, dir)
	if err != nil {
		return nil, err
	}
	s, took, err := startServer(o, bin, empty)
	if err != nil {
		return nil, err
	}
	r.startEmpty = took
	s.stop()
	empty.drop()

	big, err := newDatabase(ctx, o, kind, dir)
	if err != nil {
		return nil, err
	}
	defer big.drop()
	db, err := big.open(ctx)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	logf("%s: loading %s", kind, describeScale(o.scale))
	t0 := time.Now()
	ds, err := load(ctx, db, o.scale)
	if err != nil {
		return nil, err
	}
	r.loadTime = time.Since(t0)
	logf("%s: loaded in %s", kind, r.loadTime.Round(time.Millisecond))

	s, took, err = startServer(o, bin, big)
	if err != nil {
		return nil, err
	}
	defer s.stop()
	r.startLarge = took
	time.Sleep(2 * time.Second) // settle: the idle figure is after start-up work
	r.rssIdle = s.rssMB()

	eps := endpoints(ctx, db, ds)
	if o.explainDir != "" {
		f, err := os.Create(filepath.Join(o.explainDir, fmt.Sprintf("plans-%s-scale%g.txt", kind, o.scale)))
		if err != nil {
			return nil, err
		}
		err = explain(ctx, db, ds, eps, f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("explain: %w", err)
		}
	}
	for _, ep := range eps {
		if !o.runs(ep.name) {
			continue
		}
		logf("%s: %s", kind, ep.name)
		h := httpResult{name: ep.name}
		if ep.sql != nil {
			// The raw SQL lower bound: the route's own queries, run
			// directly and their rows read, one client.
			lat, err := timeCalls(ds, ep.pick, 300, func(i int) error {
				query, args := ep.sql(i)
				return readRows(ctx, db.Prepared(), query, args...)
			})
			if err != nil {
				return nil, fmt.Errorf("%s raw SQL: %w", ep.name, err)
			}
			h.rawP50 = pct(lat, 50)
		}
		one, err := singleClient(s, ds, ep, 300)
		if err != nil {
			return nil, fmt.Errorf("%s one client: %w", ep.name, err)
		}
		h.oneP50 = pct(one, 50)
		l, rss, err := loadHTTP(s, ds, ep, o, kind+"-"+slug(ep.name))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ep.name, err)
		}
		h.rps, h.p50, h.p99 = l.rps, l.p50, l.p99
		r.http = append(r.http, h)
		r.rssLoad = max(r.rssLoad, rss)
	}
	r.loadAvg = loadAvg()

	if o.runs("event") {
		logf("%s: event to notification latency", kind)
		// A failed measure is reported and the others are kept: a long
		// run must still print its table.
		if err := eventLatency(ctx, s, ds, r); err != nil {
			logf("%s: events: %v (left out of the table)", kind, err)
		}
	}
	s.stop()

	if !o.runs("email") {
		return r, nil
	}
	for _, lat := range []time.Duration{50 * time.Millisecond, 200 * time.Millisecond} {
		logf("%s: email throughput at %s", kind, lat)
		e, err := emailThroughput(ctx, o, kind, dir, lat)
		if err != nil {
			return nil, fmt.Errorf("email: %w", err)
		}
		r.email = append(r.email, e)
	}
	// Tokens live an hour (the fake issues 3599 s, like Entra ID): the
	// client fetches one and reuses it, so 10,000 emails need one token
	// per hour they take to send.
	e := r.email[0]
	hours := 10000 / e.rate / 3600
	need := int(math.Ceil(hours))
	r.tokenNote = fmt.Sprintf("%d token request(s) for %d emails; 10,000 emails take %.0f s at %.0f msg/s → %d", e.tokens, e.n, 10000/e.rate, e.rate, need)
	r.tokenOK = e.tokens == 1
	return r, nil
}

// loadHTTP runs o.clients clients for o.duration, each request as a
// random user, and samples the server's memory meanwhile.
func loadHTTP(s *server, ds *dataset, ep endpoint, o options, profileName string) (httpResult, float64, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: o.clients, MaxConnsPerHost: o.clients}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	defer tr.CloseIdleConnections()
	var (
		mu    sync.Mutex
		lat   []time.Duration
		fails atomic.Int64
		wg    sync.WaitGroup
	)
	stop := time.Now().Add(o.duration)
	for c := range o.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := mrand.New(mrand.NewPCG(uint64(c), 7))
			var mine []time.Duration
			for time.Now().Before(stop) {
				req := ep.request(s, ds, ep.user(rng, ds))
				t := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					fails.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					fails.Add(1)
					continue
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	profiled := make(chan error, 1)
	if s.pprofURL != "" {
		go func() { profiled <- s.profile(o, profileName) }()
	} else {
		profiled <- nil
	}
	var rss float64
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				rss = max(rss, s.rssMB())
			}
		}
	}()
	wg.Wait()
	close(done)
	if err := <-profiled; err != nil {
		return httpResult{}, 0, fmt.Errorf("profile: %w", err)
	}
	if f := fails.Load(); f > 0 {
		return httpResult{}, 0, fmt.Errorf("%d requests failed (of %d)", f, int(f)+len(lat))
	}
	return httpResult{rps: float64(len(lat)) / o.duration.Seconds(), p50: pct(lat, 50), p99: pct(lat, 99)}, rss, nil
}

func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

// eventLatency submits changes as replacements in kind (the site's
// coordinator is notified) and times until the coordinator sees the
// notification: on the live stream, and by polling the unread count.
func eventLatency(ctx context.Context, s *server, ds *dataset, r *result) error {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, _ := http.NewRequestWithContext(sctx, "GET", s.url+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+ds.coordinatorToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	events := make(chan time.Time, 64)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if sc.Text() == "event: notification" {
				events <- time.Now()
			}
		}
	}()
	// An initiator of the site the changes are filed at (user index
	// ds.sites is on site index 0, ds.siteID).
	initiator := ds.tokens[ds.sites]
	call := func(method, path, body string) (string, error) {
		req, _ := http.NewRequest(method, s.url+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+initiator)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 300 {
			return "", fmt.Errorf("%s %s = %d: %s", method, path, resp.StatusCode, b)
		}
		return string(b), nil
	}
	unread := func() (int, error) {
		req, _ := http.NewRequest("GET", s.url+"/api/v1/notifications/unread-count", nil)
		req.Header.Set("Authorization", "Bearer "+ds.coordinatorToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		var out struct {
			Unread int `json:"unread"`
			Count  int `json:"count"`
		}
		b, _ := io.ReadAll(resp.Body)
		if err := jsonUnmarshal(b, &out); err != nil {
			return 0, err
		}
		return max(out.Unread, out.Count), nil
	}
	var apiLat, sseLat []time.Duration
	body := fmt.Sprintf(`{"kind":"MOC","title":"Bench event","description":"d","site_id":%d,"reason":"r","risk_ranking":"low",
		"technical_basis":"t","safety_health_impact":"s","procedure_changes":"p","time_period":"Permanent","authorization_required":"a"}`, ds.siteID)
	for i := 0; i < 40; i++ {
		out, err := call("POST", "/api/v1/changes", body)
		if err != nil {
			return err
		}
		id := between(out, `"id":`, ",")
		before, err := unread()
		if err != nil {
			return err
		}
		// Drain stray events (the initial one).
		for len(events) > 0 {
			<-events
		}
		t0 := time.Now()
		if _, err := call("POST", "/api/v1/changes/"+id+"/submit", `{"screening":{"replacement_in_kind":true}}`); err != nil {
			return err
		}
		for {
			n, err := unread()
			if err != nil {
				return err
			}
			if n > before {
				apiLat = append(apiLat, time.Since(t0))
				break
			}
			if time.Since(t0) > 10*time.Second {
				return fmt.Errorf("notification not visible through the API after 10 s")
			}
		}
		select {
		case at := <-events:
			sseLat = append(sseLat, at.Sub(t0))
		case <-time.After(10 * time.Second):
			return fmt.Errorf("no live event after 10 s")
		}
	}
	r.eventAPI50, r.eventAPI99 = pct(apiLat, 50), pct(apiLat, 99)
	r.eventSSE50, r.eventSSE99 = pct(sseLat, 50), pct(sseLat, 99)
	return nil
}

func between(s, a, b string) string {
	_, rest, _ := strings.Cut(s, a)
	v, _, _ := strings.Cut(rest, b)
	return strings.TrimSpace(v)
}

// emailThroughput queues emails and sends them through the real Graph
// client against the fake at the given latency, with the mailbox cap of 4.
func emailThroughput(ctx context.Context, o options, kind, dir string, latency time.Duration) (emailResult, error) {
	d, err := newDatabase(ctx, o, kind, dir)
	if err != nil {
		return emailResult{}, err
	}
	defer d.drop()
	db, err := d.open(ctx)
	if err != nil {
		return emailResult{}, err
	}
	defer db.Close()
	fake := graphtest.New()
	defer fake.Close()
	fake.SetLatency(latency)
	sender := fmt.Sprintf("bench-%s-%d@contoso.com", kind, latency.Milliseconds())
	fake.AddMailbox(sender)
	c, err := graph.New(graph.Config{TenantID: graphtest.TenantID, ClientID: graphtest.ClientID, ClientSecret: graphtest.ClientSecret,
		Sender: sender, AuthorityHost: fake.URL, GraphEndpoint: fake.URL, MaxConcurrent: 4})
	if err != nil {
		return emailResult{}, err
	}
	q, err := jobs.New(ctx, db, jobs.Options{Provider: c, Sender: sender, MaxConcurrentSends: 4})
	if err != nil {
		return emailResult{}, err
	}
	defer q.Close()
	n := int(20 * time.Second / latency) // about 5 s of sending at the ceiling
	for i := range n {
		if _, err := q.EnqueueEmail(ctx, jobs.OutgoingEmail{To: mail.Address{Email: fmt.Sprintf("u%d@example.com", i)}, Subject: "bench", HTMLBody: "<p>bench</p>"}); err != nil {
			return emailResult{}, err
		}
	}
	start := time.Now()
	if err := q.Start(ctx); err != nil {
		return emailResult{}, err
	}
	defer q.Stop(context.Background())
	for {
		var sent int
		if err := db.SQL.QueryRowContext(ctx, `SELECT count(*) FROM email_messages WHERE status = 'sent'`).Scan(&sent); err != nil {
			return emailResult{}, err
		}
		if sent == n {
			break
		}
		if time.Since(start) > 2*time.Minute {
			return emailResult{}, fmt.Errorf("only %d of %d emails sent after 2 minutes", sent, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	took := time.Since(start)
	return emailResult{latency: latency, n: n, rate: float64(n) / took.Seconds(), tokens: fake.TokenRequests()}, nil
}

// slug makes a file name part from a path.
func slug(path string) string {
	out := strings.Trim(strings.NewReplacer("/", "_", "?", "_", "=", "_", "&", "_").Replace(path), "_")
	if out == "" {
		return "root"
	}
	return out
}

// profile fetches CPU, mutex and block profiles covering most of the
// load period into o.pprofDir/name.{cpu,mutex,block}.pprof.
func (s *server) profile(o options, name string) error {
	secs := max(1, int(o.duration.Seconds())-1)
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for _, p := range []struct{ kind, path string }{{"cpu", "profile"}, {"mutex", "mutex"}, {"block", "block"}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(fmt.Sprintf("%s/debug/pprof/%s?seconds=%d", s.pprofURL, p.path, secs))
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			f, err := os.Create(filepath.Join(o.pprofDir, name+"."+p.kind+".pprof"))
			if err != nil {
				errs <- err
				return
			}
			defer f.Close()
			if _, err := io.Copy(f, resp.Body); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}
