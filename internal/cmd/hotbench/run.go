package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime/pprof"
	"slices"
	"sync/atomic"

	"github.com/couponkit/couponkit/store/postgres"
)

// errNotExact is the error of a run in which a contender other than the
// unsafe one redeemed or stored other than the limit.
var errNotExact = errors.New("a contender was not exact")

// envs are the databases of a run, nil when not chosen.
type envs struct {
	pg     *pgEnv
	pgCK   *ckSide
	sqlite *sqliteEnv
	dir    string
}

// open opens the chosen databases, migrated; close undoes it all.
func open(ctx context.Context, cfg config) (*envs, error) {
	v := &envs{}
	var err error
	if cfg.has("postgres") {
		if v.pg, err = openPG(ctx, cfg.dsn); err != nil {
			return nil, fmt.Errorf("postgres: %w", err)
		}
		st := postgres.New(v.pg.ck)
		if err = st.Migrate(ctx); err == nil {
			err = migrateHand(ctx, v.pg.sync, "WITH (fillfactor = 70)")
		}
		if err == nil {
			v.pgCK, err = newCKSide("postgres", st, &v.pg.seq)
		}
	}
	if err == nil && cfg.has("sqlite") {
		err = v.openSQLite(ctx, cfg.dir)
	}
	if err != nil {
		return nil, errors.Join(err, v.close())
	}
	return v, nil
}

// openSQLite opens the SQLite file in dir, or in a temporary directory
// removed by close.
func (v *envs) openSQLite(ctx context.Context, dir string) error {
	if dir == "" {
		tmp, err := os.MkdirTemp("", "hotbench-")
		if err != nil {
			return err
		}
		v.dir, dir = tmp, tmp
	}
	var err error
	v.sqlite, err = openSQLite(ctx, dir)
	return err
}

func (v *envs) close() error {
	var errs []error
	if v.pg != nil {
		errs = append(errs, v.pg.close())
	}
	if v.sqlite != nil {
		errs = append(errs, v.sqlite.close())
	}
	if v.dir != "" {
		errs = append(errs, os.RemoveAll(v.dir))
	}
	return errors.Join(errs...)
}

// contenders lists the contenders of the opened databases, couponkit's
// first on each.
func (v *envs) contenders(clients int) ([]contender, error) {
	var cs []contender
	if v.pg != nil {
		cs = append(cs, v.pgCK.contender(), v.pgCK.budgetContender())
		cs = append(cs, v.pg.handContenders(clients)...)
	}
	if v.sqlite != nil {
		var seq atomic.Int64
		ck, err := newCKSide("sqlite", v.sqlite.st, &seq)
		if err != nil {
			return nil, err
		}
		cs = append(cs, ck.contender(), ck.budgetContender(), v.sqlite.handContender())
	}
	return cs, nil
}

// run runs the whole comparison and writes its tables to w.
func run(ctx context.Context, cfg config, w io.Writer) (err error) {
	v, err := open(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, v.close()) }()
	cs, err := v.contenders(cfg.clients)
	if err != nil {
		return err
	}
	if cfg.only != "" {
		only := regexp.MustCompile(cfg.only) // checked by parseFlags
		cs = slices.DeleteFunc(cs, func(c contender) bool { return !only.MatchString(c.name) })
	}
	fmt.Fprintf(w, "hotbench: %v; the machine's other load counts: compare ratios within one run\n", cfg.dbs)
	if v.pg != nil {
		fmt.Fprintf(w, "PostgreSQL schema %s (and %s_b<n> for bulk), dropped at the end\n", v.pg.schema, v.pg.schema)
	}
	var xs []exactness
	for _, c := range cs {
		xs = append(xs, checkExact(ctx, c, cfg.limit, cfg.attempts, cfg.clients))
	}
	printExactness(w, xs, cfg.attempts, cfg.clients)
	fmt.Fprintf(w, "\nhot series: %d clients, %d redemptions per run (limit not reached), %d interleaved rounds\n", cfg.clients, cfg.n, cfg.rounds)
	t, err := rounds(ctx, cs, cfg.rounds, cfg.n, cfg.clients, func(r int, name string, rate float64) {
		if cfg.progress != nil {
			fmt.Fprintf(cfg.progress, "round %d: %s %.0f/s\n", r, name, rate)
		}
	})
	if err != nil {
		return err
	}
	printRates(w, cs, t.rates, "redemptions/s")
	printVariants(w, cs, t.rates)
	printCPU(w, cs, t.cpu, "sqlite", "process CPU")
	printCPU(w, cs, t.machine, "postgres", "machine CPU")
	if cfg.cpuprofile != "" && len(cs) > 0 {
		if err := profile(ctx, cfg, profiled(cs), w); err != nil {
			return err
		}
	}
	if err := profileBulk(cfg, len(cs) == 0, w, func() error { return runBulk(ctx, v, cfg, w) }); err != nil {
		return err
	}
	for _, x := range xs {
		if !x.unsafe && !x.exact() {
			return errNotExact
		}
	}
	return nil
}

// runBulk runs the bulk issues cfg asks for: the comparison with raw COPY
// on PostgreSQL, the timed issue into SQLite.
func runBulk(ctx context.Context, v *envs, cfg config, w io.Writer) error {
	if cfg.bulkN > 0 && v.pg != nil {
		if err := compareBulk(ctx, v.pg, cfg.bulkN, cfg.bulkRounds, cfg.batch, w, cfg.progress); err != nil {
			return fmt.Errorf("bulk: %w", err)
		}
	}
	if cfg.sqliteBulk > 0 {
		if err := sqliteBulk(ctx, cfg.dir, cfg.sqliteBulk, cfg.batch, w); err != nil {
			return fmt.Errorf("sqlite bulk: %w", err)
		}
	}
	return nil
}

// profileBulk runs bulk, under a CPU profile written to cfg.cpuprofile when
// one is asked for and no hot-series contender ran to be profiled instead.
func profileBulk(cfg config, noContender bool, w io.Writer, bulk func() error) error {
	if cfg.cpuprofile == "" || !noContender {
		return bulk()
	}
	if err := withCPUProfile(cfg.cpuprofile, bulk); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nCPU profile of the bulk issues written to %s\n", cfg.cpuprofile)
	return nil
}

// withCPUProfile runs fn under a CPU profile written to the file at path.
func withCPUProfile(path string, fn func() error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		return errors.Join(err, f.Close())
	}
	err = fn()
	pprof.StopCPUProfile()
	return errors.Join(err, f.Close())
}

// profiled is the contender -cpuprofile profiles: couponkit's first one,
// PostgreSQL's when it runs.
func profiled(cs []contender) contender {
	for _, c := range cs {
		if c.couponkit {
			return c
		}
	}
	return cs[0]
}

// profile writes a CPU profile of one more timed run of c to
// cfg.cpuprofile.
func profile(ctx context.Context, cfg config, c contender, w io.Writer) error {
	var o outcome
	err := withCPUProfile(cfg.cpuprofile, func() (err error) {
		o, err = timeOne(ctx, c, cfg.n, cfg.clients)
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nCPU profile of one more %s run (%.0f redemptions/s) written to %s\n", c.name, o.rate(), cfg.cpuprofile)
	return nil
}
