package bulk

import (
	"context"
	"errors"
	"io"
	"strconv"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/codegen"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/series"
)

// UploadFile adds the codes of a CSV file to the pool of an uploaded or
// third-party series, with Engine.Upload's rules, batch by batch. A row may
// also name a customer: its code is then issued to that customer at once,
// in file order, with the rules of Engine.Issue.
//
// The file has a header row with a code column, optionally one or more
// customer identifier columns (customer_id, mobile, email, external_id; a
// row gives at most one identifier) and an optional expires_at column: the
// code's own expiry, as RFC 3339 ("2026-12-31T23:59:59+01:00") or a date
// ("2026-12-31": the code expires at the end of that day in the series'
// time zone).
//
// Uploading is idempotent per code, so a file can be run again: codes
// already in the series are left as they are (Report.Existing), and a row
// whose code is already issued to the row's customer changes nothing
// (Report.Unchanged). A row whose code is already issued to someone else is
// rejected with AlreadyIssued. A row with a customer is issued with an
// idempotency key, as IssueFile's rows are (an idempotency_key column, or
// one derived from Options.FileID or the file's content and the row
// number): a row an earlier run issued counts as Unchanged
// (Report.Replayed).
//
// See the package documentation for batches, errors, rejections and
// resuming.
func UploadFile(ctx context.Context, e *couponkit.Engine, seriesID string, r io.Reader, opts Options) (*Report, error) {
	opts = opts.withDefaults(OpUpload)
	rep := &Report{Op: OpUpload, SeriesID: seriesID}
	if err := checkArgs(e, r); err != nil {
		return rep, err
	}
	s, err := e.Series(ctx, seriesID)
	if err != nil {
		return rep, err
	}
	if k := s.Source.Kind; k != series.Uploaded && k != series.ThirdParty {
		return rep, errcode.New(errcode.InvalidArgument, "SeriesID", "series "+s.ID+" ("+k.String()+") does not take uploaded codes")
	}
	loc, err := s.Location()
	if err != nil {
		return rep, err
	}
	j := &job{
		op:      OpUpload,
		allowed: identifierCols | setOf(colCode, colExpires, colKey),
		check: func(cols colSet) string {
			if !cols.has(colCode) {
				return "the header has no code column"
			}
			return ""
		},
		a:     &uploader{e: e, seriesID: s.ID, loc: loc, opts: opts},
		keyed: true,
	}
	return j.run(ctx, s.ID, r, opts)
}

type uploader struct {
	e        *couponkit.Engine
	seriesID string
	loc      *time.Location
	opts     Options
	rows     []couponkit.UploadRow
	idx      []int // batch index of each entry of rows
}

func (a *uploader) apply(ctx context.Context, batch []record, out []outcome, rep *Report) (int, error) {
	a.rows, a.idx = a.rows[:0], a.idx[:0]
	for i := range batch {
		rec := &batch[i]
		if o, bad := precheck(rec, false); bad {
			out[i] = o
			continue
		}
		exp, err := parseExpiry(rec.expires, a.loc)
		if err != nil {
			out[i] = rejectErr(err)
			continue
		}
		// The customers are issued below, row by row, so that a code
		// already issued can be told apart by holder.
		a.rows = append(a.rows, couponkit.UploadRow{Code: rec.code, ExpiresAt: exp})
		a.idx = append(a.idx, i)
	}
	var res couponkit.UploadResult
	if len(a.rows) > 0 {
		var err error
		if res, err = a.e.Upload(ctx, couponkit.UploadRequest{SeriesID: a.seriesID, Rows: a.rows, Actor: a.opts.Actor}); err != nil {
			return 0, err
		}
	}
	rep.Added += res.Added
	rep.Existing += res.Skipped
	for _, f := range res.Failed {
		out[a.idx[f.Row]] = rejectErr(f.Err)
	}
	for i := range batch {
		rec := &batch[i]
		if out[i].kind != 0 {
			continue
		}
		if rec.ref.IsZero() {
			out[i] = outcome{kind: applied}
			continue
		}
		res, err := a.e.Issue(ctx, couponkit.IssueRequest{
			SeriesID: a.seriesID, Customer: rec.ref, Code: rec.code, IdempotencyKey: rec.key,
			Actor: a.opts.Actor, Reason: a.opts.Reason,
		})
		if errors.Is(err, errcode.ErrAlreadyIssued) {
			mine, herr := a.heldBy(ctx, rec)
			switch {
			case herr != nil:
				err = herr
			case mine:
				out[i] = outcome{kind: unchanged}
				continue
			default:
				out[i] = reject(errcode.AlreadyIssued, "code "+strconv.Quote(rec.code)+" is already issued to another customer")
				continue
			}
		}
		switch {
		case err == nil && res.Replayed:
			out[i] = outcome{kind: replayed}
		case err == nil:
			out[i] = outcome{kind: applied}
		case stops(err):
			return i, err
		default:
			out[i] = rejectErr(err)
		}
	}
	return len(batch), nil
}

// heldBy reports whether the row's code is issued to the row's customer.
func (a *uploader) heldBy(ctx context.Context, rec *record) (bool, error) {
	if rec.ref.ID != "" {
		d, err := a.e.Coupon(ctx, a.seriesID, rec.code, couponkit.CustomerRef{})
		if err != nil {
			return false, err
		}
		return d.Holder == rec.ref.ID, nil
	}
	cs, err := a.e.CustomerCoupons(ctx, rec.ref, a.seriesID)
	if err != nil {
		return false, err
	}
	canon, err := codegen.Plain(rec.code)
	if err != nil {
		return false, err
	}
	for _, c := range cs {
		if c.Canonical == canon {
			return true, nil
		}
	}
	return false, nil
}

// parseExpiry reads an expires_at cell: empty (no expiry of its own), RFC
// 3339, or a date meaning the end of that day in loc (the instant the next
// day starts, as the series' own expiries are).
func parseExpiry(s string, loc *time.Location) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseInLocation(time.DateOnly, s, loc); err == nil {
		return time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, loc), nil
	}
	return time.Time{}, errcode.New(errcode.InvalidArgument, "expires_at",
		"expires_at "+strconv.Quote(s)+" is neither a date (2006-01-02) nor an RFC 3339 time (2006-01-02T15:04:05Z07:00)")
}
