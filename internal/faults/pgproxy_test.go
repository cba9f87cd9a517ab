package faults_test

import (
	"database/sql"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/couponkit/couponkit/internal/faults"
)

// TestPGProxyWithPostgres drives a real PostgreSQL server through the
// proxy with pgx, in each way a client commits: a transaction committed
// by the simple protocol (pgx, database/sql), a pipelined batch ending in
// COMMIT, and autocommit inserts by the simple and the extended protocol.
// Told to drop the next commit reply, the proxy cuts the client off after
// the server committed: the client gets an error, and the row is stored.
// Told nothing, every commit goes through and is counted once; a rollback
// is not a commit.
func TestPGProxyWithPostgres(t *testing.T) {
	dsn := os.Getenv(pgEnv)
	if dsn == "" {
		t.Skipf("set %s to a PostgreSQL DSN to run this test", pgEnv)
	}
	schema := newSchema(t, dsn)
	direct := openPool(t, dsn, schema, 2)
	if _, err := direct.Exec("CREATE TABLE t (id INT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	p, err := faults.NewPGProxy(net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))), faults.PGOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	pdsn := proxyDSN(t, p, dsn, schema)
	viaSQL := openPool(t, pdsn, schema, 1)

	type commitWay struct {
		name     string
		implicit bool
		write    func(c *pgx.Conn, id int) error
	}
	ways := []commitWay{
		{"transaction", false, func(c *pgx.Conn, id int) error {
			tx, err := c.Begin(ctx)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "INSERT INTO t VALUES ($1)", id); err != nil {
				return err
			}
			return tx.Commit(ctx)
		}},
		{"pipelined batch", false, func(c *pgx.Conn, id int) error {
			b := &pgx.Batch{}
			b.Queue("BEGIN")
			b.Queue("INSERT INTO t VALUES ($1)", id)
			b.Queue("COMMIT")
			return c.SendBatch(ctx, b).Close()
		}},
		{"autocommit, extended protocol", true, func(c *pgx.Conn, id int) error {
			_, err := c.Exec(ctx, "INSERT INTO t VALUES ($1)", id)
			return err
		}},
		{"autocommit, simple protocol", true, func(c *pgx.Conn, id int) error {
			_, err := c.Exec(ctx, fmt.Sprintf("INSERT INTO t VALUES (%d)", id))
			return err
		}},
		{"database/sql transaction", false, func(_ *pgx.Conn, id int) error {
			tx, err := viaSQL.Begin()
			if err != nil {
				return err
			}
			if _, err := tx.Exec("INSERT INTO t VALUES ($1)", id); err != nil {
				return err
			}
			return tx.Commit()
		}},
	}
	id := 0
	for _, w := range ways {
		t.Run(w.name, func(t *testing.T) {
			c, err := pgx.Connect(ctx, pdsn)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close(ctx)
			before := p.Stats()
			id++
			if err := w.write(c, id); err != nil {
				t.Fatalf("with nothing dropped: %v", err)
			}
			id++
			p.DropNext(1)
			if err := w.write(c, id); err == nil {
				t.Fatal("the write whose commit reply was dropped succeeded")
			} else {
				t.Logf("the client saw: %v", err)
			}
			if !stored(t, direct, id) || !stored(t, direct, id-1) {
				t.Errorf("rows %d and %d: not both stored", id-1, id)
			}
			after := p.Stats()
			implicit := int64(0)
			if w.implicit {
				implicit = 2
			}
			if got := after.Commits - before.Commits; got != 2 || after.Dropped-before.Dropped != 1 || after.Implicit-before.Implicit != implicit {
				t.Errorf("stats went from %+v to %+v; want 2 commits (%d implicit), 1 dropped", before, after, implicit)
			}
		})
	}
	t.Run("rollback and reads", func(t *testing.T) {
		c, err := pgx.Connect(ctx, pdsn)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(ctx)
		before := p.Stats()
		p.DropNext(1)
		tx, err := c.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO t VALUES (1000)"); err != nil {
			t.Fatal(err)
		}
		if err := tx.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
		var n, sum int
		if err := c.QueryRow(ctx, "SELECT count(*), sum(id) FROM t").Scan(&n, &sum); err != nil {
			t.Fatalf("reading through the proxy: %v", err)
		}
		if n != id || sum != id*(id+1)/2 {
			t.Errorf("read %d rows summing to %d through the proxy; want %d rows, %d", n, sum, id, id*(id+1)/2)
		}
		if st := p.Stats(); st.Commits != before.Commits || st.Dropped != before.Dropped {
			t.Errorf("stats went from %+v to %+v: a rollback or a read counted as a commit", before, st)
		}
	})
}

// proxyDSN is dsn through p, with sslmode=prefer, so that pgx asks the
// proxy for TLS first (the proxy answers 'N').
func proxyDSN(t *testing.T, p *faults.PGProxy, dsn, schema string) string {
	t.Helper()
	pdsn, err := p.DSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(pdsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("sslmode", "prefer")
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func stored(t *testing.T, db *sql.DB, id int) bool {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM t WHERE id = $1", id).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}
