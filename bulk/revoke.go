package bulk

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/couponkit/couponkit"
)

// RevokeFile revokes, for each row of a CSV file of customer identifiers,
// every unredeemed coupon of the series the customer holds, in file order,
// with exactly the rules of Engine.Revoke by customer (at most
// couponkit.MaxRevokeByCustomer coupons per customer: a customer with more
// is rejected with TooMany and nothing of theirs is revoked).
//
// The file has a header row with at least one identifier column
// (customer_id, mobile, email, external_id); each row gives exactly one.
// A customer with nothing to revoke counts as Unchanged; a row some of
// whose coupons could not be revoked (redeemed concurrently) is rejected
// with the failures' code and codes, its other coupons being revoked.
//
// See the package documentation for batches, errors, rejections and
// resuming.
func RevokeFile(ctx context.Context, e *couponkit.Engine, seriesID string, r io.Reader, opts Options) (*Report, error) {
	opts = opts.withDefaults(OpRevoke)
	if err := checkArgs(e, r); err != nil {
		return &Report{Op: OpRevoke, SeriesID: seriesID}, err
	}
	s, err := e.Series(ctx, seriesID)
	if err != nil {
		return &Report{Op: OpRevoke, SeriesID: seriesID}, err
	}
	j := &job{
		op:      OpRevoke,
		allowed: identifierCols,
		check: func(cols colSet) string {
			if cols&identifierCols == 0 {
				return "the header has no customer identifier column; give one of " + identifierCols.names()
			}
			return ""
		},
		a: &revoker{e: e, seriesID: s.ID, opts: opts},
	}
	return j.run(ctx, s.ID, r, opts)
}

type revoker struct {
	e        *couponkit.Engine
	seriesID string
	opts     Options
}

func (a *revoker) apply(ctx context.Context, batch []record, out []outcome, rep *Report) (int, error) {
	for i := range batch {
		rec := &batch[i]
		if o, bad := precheck(rec, true); bad {
			out[i] = o
			continue
		}
		res, err := a.e.Revoke(ctx, couponkit.RevokeRequest{
			SeriesID: a.seriesID, Customer: rec.ref, Actor: a.opts.Actor, Reason: a.opts.Reason,
		})
		if err != nil {
			if stops(err) {
				return i, err
			}
			out[i] = rejectErr(err)
			continue
		}
		rep.Revoked += res.RevokedCount
		switch {
		case res.FailedCount() > 0:
			var b strings.Builder
			fmt.Fprintf(&b, "%d of %d coupons revoked; not revoked:", res.RevokedCount, res.Total)
			for _, f := range res.Failed {
				fmt.Fprintf(&b, " %d %s (%s);", f.Code, f.Message, strings.Join(f.Codes, ", "))
			}
			out[i] = outcome{kind: rejected, code: res.Failed[0].Code, reason: strings.TrimSuffix(b.String(), ";")}
		case res.RevokedCount == 0:
			out[i] = outcome{kind: unchanged}
		default:
			out[i] = outcome{kind: applied}
		}
	}
	return len(batch), nil
}
