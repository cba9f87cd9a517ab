package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// poolConns is the pool size of every PostgreSQL pool of the program, that
// of postgres.Open.
const poolConns = 40

// pgEnv is the program's private PostgreSQL schema and its pools: ck,
// couponkit's; sync, the hand-written strategies' with the server's
// synchronous_commit; and nosync, with it off. couponkit's pool is its
// own, as a service's is: the no-fsync run takes the sync pool's idle
// connections (prepareHand), and a new connection is a new server process,
// whose caches and shared-memory mappings start cold.
type pgEnv struct {
	dsn, schema      string
	ck, sync, nosync *sql.DB
	seq              atomic.Int64
}

// openPG creates a schema hotbench_<random> in the database of dsn and
// opens the pools over it. close drops the schema.
func openPG(ctx context.Context, dsn string) (*pgEnv, error) {
	var b [6]byte
	rand.Read(b[:])
	env := &pgEnv{dsn: dsn, schema: "hotbench_" + hex.EncodeToString(b[:])}
	if err := env.exec(ctx, "CREATE SCHEMA "+env.schema); err != nil {
		return nil, err
	}
	var err error
	if env.ck, err = env.pool(); err == nil {
		env.sync, err = env.pool()
	}
	if err == nil {
		env.nosync, err = env.pool("synchronous_commit", "off")
	}
	if err == nil {
		err = env.sync.PingContext(ctx)
	}
	if err != nil {
		return nil, errors.Join(err, env.close())
	}
	return env, nil
}

