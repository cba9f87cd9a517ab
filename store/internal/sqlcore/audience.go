package sqlcore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/couponkit/couponkit/store"
)

// Audience lists.
//
// ck_audience holds one row per member, keyed by (series_id, customer);
// customer compares byte-wise (COLLATE "C" on PostgreSQL, SQLite's BINARY),
// the order Audience pages in. An AudienceUpdate of a Change is one
// statement whose affected-row count says whether the member was there:
// an insert that does nothing (ON CONFLICT DO NOTHING) is an
// *store.ExistsError, a delete that deletes nothing a *store.ConflictError.
// With multi-row statements, consecutive updates of one kind are written
// together and their count checked as a whole; a count that differs undoes
// the change and runs it again a row at a time (redoRows), whose
// statements name the member exactly.

// Audience implements store.Store, with one query.
func (s *Store) Audience(ctx context.Context, q store.AudienceQuery) ([]store.AudienceMember, error) {
	var w where
	w.add("series_id = " + w.arg(q.SeriesID))
	if q.After != "" {
		w.add("customer > " + w.arg(q.After))
	}
	if len(q.Customers) > 0 {
		w.add(fmt.Sprintf(s.d.SQL.InText, "customer", w.arg(s.d.TextList(q.Customers))))
	}
	query := audienceSelect + w.sql() + " ORDER BY customer"
	if q.Limit > 0 {
		query += " LIMIT " + w.arg(int64(q.Limit))
	}
	return queryAll(ctx, s, s.reader(), scanMember, query, w.args...)
}

func scanMember(sc scanner) (store.AudienceMember, error) {
	var m store.AudienceMember
	var at sql.NullInt64
	if err := sc.Scan(&m.Customer, &at); err != nil {
		return m, err
	}
	m.AddedAt = FromNanos(at)
	return m, nil
}

// checkAudienceIDs is checkIDs for the audience updates of c.
func checkAudienceIDs(c *store.Change) error {
	for i := range c.Audience {
		switch {
		case c.Audience[i].SeriesID == "":
			return invalid("Audience.SeriesID", "is empty")
		case c.Audience[i].Customer == "":
			return invalid("Audience.Customer", "is empty")
		}
	}
	return nil
}

// planAudience appends the statements of c's audience updates, in order:
// with multi, each run of two or more consecutive adds (or removes) is
// written by multi-row statements; otherwise every update is a statement
// of its own.
func (s *Store) planAudience(p *Planned, e *encoder, multi bool) {
	ups := p.c.Audience
	for i := 0; i < len(ups); {
		j := i + 1
		for j < len(ups) && ups[j].Remove == ups[i].Remove {
			j++
		}
		if !multi || j-i == 1 {
			for k := i; k < j; k++ {
				s.planMember(p, e, &ups[k])
			}
		} else {
			from := i
			for _, rows := range pieces(j-i, changeRowsPerInsert) {
				s.planMembers(p, e, ups[from:from+rows])
				from += rows
			}
		}
		i = j
	}
}

// planMember appends the statement of one audience update.
func (s *Store) planMember(p *Planned, e *encoder, u *store.AudienceUpdate) {
	key := u.SeriesID + "/" + u.Customer
	if u.Remove {
		p.Ops = append(p.Ops, Op{Kind: OpExpectOne, SQL: memberRemove, Args: []any{u.SeriesID, u.Customer},
			fail: func() error { return &store.ConflictError{Kind: "audience", ID: key} }})
		return
	}
	p.Ops = append(p.Ops, Op{Kind: OpExpectOne, SQL: memberAdd, Args: []any{u.SeriesID, u.Customer, e.time("Audience.At", u.At)},
		fail: func() error { return &store.ExistsError{Kind: "audience", Key: key} }})
}

// errAudienceCount is why a multi-row audience statement asks for its
// change to be run again a row at a time.
var errAudienceCount = errors.New("an audience member was already on the list, or not on it")

// planMembers appends one multi-row statement for ups, which are all adds
// or all removes: it must affect one row per update.
func (s *Store) planMembers(p *Planned, e *encoder, ups []store.AudienceUpdate) {
	rows := len(ups)
	remove := ups[0].Remove
	var args []any
	var q string
	if remove {
		args = make([]any, 0, 2*rows)
		for i := range ups {
			args = append(args, ups[i].SeriesID, ups[i].Customer)
		}
		q = s.sqlText("audience/remove/"+itoa(int64(rows)), func() string {
			return "DELETE FROM ck_audience WHERE (series_id, customer) IN (VALUES " + s.placeholders(rows, 2) + ")"
		})
	} else {
		args = make([]any, 0, 3*rows)
		for i := range ups {
			args = append(args, ups[i].SeriesID, ups[i].Customer, e.time("Audience.At", ups[i].At))
		}
		q = s.sqlText("audience/add/"+itoa(int64(rows)), func() string {
			return "INSERT INTO ck_audience (series_id, customer, added_at) VALUES " + s.placeholders(rows, 3) +
				onConflictSkip
		})
	}
	p.Ops = append(p.Ops, Op{Kind: OpExpectN, SQL: q, Args: args, want: int64(rows),
		fail: func() error { return &redoRows{err: errAudienceCount} }})
}
