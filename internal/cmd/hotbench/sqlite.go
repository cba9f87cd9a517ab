package main

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/couponkit/couponkit/store/sqlite"
)

// sqliteStmts are the hand-written statements on SQLite: those of
// PostgreSQL with SQLite's numbered parameters.
var sqliteStmts = func() stmts {
	r := strings.NewReplacer("$", "?")
	s := pgStmts
	for _, p := range []*string{&s.newCounter, &s.lockRead, &s.plainRead, &s.bump, &s.guardBump, &s.insert, &s.oneStmt, &s.stored} {
		*p = r.Replace(*p)
	}
	return s
}()

// sqliteEnv is one SQLite file holding couponkit's tables and the
// hand-written ones: couponkit's store over it, and a pool of its own for
// the hand-written strategy, opened by sqlite.OpenDB (the settings of the
// store's pool).
type sqliteEnv struct {
	st   *sqlite.Store
	hand *sql.DB
	seq  atomic.Int64
}

// openSQLite creates the database file hotbench.db in dir and migrates
// both sets of tables.
func openSQLite(ctx context.Context, dir string) (*sqliteEnv, error) {
	path := filepath.Join(dir, "hotbench.db")
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	env := &sqliteEnv{st: st}
	if err = st.Migrate(ctx); err == nil {
		env.hand, err = sqlite.OpenDB(ctx, path)
	}
	if err == nil {
		err = migrateHand(ctx, env.hand, "")
	}
	if err != nil {
		return nil, errors.Join(err, env.close())
	}
	return env, nil
}

// close closes the store and the hand-written pool.
func (env *sqliteEnv) close() error {
	err := env.st.Close()
	if env.hand != nil {
		err = errors.Join(err, env.hand.Close())
	}
	return err
}

// handContender is the hand-written guarded UPDATE + INSERT in one
// transaction on the file.
func (env *sqliteEnv) handContender() contender {
	return contender{name: "sqlite guarded UPDATE + INSERT, one tx", db: "sqlite",
		prepare: func(ctx context.Context, limit, _ int) (*trial, error) {
			sid := "hw" + strconv.FormatInt(env.seq.Add(1), 10)
			return handTrial(ctx, env.hand, sqliteStmts, sid, limit, sqliteStmts.guardedTx)
		}}
}
