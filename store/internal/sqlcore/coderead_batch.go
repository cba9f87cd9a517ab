package sqlcore

import (
	"context"
	"database/sql"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/couponkit/couponkit/store"
)

// Combined code reads.
//
// Every redemption starts with one ReadCode. Where each statement costs
// more than the lookups it makes (Dialect.CombineReads: a round trip to a
// server; on SQLite, a statement through database/sql and a read
// transaction whose page cache the last commit emptied), concurrent
// ReadCode calls of one shape (the same counters, by code or not, with or without a
// series) are combined: at most readsInFlight statements of a shape run at
// once, and the calls that arrive meanwhile wait and are read together by
// the next one, their codes, series and customers sent as arrays:
//
//	SELECT v.i, <coupon>, <series version>, <counters> FROM
//	unnest($codes, $series, $customer1, ...) WITH ORDINALITY AS v(...)
//	CROSS JOIN LATERAL (SELECT * FROM ck_coupons c WHERE c.canonical = v.code
//	[AND c.series_id = v.series] OFFSET 0) c
//	LEFT JOIN LATERAL (<a counter's n, last> OFFSET 0) k0 ON true ...
//	ORDER BY v.i, c.id
//
// or, with Dialect.CombineJSON (SQLite), as one JSON array of rows read
// by json_each (readCodesJSONSQL).
//
// One statement reads for many callers at one instant, which is a valid
// instant for each: a combined read answers what each call alone would
// have answered at some moment during the call.

// readsInFlight bounds the statements of one shape running at once;
// readsPerStmt bounds the calls one statement reads for.
const (
	readsInFlight = 2
	readsPerStmt  = 64
)

// codeReads queues ReadCode calls by shape.
type codeReads struct {
	mu     sync.Mutex
	shapes map[string]*readShape
}

type readShape struct {
	queue    []*codeReadCall
	inFlight int
}

// codeReadCall is one waiting ReadCode: its request, and its answer.
type codeReadCall struct {
	ctx            context.Context // the caller's
	seriesID, code string
	counters       []store.CouponCounter
	reads          []store.CodeRead
	err            error
	done           bool          // read; set under codeReads.mu
	lead           bool          // holds a leader's place; set under codeReads.mu
	wake           chan struct{} // done, or handed a lead
}

// readCodeCombined is ReadCode through the shape's queue, read by
// readBatch.
func (s *Store) readCodeCombined(ctx context.Context, shape string, call *codeReadCall) ([]store.CodeRead, error) {
	return s.reads.read(ctx, shape, call, s.readBatch)
}

// read answers call through the queue of its shape, reading batches with
// readBatch, which sets the answer of every call of its batch. A call
// leads when fewer than readsInFlight leaders of its shape run, or when a
// leader hands it the lead; a leader reads batches from the front of the
// queue until its own call is read (by it or by another leader, which it
// then waits for), then hands the lead to the first call still waiting
// that leads nothing yet. Each leader holds one place: the shape never
// has more than readsInFlight leaders, and a place is freed only when no
// call waits.
func (r *codeReads) read(ctx context.Context, shape string, call *codeReadCall, readBatch func([]*codeReadCall)) ([]store.CodeRead, error) {
	call.ctx, call.wake = ctx, make(chan struct{}, 1)
	r.mu.Lock()
	sh := r.shapes[shape]
	if sh == nil {
		sh = &readShape{}
		r.shapes[shape] = sh
	}
	sh.queue = append(sh.queue, call)
	if sh.inFlight < readsInFlight {
		sh.inFlight++
		call.lead = true
	}
	lead := call.lead
	r.mu.Unlock()
	if !lead {
		select {
		case <-call.wake:
		case <-ctx.Done():
			r.mu.Lock()
			sh.leave(call)
			r.mu.Unlock()
			return nil, ctx.Err()
		}
		r.mu.Lock()
		if call.done && !call.lead {
			r.mu.Unlock()
			return call.reads, call.err
		}
		r.mu.Unlock()
	}
	return r.lead(sh, call, readBatch)
}

// lead is a leader's work for call: it reads batches from the front of
// sh's queue until call is read, by it or by another leader (whose read
// it waits for when the queue is empty), then hands its place on.
func (r *codeReads) lead(sh *readShape, call *codeReadCall, readBatch func([]*codeReadCall)) ([]store.CodeRead, error) {
	for {
		r.mu.Lock()
		if call.done {
			sh.handOn()
			r.mu.Unlock()
			return call.reads, call.err
		}
		n := min(len(sh.queue), readsPerStmt)
		if n == 0 {
			// Another leader is reading this call: its answer wakes it.
			r.mu.Unlock()
			<-call.wake
			continue
		}
		batch := sh.queue[:n:n]
		sh.queue = append([]*codeReadCall(nil), sh.queue[n:]...)
		r.mu.Unlock()
		readBatch(batch)
		r.mu.Lock()
		for _, c := range batch {
			c.done = true
			if c != call {
				signal(c.wake)
			}
		}
		r.mu.Unlock()
	}
}