// pool opens a pool of poolConns connections whose search_path is the
// schema, with the run-time parameters params (name, value pairs).
func (env *pgEnv) pool(params ...string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(env.dsn)
	if err != nil {
		return nil, err
	}
	cfg.RuntimeParams["search_path"] = env.schema
	for i := 0; i+1 < len(params); i += 2 {
		cfg.RuntimeParams[params[i]] = params[i+1]
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(poolConns)
	db.SetMaxIdleConns(poolConns)
	return db, nil
}

// exec runs sql on a connection of its own, outside the schema's pools.
func (env *pgEnv) exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, env.dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// close closes the pools and drops the schema with everything in it.
func (env *pgEnv) close() error {
	var errs []error
	for _, db := range []*sql.DB{env.ck, env.sync, env.nosync} {
		if db != nil {
			errs = append(errs, db.Close())
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	errs = append(errs, env.exec(ctx, "DROP SCHEMA IF EXISTS "+env.schema+" CASCADE"))
	return errors.Join(errs...)
}

// handSchema is the hand-written strategies' tables: one counter row per
// series with its limit, and one row per redemption, a coupon redeemed at
// most once. The names are prefixed hw_ beside couponkit's ck_ tables.
const handSchema = `
CREATE TABLE IF NOT EXISTS hw_counters (
	series_id TEXT PRIMARY KEY,
	n         BIGINT NOT NULL CHECK (n >= 0),
	lim       BIGINT NOT NULL
) %s;
CREATE TABLE IF NOT EXISTS hw_redemptions (
	id        TEXT PRIMARY KEY,
	coupon_id TEXT NOT NULL UNIQUE,
	series_id TEXT NOT NULL,
	customer  TEXT NOT NULL,
	made_at   BIGINT NOT NULL,
	bill      TEXT NOT NULL,
	discount  TEXT NOT NULL,
	currency  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS hw_redemptions_series ON hw_redemptions (series_id)`

// stmts are the statements of the hand-written strategies in one SQL
// dialect (parameters: 1 the series; 2 the redemption and coupon id, 3 the
// customer, 4 the time).
type stmts struct {
	newCounter, lockRead, plainRead, bump, guardBump, insert, oneStmt, stored string
}

// pgStmts are the statements on PostgreSQL.
var pgStmts = stmts{
	newCounter: `INSERT INTO hw_counters (series_id, n, lim) VALUES ($1, 0, $2)`,
	lockRead:   `SELECT n, lim FROM hw_counters WHERE series_id = $1 FOR UPDATE`,
	plainRead:  `SELECT n, lim FROM hw_counters WHERE series_id = $1`,
	bump:       `UPDATE hw_counters SET n = n + 1 WHERE series_id = $1`,
	guardBump:  `UPDATE hw_counters SET n = n + 1 WHERE series_id = $1 AND n < lim`,
	insert: `INSERT INTO hw_redemptions (id, coupon_id, series_id, customer, made_at, bill, discount, currency) ` +
		`VALUES ($2, $2, $1, $3, $4, '40', '4', 'EUR')`,
	oneStmt: `WITH u AS (UPDATE hw_counters SET n = n + 1 WHERE series_id = $1 AND n < lim RETURNING series_id) ` +
		`INSERT INTO hw_redemptions (id, coupon_id, series_id, customer, made_at, bill, discount, currency) ` +
		`SELECT $2, $2, u.series_id, $3, $4, '40', '4', 'EUR' FROM u`,
	stored: `SELECT count(*) FROM hw_redemptions WHERE series_id = $1`,
}

// handContenders are the hand-written strategies on PostgreSQL, the
// unsafe one last.
func (env *pgEnv) handContenders(clients int) []contender {
	mk := func(name string, db *sql.DB, unsafe bool, fn redeemFunc) contender {
		return contender{name: name, db: "postgres", unsafe: unsafe, prepare: env.prepareHand(db, clients, fn)}
	}
	return []contender{
		mk("pg lock-read-decide-write", env.sync, false, pgStmts.lockReadDecideWrite),
		mk("pg guarded UPDATE + INSERT, one tx", env.sync, false, pgStmts.guardedTx),
		mk("pg one statement, sync on", env.sync, false, pgStmts.oneStatement),
		mk("pg one statement, sync off", env.nosync, false, pgStmts.oneStatement),
		mk("pg read-then-write, no lock (UNSAFE)", env.sync, true, pgStmts.readThenWrite),
	}
}

// migrateHand creates the hand-written tables in db; fillfactor is the
// counters' storage clause ("" on SQLite).
func migrateHand(ctx context.Context, db *sql.DB, fillfactor string) error {
	_, err := db.ExecContext(ctx, fmt.Sprintf(handSchema, fillfactor))
	return err
}

// A redeemFunc redeems one coupon by hand: series sid, redemption and
// coupon id id, customer cust.
type redeemFunc func(ctx context.Context, db *sql.DB, sid, id, cust string) (bool, error)

// prepareHand returns the prepare of a hand-written contender: a fresh
// counter row of the limit in db, the coupons numbered by the attempt.
func (env *pgEnv) prepareHand(db *sql.DB, clients int, fn redeemFunc) func(context.Context, int, int) (*trial, error) {
	return func(ctx context.Context, limit, _ int) (*trial, error) {
		sid := "hw" + strconv.FormatInt(env.seq.Add(1), 10)
		tr, err := handTrial(ctx, db, pgStmts, sid, limit, fn)
		if err != nil || db != env.nosync {
			return tr, err
		}
		// The server's connections are shared with other programs: the
		// pool with synchronous commit gives its idle connections up for
		// this run, and takes them back after it.
		env.sync.SetMaxIdleConns(0)
		tr.release = func() {
			db.SetMaxIdleConns(0)
			env.sync.SetMaxIdleConns(poolConns)
			// Best effort: a connection not reopened here is opened by the
			// next run that needs it.
			_ = warm(context.Background(), env.sync, clients)
		}
		if err := warm(ctx, db, clients); err != nil {
			tr.release()
			return nil, err
		}
		return tr, nil
	}
}

// warm opens n connections of db and keeps them idle, so that a timed run
// does not open them. A server out of connections (other programs share
// it) is waited for, up to a minute.
func warm(ctx context.Context, db *sql.DB, n int) error {
	db.SetMaxIdleConns(max(n, poolConns))
	conns := make([]*sql.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for tries := 0; len(conns) < n; {
		c, err := db.Conn(ctx)
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "53300" && tries < 60 {
			tries++
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Second):
			}
			continue
		}
		if err != nil {
			return err
		}
		conns = append(conns, c)
	}
	return nil
}

// handTrial inserts the counter row of series sid with the limit in db and
// returns the trial redeeming its coupons with fn.
func handTrial(ctx context.Context, db *sql.DB, st stmts, sid string, limit int, fn redeemFunc) (*trial, error) {
	if _, err := db.ExecContext(ctx, st.newCounter, sid, limit); err != nil {
		return nil, err
	}
	return &trial{
		attempt: func(ctx context.Context, i int) (bool, error) {
			n := strconv.Itoa(i)
			return fn(ctx, db, sid, sid+"-"+n, "c"+n)
		},
		stored: func(ctx context.Context) (int64, error) {
			var n int64
			err := db.QueryRowContext(ctx, st.stored, sid).Scan(&n)
			return n, err
		},
	}, nil
}

// txBeginner begins transactions: a *sql.DB, or one of its connections
// (*sql.Conn).
type txBeginner interface {
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
}

// inTx runs fn in a transaction of db, committing when it returns true
// and rolling back otherwise.
func inTx(ctx context.Context, db txBeginner, fn func(tx *sql.Tx) (bool, error)) (bool, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	done, err := fn(tx)
	if err != nil || !done {
		return false, errors.Join(err, tx.Rollback())
	}
	return true, tx.Commit()
}

// lockReadDecideWrite locks the counter row, checks it against the limit,
// inserts the redemption and bumps the counter.
func (st stmts) lockReadDecideWrite(ctx context.Context, db *sql.DB, sid, id, cust string) (bool, error) {
	return st.readDecideWrite(ctx, db, st.lockRead, sid, id, cust)
}

// readThenWrite is lockReadDecideWrite without the lock: two clients that
// read the same count both write, and the limit is overshot.
func (st stmts) readThenWrite(ctx context.Context, db *sql.DB, sid, id, cust string) (bool, error) {
	return st.readDecideWrite(ctx, db, st.plainRead, sid, id, cust)
}

// readDecideWrite reads the counter with read, and when it is below the
// limit inserts the redemption and bumps the counter, in one transaction.
func (st stmts) readDecideWrite(ctx context.Context, db *sql.DB, read, sid, id, cust string) (bool, error) {
	return inTx(ctx, db, func(tx *sql.Tx) (bool, error) {
		var n, lim int64
		if err := tx.QueryRowContext(ctx, read, sid).Scan(&n, &lim); err != nil {
			return false, err
		}
		if n >= lim {
			return false, nil
		}
		if _, err := tx.ExecContext(ctx, st.insert, sid, id, cust, time.Now().UnixNano()); err != nil {
			return false, err
		}
		_, err := tx.ExecContext(ctx, st.bump, sid)
		return err == nil, err
	})
}

// guardedTx bumps the counter with a guarded UPDATE and inserts the
// redemption, in one transaction.
func (st stmts) guardedTx(ctx context.Context, db *sql.DB, sid, id, cust string) (bool, error) {
	return inTx(ctx, db, func(tx *sql.Tx) (bool, error) {
		res, err := tx.ExecContext(ctx, st.guardBump, sid)
		if err != nil {
			return false, err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return false, err
		}
		_, err = tx.ExecContext(ctx, st.insert, sid, id, cust, time.Now().UnixNano())
		return err == nil, err
	})
}

// oneStatement is the guarded UPDATE and the INSERT as one autocommit
// statement.
func (st stmts) oneStatement(ctx context.Context, db *sql.DB, sid, id, cust string) (bool, error) {
	res, err := db.ExecContext(ctx, st.oneStmt, sid, id, cust, time.Now().UnixNano())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
