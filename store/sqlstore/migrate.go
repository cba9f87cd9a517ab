package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/couponkit/couponkit/errcode"
)

//go:embed schema
var schemaFS embed.FS

// migration is one numbered schema step, schema/<dialect>/NNNN_name.sql.
type migration struct {
	version int
	name    string
	stmts   []string
}

// migrations returns the dialect's migrations in version order.
func migrations(d Dialect) ([]migration, error) {
	dir := path.Join("schema", d.String())
	entries, err := fs.ReadDir(schemaFS, dir)
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(name, ".sql") {
			continue
		}
		b, err := fs.ReadFile(schemaFS, path.Join(dir, name))
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: name, stmts: splitSQL(string(b))})
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	return out, nil
}

// splitSQL splits a migration file into statements: whole-line "--"
// comments are dropped and statements end with ";" at the end of a line.
func splitSQL(src string) []string {
	var b strings.Builder
	for line := range strings.Lines(src) {
		if t := strings.TrimSpace(line); strings.HasPrefix(t, "--") {
			continue
		}
		b.WriteString(line)
	}
	var out []string
	for st := range strings.SplitSeq(b.String(), ";\n") {
		if st = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(st), ";")); st != "" {
			out = append(out, st)
		}
	}
	return out
}

// SchemaVersion is the schema version this build of the package migrates
// to: the number of its last migration file.
func SchemaVersion() int {
	v := 0
	for _, d := range []Dialect{SQLite, Postgres} {
		ms, err := migrations(d)
		if err != nil || len(ms) == 0 {
			continue // the files are embedded: not reached
		}
		v = max(v, ms[len(ms)-1].version)
	}
	return v
}

const migrationsTable = "CREATE TABLE IF NOT EXISTS ck_migrations (" +
	"version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)"

// Migrate creates or upgrades the store's tables to SchemaVersion. It is
// idempotent and versioned: each numbered step runs once, recorded in the
// table ck_migrations, and a database already at the current version is
// left as it is. Two processes that migrate at once are serialized (by a
// transaction-scoped advisory lock on PostgreSQL, per schema; by BEGIN
// IMMEDIATE on SQLite), and every step of a run commits together, so a
// failed run changes nothing. A database migrated by a newer build (a
// version this build does not know) is refused with InvalidConfig, and so
// is a database of the other dialect (see DialectError). Migrate runs its
// transaction once: one the database refuses (a serialization failure, a
// deadlock, a busy SQLite file past its busy timeout) fails with a
// *store.ConflictError of Kind "transaction", and Migrate may be run
// again.
//
// On a Store from WithTx, the steps run in the caller's transaction.
func (s *Store) Migrate(ctx context.Context) error {
	if err := s.dialectErr(nil); err != nil {
		return err
	}
	ms, err := migrations(s.d)
	if err != nil {
		return err
	}
	if s.tx != nil {
		return s.migrate(ctx, conn{s: s, tx: s.tx}, ms)
	}
	return s.migrateOwn(ctx, ms)
}

// migrateOwn runs Migrate's steps in a transaction of its own, on one
// connection.
func (s *Store) migrateOwn(ctx context.Context, ms []migration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c, err := s.db.Conn(ctx)
	if err != nil {
		return s.dbErr(ctx, err)
	}
	defer c.Close()
	if s.d == Postgres {
		tx, err := c.BeginTx(ctx, nil)
		if err != nil {
			return s.dbErr(ctx, err)
		}
		if err := s.migrate(ctx, conn{s: s, tx: tx}, ms); err != nil {
			_ = tx.Rollback()
			return err
		}
		return s.dbErr(ctx, tx.Commit())
	}
	// SQLite: take the write lock first, whatever the DSN's _txlock,
	// so that a concurrent migrator waits instead of failing later on
	// its lock upgrade.
	if _, err := c.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return s.dbErr(ctx, err)
	}
	if err := s.migrate(ctx, rawConn{c}, ms); err != nil {
		_, _ = c.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		return err
	}
	if _, err := c.ExecContext(ctx, "COMMIT"); err != nil {
		_, _ = c.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		return s.dbErr(ctx, err)
	}
	return nil
}

// execer is what a migration runs on.
type execer interface {
	exec(ctx context.Context, query string, args ...any) (sql.Result, error)
	query(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// rawConn runs statements on a connection holding a transaction that
// database/sql does not know of.
type rawConn struct{ c *sql.Conn }

func (r rawConn) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return r.c.ExecContext(ctx, q, args...)
}

func (r rawConn) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return r.c.QueryContext(ctx, q, args...)
}

func (s *Store) migrate(ctx context.Context, x execer, ms []migration) error {
	if s.d == Postgres {
		if _, err := x.exec(ctx, "SELECT pg_advisory_xact_lock(hashtext('couponkit.migrate.' || current_schema()))"); err != nil {
			return s.dbErr(ctx, err)
		}
	}
	if _, err := x.exec(ctx, migrationsTable); err != nil {
		return s.dbErr(ctx, err)
	}
	rows, err := x.query(ctx, "SELECT version FROM ck_migrations")
	if err != nil {
		return s.dbErr(ctx, err)
	}
	done := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return s.dbErr(ctx, err)
		}
		done[v] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return s.dbErr(ctx, err)
	}
	latest := ms[len(ms)-1].version
	for v := range done {
		if v > latest {
			return errcode.New(errcode.InvalidConfig, "schema",
				"the database is at couponkit schema version "+strconv.Itoa(v)+
					", newer than this build knows ("+strconv.Itoa(latest)+")")
		}
	}
	for _, m := range ms {
		if done[m.version] {
			continue
		}
		for _, st := range m.stmts {
			if _, err := x.exec(ctx, st); err != nil {
				err = s.dbErr(ctx, err)
				if c := errcode.CodeOf(err); c == errcode.InvalidConfig || c == errcode.Conflict {
					return err // the other dialect's database, or a refused transaction
				}
				return &errcode.Error{Code: errcode.Unavailable, Field: m.name, Message: "migration failed", Err: err}
			}
		}
		if _, err := x.exec(ctx, "INSERT INTO ck_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
			int64(m.version), m.name, time.Now().UnixNano()); err != nil {
			return s.dbErr(ctx, err)
		}
	}
	return nil
}