// handOn gives a leader's place to the first call still waiting that
// leads nothing yet, or frees it. The caller holds codeReads.mu.
func (sh *readShape) handOn() {
	for _, next := range sh.queue {
		if !next.lead {
			next.lead = true
			signal(next.wake)
			return
		}
	}
	sh.inFlight--
}

// leave takes a waiting call whose caller has gone out of the queue and
// passes on the lead it was handed, if any. A call already being read is
// answered to no one. The caller holds codeReads.mu.
func (sh *readShape) leave(call *codeReadCall) {
	for i, c := range sh.queue {
		if c == call {
			sh.queue = append(sh.queue[:i:i], sh.queue[i+1:]...)
			break
		}
	}
	if call.lead {
		call.lead = false
		sh.handOn()
	}
}

// signal wakes a call: a call woken twice (handed a lead, then read by
// another leader before it ran) is woken once, and finds both under the
// lock.
func signal(wake chan struct{}) {
	select {
	case wake <- struct{}{}:
	default:
	}
}

// readBatch reads for every call of batch, all of one shape, with one
// statement, and sets each call's answer.
func (s *Store) readBatch(batch []*codeReadCall) {
	ctx, cancel := batchContext(batch)
	defer cancel()
	counters := batch[0].counters
	q, args := s.readCodesQuery(batch)
	rows, err := s.reader().query(ctx, q, args...)
	if err != nil {
		err = s.dbErr(ctx, err)
		for _, c := range batch {
			c.err = err
		}
		return
	}
	var at int64
	var n [store.MaxCodeCounters]sql.NullInt64
	var last [store.MaxCodeCounters]sql.NullInt64
	var r store.CodeRead
	extra := make([]any, 0, 1+2*len(counters))
	extra = append(extra, &r.SeriesVersion)
	for i := range counters {
		extra = append(extra, &n[i], &last[i])
	}
	for rows.Next() {
		if r.Coupon, err = scanCoupon(withFirst{withExtra{rows, extra}, &at}); err != nil {
			break
		}
		for i := range counters {
			r.Counts[i] = store.Count{N: n[i].Int64, Last: FromNanos(last[i])}
		}
		if at < 1 || at > int64(len(batch)) {
			err = invalid("code", "a combined read answered for no call")
			break
		}
		c := batch[at-1]
		c.reads = append(c.reads, r)
	}
	if err == nil {
		err = rows.Err()
	}
	rows.Close()
	if err != nil {
		err = s.dbErr(ctx, err)
		for _, c := range batch {
			c.reads, c.err = nil, err
		}
		return
	}
	for _, c := range batch {
		c.err = s.rereadEscaped(ctx, c.reads, c.counters)
	}
}

// batchContext is the context of a combined read of batch: no one
// caller's cancellation ends a read the others wait for, but the read
// ends once every caller has given up (a server that stopped answering
// holds no leader past its callers' deadlines). Call the cancel function
// when the read is done.
func batchContext(batch []*codeReadCall) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	var waiting atomic.Int32
	waiting.Store(int32(len(batch)))
	stops := make([]func() bool, len(batch))
	for i, c := range batch {
		stops[i] = context.AfterFunc(c.ctx, func() {
			if waiting.Add(-1) == 0 {
				cancel()
			}
		})
	}
	return ctx, func() {
		for _, stop := range stops {
			stop()
		}
		cancel()
	}
}

// readShapeKey names the shape of a ReadCode: its counters, by code or
// not, and whether it names a series.
func readShapeKey(seriesID string, counters []store.CouponCounter) string {
	shape := []byte{byte('0' + len(counters))}
	if seriesID != "" {
		shape = append(shape, 's')
	}
	for _, cc := range counters {
		shape = append(shape, "nb"[b2i(cc.ByCode)])
		shape = append(shape, byte(cc.Counter))
	}
	return string(shape)
}

// readCodesQuery is readBatch's statement and its arguments: the calls'
// codes, series and customers as one array per column, or with
// Dialect.CombineJSON as one JSON array of rows.
func (s *Store) readCodesQuery(batch []*codeReadCall) (string, []any) {
	first := batch[0]
	counters, bySeries := first.counters, first.seriesID != ""
	key := "readcodes/" + readShapeKey(first.seriesID, counters)
	if s.d.CombineJSON {
		args := make([]any, 0, 1+len(counters))
		args = append(args, jsonCalls(batch))
		for _, cc := range counters {
			args = append(args, int64(cc.Counter))
		}
		return s.sqlText(key, func() string { return s.readCodesJSONSQL(bySeries, counters) }), args
	}
	arrays := make([]any, 0, 2+2*len(counters))
	codes := make([]string, len(batch))
	series := make([]string, len(batch))
	for i, c := range batch {
		codes[i], series[i] = c.code, c.seriesID
	}
	arrays = append(arrays, codes)
	if bySeries {
		arrays = append(arrays, series)
	}
	for j := range counters {
		custs := make([]string, len(batch))
		for i, c := range batch {
			custs[i] = KeyText(c.counters[j].Customer)
		}
		arrays = append(arrays, custs)
	}
	for _, cc := range counters {
		arrays = append(arrays, int64(cc.Counter))
	}
	return s.sqlText(key, func() string { return s.readCodesSQL(bySeries, counters) }), arrays
}

