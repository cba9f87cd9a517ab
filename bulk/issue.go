package bulk

import (
	"context"
	"io"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/series"
)

// IssueFile issues a coupon of the series for each row of a CSV file of
// customer identifiers, in file order, with exactly the rules of
// Engine.Issue (per-customer maximum and gap, series maximum, audience,
// exclusions, one common code per customer). A customer may have many rows.
//
// The file has a header row naming its columns (case, spaces, '_' and '-'
// ignored): at least one identifier column, customer_id (or id, user_id),
// mobile, email or external_id; each row gives exactly one identifier.
// An optional code column names, for an uploaded, third-party or
// pre-generated series, the Available code to issue; a series with a common
// or randomized common code refuses a code column. An optional
// idempotency_key (or key) column gives a row its own idempotency key
// (couponkit.IssueRequest.IdempotencyKey); a row without one is issued with
// a key derived from the file's identity and its row number (see
// Options.FileID). Either way a row is issued at most once, however many
// times the file is run: a row an earlier run issued counts as Unchanged
// (Report.Replayed), and a key used before for another customer is a
// rejected row (KeyMismatch).
//
// See the package documentation for batches, errors, rejections and
// resuming.
func IssueFile(ctx context.Context, e *couponkit.Engine, seriesID string, r io.Reader, opts Options) (*Report, error) {
	opts = opts.withDefaults(OpIssue)
	if err := checkArgs(e, r); err != nil {
		return &Report{Op: OpIssue, SeriesID: seriesID}, err
	}
	s, err := e.Series(ctx, seriesID)
	if err != nil {
		return &Report{Op: OpIssue, SeriesID: seriesID}, err
	}
	kind := s.Source.Kind
	j := &job{
		op:      OpIssue,
		allowed: identifierCols | setOf(colCode, colKey),
		check: func(cols colSet) string {
			if cols&identifierCols == 0 {
				return "the header has no customer identifier column; give one of " + identifierCols.names()
			}
			if cols.has(colCode) && (kind == series.Common || kind == series.RandomizedCommon) {
				return "the series has a " + kind.String() + " code, so the file cannot name codes; remove the code column"
			}
			return ""
		},
		stream: &issuer{e: e, seriesID: s.ID, opts: opts},
		keyed:  true,
	}
	return j.run(ctx, s.ID, r, opts)
}

type issuer struct {
	e        *couponkit.Engine
	seriesID string
	opts     Options
}

// applyAll issues the batches as a stream (Engine.IssueBatches), which
// reads and decides each batch while the one before it is written.
func (a *issuer) applyAll(ctx context.Context, next func() ([]record, error), done func([]record, []outcome, int, error) error) error {
	type sent struct {
		batch []record
		out   []outcome
		rows  []int
	}
	var queue []sent // the batches given to the engine and not yet done
	var readErr error
	batches := func(yield func([]couponkit.IssueRequest) bool) {
		for {
			batch, err := next()
			if len(batch) > 0 && (err == nil || err == io.EOF) {
				out := make([]outcome, len(batch))
				reqs, rows := a.requests(batch, out)
				queue = append(queue, sent{batch, out, rows})
				if !yield(reqs) {
					return
				}
			}
			if err != nil {
				if err != io.EOF {
					readErr = err
				}
				return
			}
		}
	}
	err := a.e.IssueBatches(ctx, batches, func(outs []couponkit.IssueOutcome, err error) error {
		s := queue[0]
		queue = queue[1:]
		n, err := issued(outs, err, s.rows, s.out, len(s.batch))
		return done(s.batch, s.out, n, err)
	})
	if err != nil {
		return err
	}
	return readErr
}

// requests makes the engine's requests of a batch's rows; a row the reader
// or precheck refused gets its outcome in out instead. rows[j] is the row
// of request j.
func (a *issuer) requests(batch []record, out []outcome) (reqs []couponkit.IssueRequest, rows []int) {
	// Rows the reader already refused are answered here; the rest go to
	// the engine as one batch, in file order (Engine.IssueBatch gives each
	// the outcome Issue would, and writes the batch as one change).
	reqs = make([]couponkit.IssueRequest, 0, len(batch))
	rows = make([]int, 0, len(batch))
	for i := range batch {
		rec := &batch[i]
		if o, bad := precheck(rec, true); bad {
			out[i] = o
			continue
		}
		reqs = append(reqs, couponkit.IssueRequest{
			SeriesID: a.seriesID, Customer: rec.ref, Code: rec.code, IdempotencyKey: rec.key,
			Actor: a.opts.Actor, Reason: a.opts.Reason,
		})
		rows = append(rows, i)
	}
	return reqs, rows
}

// issued sets the outcomes of a batch of n rows from the engine's outcomes
// of its requests, and returns how many rows were handled and the error
// that stopped the batch.
func issued(outs []couponkit.IssueOutcome, err error, rows []int, out []outcome, n int) (int, error) {
	for j, o := range outs {
		i := rows[j]
		switch {
		case o.Err == nil && o.Result.Replayed:
			out[i] = outcome{kind: replayed}
		case o.Err == nil && o.Result.Resent:
			out[i] = outcome{kind: unchanged}
		case o.Err == nil:
			out[i] = outcome{kind: applied}
		default:
			out[i] = rejectErr(o.Err)
		}
	}
	if err != nil && len(outs) < len(rows) {
		// The rows from the one that met err on were not issued.
		return rows[len(outs)], err
	}
	return n, err
}

// precheck rejects a row the reader found bad, and, when needCustomer, a
// row that names no customer.
func precheck(rec *record, needCustomer bool) (outcome, bool) {
	if rec.bad != nil {
		return rejectErr(rec.bad), true
	}
	if needCustomer && rec.ref.IsZero() {
		return reject(errcode.InvalidArgument, "no customer identifier given"), true
	}
	return outcome{}, false
}
