package store

import "testing"

// The PostgreSQL pool is sized to the cores unless the operator says
// otherwise, in MOCPCR_DB_MAX_CONNS (Options.MaxConns) or in the URL.
func TestPostgresPoolSizeFitsTheCoresUnlessSet(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  Options
		want int32
	}{
		{"default", Options{URL: "postgres://u@h/db"}, PostgresMaxConns()},
		{"MOCPCR_DB_MAX_CONNS", Options{URL: "postgres://u@h/db?pool_max_conns=30", MaxConns: 6}, 6},
		{"pool_max_conns in the URL", Options{URL: "postgres://u@h/db?pool_max_conns=30"}, 30},
	} {
		cfg, err := postgresConfig(tc.opt)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.MaxConns != tc.want {
			t.Errorf("%s: pool of %d, want %d", tc.name, cfg.MaxConns, tc.want)
		}
	}
	if n := PostgresMaxConns(); n < 12 {
		t.Errorf("default pool %d is smaller than the read gate plus the background work", n)
	}
}
