package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/internal/sqlcore"
)

// runGroup is the store's group commit (sqlcore.Dialect.RunGroup): a group
// runs on one pooled connection with pgx's pipeline. It is written first
// merged into one change (sqlcore.MergeGroup), whose statements are one
// round trip and its commit another. When that cannot be done, or a
// statement of it fails, the group is written one change at a time, each
// change one round trip (the previous change's RELEASE, its SAVEPOINT and
// its statements in one batch), plus one for the commit and one more for a
// change that fails.
func runGroup(ctx context.Context, s *sqlcore.Store, group []*sqlcore.Waiter, commit func()) error {
	return withPgx(ctx, s, func(pc *pgx.Conn) error {
		if m := sqlcore.MergeGroup(s, group); m != nil {
			if done, err := pipelineMerged(ctx, s, pc, m, commit); done {
				if err != nil && pc.PgConn().TxStatus() != 'I' && !pc.IsClosed() {
					_, _ = pc.Exec(ctx, "ROLLBACK")
				}
				return err
			}
		}
		err := pipelineGroup(ctx, s, pc, group, commit)
		if err != nil && pc.PgConn().TxStatus() != 'I' && !pc.IsClosed() {
			_, _ = pc.Exec(ctx, "ROLLBACK")
		}
		return err
	})
}

// withPgx runs fn on a pooled connection's pgx connection, for what
// database/sql cannot do (pipelines, COPY): the store needs pgx's stdlib
// driver.
func withPgx(ctx context.Context, s *sqlcore.Store, fn func(*pgx.Conn) error) error {
	if err := sqlcore.Misuse(s); err != nil {
		return err
	}
	c, err := s.DB().Conn(ctx)
	if err != nil {
		return sqlcore.DBErr(ctx, s, err)
	}
	defer c.Close()
	return c.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return errcode.New(errcode.InvalidConfig, "DB",
				fmt.Sprintf("a store of package postgres needs pgx's stdlib driver, not %T", dc))
		}
		return fn(sc.Conn())
	})
}

// pipelineGroup writes a group in one transaction on pc and sets each
// waiter's Err; its error is the transaction's.
func pipelineGroup(ctx context.Context, s *sqlcore.Store, pc *pgx.Conn, group []*sqlcore.Waiter, commit func()) error {
	pre := []string{"BEGIN"} // sent before the next change
	for _, w := range group {
		if w.Err = w.Ctx.Err(); w.Err != nil {
			continue
		}
		b := &pgx.Batch{}
		for _, q := range pre {
			b.Queue(q)
		}
		b.Queue(sqlcore.SpChange)
		for i := range w.P.Ops {
			b.Queue(w.P.Ops[i].SQL, w.P.Ops[i].Args...)
		}
		br := pc.SendBatch(ctx, b)
		var err error
		for range len(pre) + 1 {
			if _, err = br.Exec(); err != nil {
				break
			}
		}
		var out outcome
		if err == nil {
			out, err = readOps(ctx, s, br, w.P)
		}
		cerr := br.Close()
		switch {
		case err != nil:
			return sqlcore.DBErr(ctx, s, err)
		case cerr != nil && !isServerErr(pc, cerr):
			return sqlcore.DBErr(ctx, s, cerr)
		case out.err == nil && !out.refused && cerr != nil:
			out.err = sqlcore.DBErr(ctx, s, cerr)
		}
		if w.Err = out.err; w.Err == nil && !out.refused {
			pre = []string{sqlcore.SpRelease}
			continue
		}
		// For a refused guard, read the counter (the transaction is not in
		// error), then undo the change alone. The undo is sent as a simple
		// query: in a transaction in error, the server refuses to prepare
		// anything but ROLLBACK TO.
		if out.refused {
			b := &w.P.Change().Bumps[out.bump]
			var cnt store.Count
			var last sql.NullInt64
			err := pc.QueryRow(ctx, sqlcore.CounterGet, sqlcore.CounterKeyArgs(&b.Key)...).Scan(&cnt.N, &last)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return sqlcore.DBErr(ctx, s, err)
			}
			cnt.Last = sqlcore.FromNanos(last)
			w.Err = sqlcore.RefusedErr(b, cnt)
		}
		if _, err := pc.PgConn().Exec(ctx, sqlcore.SpRollback+"; "+sqlcore.SpRelease).ReadAll(); err != nil {
			return sqlcore.DBErr(ctx, s, err)
		}
		pre = nil
	}
	if len(pre) > 0 && pre[0] == "BEGIN" {
		return nil // nothing was sent
	}
	commit()
	b := &pgx.Batch{}
	for _, q := range pre {
		b.Queue(q)
	}
	b.Queue("COMMIT")
	return sqlcore.DBErr(ctx, s, pc.SendBatch(ctx, b).Close())
}

