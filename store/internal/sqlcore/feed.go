package sqlcore

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"strconv"

	"github.com/couponkit/couponkit/store"
)

// The feed. A dialect reads it with its Statements.FeedRead and FeedHead:
// by seq on a database that numbers events in the order of commit (SQLite:
// positions (0, seq)), or by (tx, seq) behind a fence on one that does not
// (PostgreSQL, Dialect.FeedTx: see package postgres).

var _ store.Checkpointer = (*Store)(nil)

// checkPosition refuses a position of a form the store never makes: with
// Dialect.FeedTx one with a low part and no transaction, else one with a
// high part. Parts no event can have (beyond int64) read as past the last
// event.
func (s *Store) checkPosition(ctx context.Context, c conn, p store.Position) error {
	hi, lo := p.Parts()
	switch {
	case !s.d.FeedTx && hi != 0, s.d.FeedTx && hi == 0 && lo != 0:
		return store.ForeignPosition(p)
	case hi > math.MaxInt64 || lo > math.MaxInt64:
		head, err := s.feedHead(ctx, c)
		if err != nil {
			return err
		}
		return &store.FuturePositionError{Position: p, Head: head}
	}
	return nil
}

// EventsAfter implements store.Store: one read (Statements.FeedRead) and,
// when it finds nothing, one of the last readable position
// (Statements.FeedHead), to refuse a position past it.
func (s *Store) EventsAfter(ctx context.Context, after store.Position, limit int) ([]store.FeedEvent, store.Position, error) {
	limit, err := store.FeedLimit(limit)
	if err != nil {
		return nil, after, err
	}
	c := s.reader()
	if err := s.checkPosition(ctx, c, after); err != nil {
		return nil, after, err
	}
	hi, lo := after.Parts()
	args := []any{int64(lo), int64(limit)}
	if s.d.FeedTx {
		args = []any{strconv.FormatUint(hi, 10), int64(lo), int64(limit)}
	}
	out, err := queryAll(ctx, s, c, scanFeedEvent, s.d.SQL.FeedRead, args...)
	if err != nil {
		return nil, after, err
	}
	if len(out) > 0 {
		return out, out[len(out)-1].Position, nil
	}
	head, err := s.feedHead(ctx, c)
	if err != nil {
		return nil, after, err
	}
	if after.Compare(head) > 0 {
		return nil, after, &store.FuturePositionError{Position: after, Head: head}
	}
	return nil, after, nil
}

// scanFeedEvent scans a row of FeedRead: the position's high part as
// text, seq, then the event.
func scanFeedEvent(r scanner) (store.FeedEvent, error) {
	var fe store.FeedEvent
	var tx string
	var seq int64
	if err := scanEventInto(r, &fe.Event, &tx, &seq); err != nil {
		return fe, err
	}
	hi, err := strconv.ParseUint(tx, 10, 64)
	fe.Position = store.MakePosition(hi, uint64(seq))
	return fe, err
}

// feedHead returns the position of the last event a read may return now;
// the zero position when there is none.
func (s *Store) feedHead(ctx context.Context, c conn) (store.Position, error) {
	var tx string
	var seq int64
	err := c.row(ctx, s.d.SQL.FeedHead).Scan(&tx, &seq)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.Position{}, nil
	case err != nil:
		return store.Position{}, s.dbErr(ctx, err)
	}
	hi, err := strconv.ParseUint(tx, 10, 64)
	if err != nil {
		return store.Position{}, s.dbErr(ctx, err)
	}
	return store.MakePosition(hi, uint64(seq)), nil
}

// Checkpoint implements store.Checkpointer.
func (s *Store) Checkpoint(ctx context.Context, consumer string) (store.Position, error) {
	if err := store.CheckConsumer(consumer); err != nil {
		return store.Position{}, err
	}
	var hi, lo int64
	err := s.reader().row(ctx, checkpointGet, consumer).Scan(&hi, &lo)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.Position{}, &store.UnknownConsumerError{Consumer: consumer}
	case err != nil:
		return store.Position{}, s.dbErr(ctx, err)
	}
	return store.MakePosition(uint64(hi), uint64(lo)), nil
}

// SaveCheckpoint implements store.Checkpointer: one upsert, after the
// position is checked against the feed's last event in the same
// transaction.
func (s *Store) SaveCheckpoint(ctx context.Context, consumer string, p store.Position) error {
	if err := store.CheckConsumer(consumer); err != nil {
		return err
	}
	return s.write(ctx, func(x conn) error {
		if err := s.checkPosition(ctx, x, p); err != nil {
			return err
		}
		if !p.IsZero() {
			head, err := s.feedHead(ctx, x)
			if err != nil {
				return err
			}
			if p.Compare(head) > 0 {
				return &store.FuturePositionError{Position: p, Head: head}
			}
		}
		hi, lo := p.Parts()
		_, err := x.exec(ctx, checkpointSave, consumer, int64(hi), int64(lo))
		return s.dbErr(ctx, err)
	})
}

// planNotices appends the statements of c's notices, after the bumps: each
// inserts its event only if the counter, as the change's bump left it (its
// row is locked by the bump), stands at Reach or above and stood below it
// before the change, that is less the bump's delta. A notice on a counter
// the change does not bump never crosses and is left out.
func (s *Store) planNotices(p *Planned, e *encoder) {
	for i := range p.c.Notices {
		n := &p.c.Notices[i]
		for j := range p.c.Bumps {
			if b := &p.c.Bumps[j]; b.Key == n.Key {
				args := e.eventArgs(make([]any, 0, nEventCols+8), &n.Event)
				args = append(append(args, CounterKeyArgs(&n.Key)...), n.Reach, b.Delta, n.Reach)
				p.Ops = append(p.Ops, Op{Kind: OpExec, SQL: s.noticeSQL(), Args: args})
			}
		}
	}
}

// noticeSQL is the conditional insert of a notice's event, each parameter
// used once: the event's columns (EventCols), the counter's key
// (CounterKeyArgs), Reach, the bump's delta and Reach again.
func (s *Store) noticeSQL() string {
	return s.sqlText("notice", func() string {
		q := s.d.SQL
		casts := []string{q.Text, q.Small, q.Text, q.Text, q.Text, q.Text, q.Text, q.Big,
			q.Text, q.Text, q.Text, q.Text, q.Text, q.Text, q.Boolean, q.Big, q.Text, q.Big, q.Big, q.Boolean}
		n := 0
		param := func(cast string) string { n++; return s.d.Param(n) + cast }
		vals := ""
		for i, c := range casts {
			if i > 0 {
				vals += ", "
			}
			vals += param(c)
		}
		key := " WHERE counter = " + param("") + " AND series_id = " + param("") + " AND code = " + param("") +
			" AND holder = " + param("") + " AND customer = " + param("")
		cond := " AND n >= " + param(q.Big) + " AND n - " + param(q.Big) + " < " + param(q.Big)
		return "INSERT INTO ck_events (" + EventCols + ") SELECT " + vals + " WHERE EXISTS (SELECT 1 FROM ck_counters" + key + cond + ")"
	})
}
