package bulk

import (
	"context"
	"io"

	"github.com/couponkit/couponkit"
)

// AddAudienceFile adds the customers of a CSV file to the audience list of
// the series (the customers a series that issues to listed customers only
// may issue to), in file order, with exactly the rules of
// Engine.AddAudience: each customer added gets an AudienceAdded event in its
// history, and a customer already on the list, by an earlier row or before
// the run, is left as it is (Unchanged) and gets none.
//
// The file has a header row with at least one identifier column
// (customer_id, mobile, email, external_id); each row gives exactly one. A
// row naming no customer, several identifiers or an unknown customer is
// rejected.
//
// See the package documentation for batches, errors, rejections and
// resuming; a run can simply be run again, since adding a member twice
// changes nothing.
func AddAudienceFile(ctx context.Context, e *couponkit.Engine, seriesID string, r io.Reader, opts Options) (*Report, error) {
	return audienceFile(ctx, e, seriesID, r, opts, OpAudienceAdd)
}

// RemoveAudienceFile takes the customers of a CSV file off the audience
// list of the series, as AddAudienceFile adds them: each customer removed
// gets an AudienceRemoved event, and a customer not on the list is
// Unchanged and gets none.
func RemoveAudienceFile(ctx context.Context, e *couponkit.Engine, seriesID string, r io.Reader, opts Options) (*Report, error) {
	return audienceFile(ctx, e, seriesID, r, opts, OpAudienceRemove)
}

func audienceFile(ctx context.Context, e *couponkit.Engine, seriesID string, r io.Reader, opts Options, op Op) (*Report, error) {
	opts = opts.withDefaults(op)
	if err := checkArgs(e, r); err != nil {
		return &Report{Op: op, SeriesID: seriesID}, err
	}
	s, err := e.Series(ctx, seriesID)
	if err != nil {
		return &Report{Op: op, SeriesID: seriesID}, err
	}
	j := &job{
		op:      op,
		allowed: identifierCols,
		check: func(cols colSet) string {
			if cols&identifierCols == 0 {
				return "the header has no customer identifier column; give one of " + identifierCols.names()
			}
			return ""
		},
		a: &audiencer{e: e, seriesID: s.ID, opts: opts, remove: op == OpAudienceRemove},
	}
	return j.run(ctx, s.ID, r, opts)
}

type audiencer struct {
	e        *couponkit.Engine
	seriesID string
	opts     Options
	remove   bool
}

// apply sends the batch's rows to the engine in order, as requests of at
// most couponkit.MaxAudienceChange customers; each request is one atomic
// change, so a request that fails applies none of its rows.
func (a *audiencer) apply(ctx context.Context, batch []record, out []outcome, _ *Report) (int, error) {
	for from := 0; from < len(batch); {
		to := from
		var refs []couponkit.CustomerRef
		var rows []int
		for ; to < len(batch) && len(refs) < couponkit.MaxAudienceChange; to++ {
			if o, bad := precheck(&batch[to], true); bad {
				out[to] = o
				continue
			}
			refs = append(refs, batch[to].ref)
			rows = append(rows, to)
		}
		if len(refs) > 0 {
			req := couponkit.AudienceRequest{SeriesID: a.seriesID, Customers: refs, Actor: a.opts.Actor, Reason: a.opts.Reason}
			change := a.e.AddAudience
			if a.remove {
				change = a.e.RemoveAudience
			}
			res, err := change(ctx, req)
			if err != nil {
				return from, err
			}
			for k, o := range res.Outcomes {
				switch i := rows[k]; {
				case o.Err != nil:
					out[i] = rejectErr(o.Err)
				case o.Changed:
					out[i] = outcome{kind: applied}
				default:
					out[i] = outcome{kind: unchanged}
				}
			}
		}
		from = to
	}
	return len(batch), nil
}