// jsonCalls is the calls of batch as a JSON array of rows, one per call:
// its code, its series, then the customer of each counter (KeyText).
func jsonCalls(batch []*codeReadCall) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, c := range batch {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('[')
		writeJSONString(&b, c.code)
		b.WriteByte(',')
		writeJSONString(&b, c.seriesID)
		for _, cc := range c.counters {
			b.WriteByte(',')
			writeJSONString(&b, KeyText(cc.Customer))
		}
		b.WriteByte(']')
	}
	b.WriteByte(']')
	return b.String()
}

// readCodesJSONSQL is readBatch's statement with Dialect.CombineJSON
// (SQLite): the rows of jsonCalls, read by json_each, then each
// counter's kind. CROSS JOIN keeps the calls the outer loop: each call's
// coupons are looked up by the unique key's leading column, each counter
// by its primary key (ReadCode's LEFT JOINs).
func (s *Store) readCodesJSONSQL(bySeries bool, counters []store.CouponCounter) string {
	var sel, from strings.Builder
	sel.WriteString("SELECT v.key + 1, " + prefixed("c.", CouponCols) + ", (SELECT s.version FROM ck_series s WHERE s.id = c.series_id)")
	from.WriteString(" FROM json_each(" + s.d.Param(1) + ") v CROSS JOIN ck_coupons c")
	for j, cc := range counters {
		k := "k" + itoa(int64(j))
		sel.WriteString(", " + k + ".n, " + k + ".last")
		from.WriteString(" LEFT JOIN ck_counters " + k + s.counterOn(cc, k, s.d.Param(2+j), "v.value ->> "+itoa(int64(2+j))))
	}
	where := " WHERE c.canonical = v.value ->> 0"
	if bySeries {
		where += " AND c.series_id = v.value ->> 1"
	}
	return sel.String() + from.String() + where + " ORDER BY v.key, c.id"
}

// readCodesSQL is readBatch's statement: the arrays of codes, of series
// (with bySeries) and of each counter's customers, then each counter's
// kind.
func (s *Store) readCodesSQL(bySeries bool, counters []store.CouponCounter) string {
	nArrays := 1 + b2i(bySeries) + len(counters)
	var b strings.Builder
	b.WriteString("SELECT v.i, " + prefixed("c.", CouponCols) + ", (SELECT s.version FROM ck_series s WHERE s.id = c.series_id)")
	for j := range counters {
		k := "k" + itoa(int64(j))
		b.WriteString(", " + k + ".n, " + k + ".last")
	}
	b.WriteString(" FROM unnest(" + s.d.Param(1) + "::text[]")
	cols := "code"
	p := 2
	if bySeries {
		b.WriteString(", " + s.d.Param(p) + "::text[]")
		cols += ", series"
		p++
	}
	for j := range counters {
		b.WriteString(", " + s.d.Param(p) + "::text[]")
		cols += ", k" + itoa(int64(j))
		p++
	}
	// A lateral subquery kept apart from the join by OFFSET 0: each
	// call's coupons are looked up by the unique key's leading column, one
	// index lookup per call. As a join (a lateral subquery the planner
	// pulls up is one), a generic plan made while the table was small
	// scans the whole table for every read once it has grown.
	b.WriteString(") WITH ORDINALITY AS v(" + cols + ", i) CROSS JOIN LATERAL (SELECT * FROM ck_coupons c WHERE c.canonical = v.code")
	if bySeries {
		b.WriteString(" AND c.series_id = v.series")
	}
	b.WriteString(" OFFSET 0) c")
	for j, cc := range counters {
		kind, customer := s.d.Param(nArrays+1+j)+s.d.SQL.Small, "v.k"+itoa(int64(j))
		b.WriteString(s.counterLateral(cc, "k"+itoa(int64(j)), kind, customer))
	}
	b.WriteString(" ORDER BY v.i, c.id")
	return b.String()
}

// withFirst scans a row's first column into first, then the rest as r
// asks.
type withFirst struct {
	r     withExtra
	first any
}

func (w withFirst) Scan(dest ...any) error {
	return w.r.r.Scan(append(append([]any{w.first}, dest...), w.r.extra...)...)
}
