package sqlcore

import (
	"context"
	"errors"
	"strconv"
)

// write runs fn once in a write transaction: its own, committed when fn
// succeeds; or, for a Store from WithTx, a savepoint in the caller's
// transaction. A transaction the database refuses (a serialization
// failure, a deadlock, a busy database) is not run again: its error is a
// *store.ConflictError of Kind "transaction" (see dbErr), for the caller
// to retry.
func (s *Store) write(ctx context.Context, fn func(c conn) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.tx != nil {
		return s.savepoint(ctx, fn)
	}
	err := s.once(ctx, fn)
	s.stmts.prepareWanted(ctx, s.db)
	return err
}

func (s *Store) once(ctx context.Context, fn func(c conn) error) error {
	if s.wmu != nil {
		s.wmu.Lock()
		defer s.wmu.Unlock()
	}
	tx, err := s.beginWrite(ctx)
	if err != nil {
		return s.dbErr(ctx, err)
	}
	if err := fn(conn{s: s, tx: tx}); err != nil {
		_ = tx.Rollback()
		return err
	}
	return s.dbErr(ctx, tx.Commit())
}

func (s *Store) savepoint(ctx context.Context, fn func(c conn) error) error {
	name := "ck_sp" + strconv.FormatUint(s.spSeq.Add(1), 10)
	if _, err := s.tx.ExecContext(ctx, "SAVEPOINT "+name); err != nil {
		return s.dbErr(ctx, err)
	}
	if err := fn(conn{s: s, tx: s.tx}); err != nil {
		// Undo the change alone; the caller's transaction goes on.
		if _, rerr := s.tx.ExecContext(context.WithoutCancel(ctx), "ROLLBACK TO SAVEPOINT "+name); rerr != nil {
			return errors.Join(err, s.dbErr(ctx, rerr))
		}
		_, _ = s.tx.ExecContext(context.WithoutCancel(ctx), "RELEASE SAVEPOINT "+name)
		return err
	}
	_, err := s.tx.ExecContext(ctx, "RELEASE SAVEPOINT "+name)
	return s.dbErr(ctx, err)
}