// pipelineMerged writes a merged group on pc: BEGIN and its statements in
// one batch, then, when every statement did what it must, COMMIT. It
// returns false, having rolled the transaction back, when one did not: the
// group is then to be written one change at a time. Otherwise the group
// is done, with the transaction's error.
func pipelineMerged(ctx context.Context, s *sqlcore.Store, pc *pgx.Conn, m *sqlcore.Merged, commit func()) (bool, error) {
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue(noScans)
	for i := range m.P.Ops {
		b.Queue(m.P.Ops[i].SQL, m.P.Ops[i].Args...)
	}
	br := pc.SendBatch(ctx, b)
	_, err := br.Exec()
	if err == nil {
		_, err = br.Exec()
	}
	var out outcome
	if err == nil {
		out, err = readOps(ctx, s, br, m.P)
	}
	cerr := br.Close()
	switch {
	case err != nil:
		return true, sqlcore.DBErr(ctx, s, err)
	case cerr != nil && !isServerErr(pc, cerr):
		return true, sqlcore.DBErr(ctx, s, cerr)
	case out.err != nil || out.refused || cerr != nil:
		if _, err := pc.PgConn().Exec(ctx, "ROLLBACK").ReadAll(); err != nil {
			return true, sqlcore.DBErr(ctx, s, err)
		}
		return false, nil
	}
	commit()
	ct, err := pc.Exec(ctx, "COMMIT")
	if err != nil {
		return true, sqlcore.DBErr(ctx, s, err)
	}
	if ct.String() != "COMMIT" {
		return true, fmt.Errorf("postgres: the group's transaction ended with %q", ct.String())
	}
	m.Done()
	return true, nil
}

// noScans keeps a merged group's statements on their indexes. They
// write rows by key, and their rows come as arrays (unnest), whose
// length a generic plan does not know: made while the tables were small
// (or their statistics old), it may join the arrays to a table by
// scanning it whole, a cost that grows with the table on every group.
const noScans = "SET LOCAL enable_seqscan = off"

// outcome is how a pipelined change went: its own error, or the bump
// (index in Bumps) whose guard refused it.
type outcome struct {
	err     error
	refused bool
	bump    int
}

// readOps reads the results of a change's statements and checks them. Its
// error ends the group (the connection failed).
func readOps(ctx context.Context, s *sqlcore.Store, br pgx.BatchResults, p *sqlcore.Planned) (outcome, error) {
	for i := range p.Ops {
		o := &p.Ops[i]
		switch o.Kind {
		case sqlcore.OpExec, sqlcore.OpExpectOne, sqlcore.OpExpectN:
			ct, err := br.Exec()
			if err != nil {
				return changeErr(ctx, s, o, err)
			}
			if o.Kind != sqlcore.OpExec && ct.RowsAffected() != o.Rows() {
				return outcome{err: o.Fail()}, nil
			}
		case sqlcore.OpBumps:
			if out, err := readBumps(ctx, s, br, p, o); err != nil || out.err != nil || out.refused {
				return out, err
			}
		case sqlcore.OpBump, sqlcore.OpUndo, sqlcore.OpRead, sqlcore.OpRefuse:
			var n int64
			var last sql.NullInt64
			err := br.QueryRow().Scan(&n, &last)
			switch {
			case errors.Is(err, pgx.ErrNoRows) && (o.Kind == sqlcore.OpRead || o.Kind == sqlcore.OpRefuse):
			case errors.Is(err, pgx.ErrNoRows) && o.Kind == sqlcore.OpUndo:
				return outcome{err: o.Fail()}, nil
			case errors.Is(err, pgx.ErrNoRows):
				return outcome{refused: true, bump: o.Bump}, nil // GuardError once the counter is read
			case err != nil:
				return changeErr(ctx, s, o, err)
			}
			if o.Kind == sqlcore.OpRefuse {
				return outcome{refused: true, bump: o.Bump}, nil
			}
			p.SetAfter(o.Bump, store.Count{N: n, Last: sqlcore.FromNanos(last)})
		default:
			return outcome{}, fmt.Errorf("postgres: statement kind %d cannot be pipelined", o.Kind)
		}
	}
	return outcome{}, nil
}

// readBumps reads the rows of a multi-row counter upsert and settles them.
func readBumps(ctx context.Context, s *sqlcore.Store, br pgx.BatchResults, p *sqlcore.Planned, o *sqlcore.Op) (outcome, error) {
	rows, err := br.Query()
	if err != nil {
		return changeErr(ctx, s, o, err)
	}
	got := make([]sqlcore.Bumped, 0, len(o.Bumps))
	for rows.Next() {
		var r sqlcore.Bumped
		if err := r.Scan(rows); err != nil {
			rows.Close()
			return changeErr(ctx, s, o, err)
		}
		got = append(got, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return changeErr(ctx, s, o, err)
	}
	if refused := sqlcore.SettleBumps(p, o, got); refused >= 0 {
		return outcome{refused: true, bump: refused}, nil // GuardError once the counter is read
	}
	return outcome{}, nil
}

// changeErr sorts a statement's error: the server refused it (the change
// fails alone), or the connection failed (the group ends).
func changeErr(ctx context.Context, s *sqlcore.Store, o *sqlcore.Op, err error) (outcome, error) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Severity != "FATAL" && pe.Severity != "PANIC" {
		return outcome{err: sqlcore.OpErr(ctx, s, o, err)}, nil
	}
	return outcome{}, err
}

// isServerErr reports whether err is an error the server returned while
// the connection stays usable.
func isServerErr(pc *pgx.Conn, err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && !pc.IsClosed()
}
