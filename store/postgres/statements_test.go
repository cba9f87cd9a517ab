package postgres_test

import (
	"context"
	"database/sql"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/couponkit/couponkit/store/internal/sqltest"
	"github.com/couponkit/couponkit/store/postgres"
)

// tally counts what pgx sends: statements alone (each a round trip) and
// batches (one round trip each) with their statements.
type tally struct{ queries, batches, batched atomic.Int64 }

func (c *tally) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.queries.Add(1)
	return ctx
}
func (c *tally) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (c *tally) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	c.batches.Add(1)
	return ctx
}
func (c *tally) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {
	c.batched.Add(1)
}
func (c *tally) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// openTraced opens a pool over a schema of its own, dropped when the test
// ends, whose connections report their statements to tracer.
func openTraced(t *testing.T, tracer pgx.QueryTracer) *sql.DB {
	t.Helper()
	d := dsn(t)
	cfg, err := pgx.ParseConfig(d)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["search_path"] = newSchema(t, d)
	cfg.Tracer = tracer
	db := stdlib.OpenDB(*cfg)
	t.Cleanup(func() { db.Close() })
	return db
}

// TestStatementsPerRedemption counts the statements and round trips of
// the hot series' redemptions (32 clients, the level not reached): at
// most one read round trip each (concurrent reads share one combined
// statement), and the writes of a group of changes in two (its merged
// statements, its commit) shared by the group.
func TestStatementsPerRedemption(t *testing.T) {
	tl := &tally{}
	db := openTraced(t, tl)
	db.SetMaxOpenConns(40)
	db.SetMaxIdleConns(40)
	s := postgres.New(db)
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	const n = 2000
	sqltest.RedeemHot(t, s, n, 32, func() { tl.queries.Store(0); tl.batches.Store(0); tl.batched.Store(0) })
	q, b, bq := float64(tl.queries.Load()), float64(tl.batches.Load()), float64(tl.batched.Load())
	t.Logf("per redemption: %.2f statements, %.2f round trips (%.2f alone, %.2f batches of %.1f statements)",
		(q+bq)/n, (q+b)/n, q/n, b/n, bq/max(b, 1))
	if trips := (q + b) / n; trips > 1.5 {
		t.Errorf("%.2f round trips per redemption, want at most 1.5", trips)
	}
}
