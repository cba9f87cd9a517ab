package sqlcore

import (
	"context"
	"database/sql"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/couponkit/couponkit/errcode"
)

// Migration is one numbered schema step: a file NNNN_name.up.sql of a
// dialect's migrations.
type Migration struct {
	Version int
	Name    string   // the file's name
	Stmts   []string // its statements, in order
}

// ReadMigrations returns the migrations of fsys, the files at its root
// named NNNN_name.up.sql, in version order. Other files are left out.
func ReadMigrations(fsys fs.FS) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(name, ".up.sql") {
			continue
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: name, Stmts: SplitSQL(string(b))})
	}
	slices.SortFunc(out, func(a, b Migration) int { return a.Version - b.Version })
	return out, nil
}

// SchemaVersion is the version of the last migration of fsys: the schema
// version a dialect package migrates to.
func SchemaVersion(fsys fs.FS) int {
	ms, err := ReadMigrations(fsys)
	if err != nil || len(ms) == 0 {
		return 0 // the files are embedded: not reached
	}
	return ms[len(ms)-1].Version
}

// SplitSQL splits a migration file into statements: whole-line "--"
// comments are dropped and statements end with ";" at the end of a line,
// except inside a $$-quoted body (a PostgreSQL function's), which stays
// in its statement whole.
func SplitSQL(src string) []string {
	var b strings.Builder
	for line := range strings.Lines(src) {
		if t := strings.TrimSpace(line); strings.HasPrefix(t, "--") {
			continue
		}
		b.WriteString(line)
	}
	var out []string
	add := func(st string) {
		if st = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(st), ";")); st != "" {
			out = append(out, st)
		}
	}
	text, start, quoted := b.String(), 0, false
	for i := 0; i < len(text); i++ {
		switch {
		case strings.HasPrefix(text[i:], "$$"):
			quoted = !quoted
			i++
		case !quoted && strings.HasPrefix(text[i:], ";\n"):
			add(text[start:i])
			start = i + 2
			i++
		}
	}
	add(text[start:])
	return out
}

// MigrationsTable records the migrations Migrate applied.
const MigrationsTable = "CREATE TABLE IF NOT EXISTS ck_migrations (" +
	"version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)"

const (
	migrationsDone   = "SELECT version FROM ck_migrations"
	migrationsRecord = "INSERT INTO ck_migrations (version, name, applied_at) VALUES ($1, $2, $3)"
)

// Migrate creates or upgrades the store's tables to the schema version of
// the dialect's migrations. It is idempotent and versioned: each numbered
// step runs once, recorded in the table ck_migrations, and a database
// already at the current version is left as it is. Two processes that
// migrate at once are serialized (Statements.MigrateLock, or the write lock
// MigrateBegin takes), and every step of a run commits together, so a
// failed run changes nothing. A database migrated by a newer build (a
// version this build does not know) is refused with InvalidConfig, and so
// is a database of another kind (see DialectError). Migrate runs its
// transaction once: one the database refuses (a serialization failure, a
// deadlock, a busy SQLite file past its busy timeout) fails with a
// *store.ConflictError of Kind "transaction", and Migrate may be run
// again.
//
// On a Store from WithTx, the steps run in the caller's transaction.
func (s *Store) Migrate(ctx context.Context) error {
	if s.misuse != nil {
		return s.misuse
	}
	ms, err := ReadMigrations(s.d.Migrations)
	if err != nil {
		return err
	}
	if s.tx != nil {
		return s.migrate(ctx, conn{s: s, tx: s.tx}, ms)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c, err := s.db.Conn(ctx)
	if err != nil {
		return s.dbErr(ctx, err)
	}
	defer c.Close()
	if s.d.SQL.MigrateBegin == "" {
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
	// Take the write lock first, whatever the DSN's transaction mode, so
	// that a concurrent migrator waits instead of failing later on its lock
	// upgrade.
	if _, err := c.ExecContext(ctx, s.d.SQL.MigrateBegin); err != nil {
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

func (s *Store) migrate(ctx context.Context, x execer, ms []Migration) error {
	if q := s.d.SQL.MigrateLock; q != "" {
		if _, err := x.exec(ctx, q); err != nil {
			return s.dbErr(ctx, err)
		}
	}
	if _, err := x.exec(ctx, MigrationsTable); err != nil {
		return s.dbErr(ctx, err)
	}
	done, err := s.migrated(ctx, x)
	if err != nil {
		return err
	}
	latest := ms[len(ms)-1].Version
	for v := range done {
		if v > latest {
			return errcode.New(errcode.InvalidConfig, "schema",
				"the database is at couponkit schema version "+strconv.Itoa(v)+
					", newer than this build knows ("+strconv.Itoa(latest)+")")
		}
	}
	for _, m := range ms {
		if done[m.Version] {
			continue
		}
		for _, st := range m.Stmts {
			if _, err := x.exec(ctx, st); err != nil {
				err = s.dbErr(ctx, err)
				if c := errcode.CodeOf(err); c == errcode.InvalidConfig || c == errcode.Conflict {
					return err // another kind of database, or a refused transaction
				}
				return &errcode.Error{Code: errcode.Unavailable, Field: m.Name, Message: "migration failed", Err: err}
			}
		}
		if _, err := x.exec(ctx, migrationsRecord, int64(m.Version), m.Name, time.Now().UnixNano()); err != nil {
			return s.dbErr(ctx, err)
		}
	}
	return nil
}

// migrated returns the versions ck_migrations records.
func (s *Store) migrated(ctx context.Context, x execer) (map[int]bool, error) {
	rows, err := x.query(ctx, migrationsDone)
	if err != nil {
		return nil, s.dbErr(ctx, err)
	}
	defer rows.Close()
	done := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, s.dbErr(ctx, err)
		}
		done[v] = true
	}
	return done, s.dbErr(ctx, rows.Err())
}
