package bulk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/refusal"
)

// outcome is what became of one row.
type outcome struct {
	kind     outcomeKind
	code     errcode.Code
	reason   string
	refusals []refusal.Refusal
}

type outcomeKind uint8

const (
	applied outcomeKind = iota + 1
	unchanged
	replayed // unchanged: an earlier run issued the row (its key replayed)
	rejected
)

func rejectErr(err error) outcome {
	var r *refusal.Error
	if errors.As(err, &r) && len(r.Refusals) > 0 {
		return outcome{kind: rejected, code: r.Refusals[0].Code, reason: refusalText(r.Refusals), refusals: r.Refusals}
	}
	code, reason := describe(err)
	return outcome{kind: rejected, code: code, reason: reason}
}

// refusalText lists refusals as "<code> <message>; ...".
func refusalText(rs []refusal.Refusal) string {
	var b strings.Builder
	for i, r := range rs {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(strconv.Itoa(int(r.Code)))
		b.WriteString(" ")
		b.WriteString(r.Message)
	}
	return b.String()
}

func reject(code errcode.Code, reason string) outcome {
	return outcome{kind: rejected, code: code, reason: code.String() + ": " + reason}
}

// describe turns a row's error that is not a refusal into its code and
// text.
func describe(err error) (errcode.Code, string) {
	var ce *errcode.Error
	if errors.As(err, &ce) {
		msg := ce.Code.String()
		if ce.Message != "" {
			msg += ": " + ce.Message
		}
		return ce.Code, msg
	}
	return 0, err.Error()
}

// stops reports whether a row's error stops the run rather than rejecting
// the row: a cancelled context, a store that fails, a concurrent change that
// kept winning, or a series that can no longer take the operation (every
// later row would fail the same way). The run can be resumed from
// Report.Done().
func stops(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var r *refusal.Error
	if errors.As(err, &r) && !r.Has(errcode.SeriesExpired) && !r.Has(errcode.SeriesPaused) {
		return false
	}
	switch errcode.CodeOf(err) {
	case 0, errcode.Unavailable, errcode.Conflict, errcode.GuardFailed, errcode.InvalidConfig,
		errcode.SeriesExpired, errcode.SeriesPaused:
		return true
	}
	return false
}

// applier applies one batch of an operation.
type applier interface {
	// apply applies the rows of batch in order, setting out[i] to the
	// outcome of batch[i], and updates the operation's own counters in
	// rep. It returns how many rows it handled; when that is fewer than
	// len(batch) the error says why it stopped.
	apply(ctx context.Context, batch []record, out []outcome, rep *Report) (int, error)
}

// job is one bulk run.
type job struct {
	op      Op
	allowed colSet
	check   func(colSet) string
	// a applies the batches one at a time, or stream as a stream (one of
	// the two is set).
	a      applier
	stream streamer
	// keyed gives every row an idempotency key: its key cell, or one
	// derived from the file's identity and its row number (rowKey).
	keyed bool
}

// checkArgs refuses what a bulk entry point cannot run with: a nil engine
// or reader.
func checkArgs(e *couponkit.Engine, r io.Reader) error {
	switch {
	case e == nil:
		return errcode.New(errcode.InvalidArgument, "Engine", "is nil")
	case r == nil:
		return errcode.New(errcode.InvalidArgument, "Reader", "is nil")
	}
	return nil
}

// run reads the file batch by batch and applies each batch whole.
//
// The rows a batch applied are counted in the report before their
// rejections are written to Options.Issues, so that a failing issues
// writer never leaves applied rows uncounted: the run then stops with
// writeFailed's error, and Report.Done() is where to resume.
func (j *job) run(ctx context.Context, seriesID string, r io.Reader, opts Options) (*Report, error) {
	rep := &Report{Op: j.op, SeriesID: seriesID}
	iw := newIssueWriter(opts.Issues)
	if err := iw.header(); err != nil {
		return rep, writeFailed(rep, err)
	}
	fileID := ""
	if j.keyed {
		id, rd, done, err := identify(ctx, r, &opts, j.allowed, j.check)
		if err != nil {
			return rep, j.finish(iw, err)
		}
		defer done()
		fileID, r = id, rd
	}
	rd, err := newReader(r, opts.MaxLineBytes, j.allowed, j.check)
	if err != nil {
		return rep, j.finish(iw, err)
	}
	// next reads and checks a whole batch before any of it is applied. At
	// the end of the file it returns the last rows, maybe none, and io.EOF.
	next := func() ([]record, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		batch := make([]record, 0, opts.BatchSize)
		for len(batch) < opts.BatchSize {
			rec, err := rd.next()
			if err != nil {
				return batch, err
			}
			if rep.Skipped < opts.SkipRows {
				rep.Skipped++
				continue
			}
			if j.keyed && rec.key == "" {
				rec.key = rowKey(fileID, rec.row)
			}
			batch = append(batch, rec)
		}
		return batch, nil
	}
	// done counts the first n rows of an applied batch and writes their
	// rejections; it returns the error that stops the run: aerr, the
	// applier's, or writeFailed's.
	done := func(batch []record, out []outcome, n int, aerr error) error {
		for i := range n {
			j.record(rep, &batch[i], &out[i], opts)
		}
		if err := j.writeIssues(iw, batch[:n], out[:n]); err != nil {
			return &writeError{writeFailed(rep, err)}
		}
		if opts.Progress != nil {
			opts.Progress(rep.progress())
		}
		return aerr
	}
	if j.stream != nil {
		err = j.stream.applyAll(ctx, next, done)
	} else {
		err = j.applyEach(ctx, rep, next, done)
	}
	var wf *writeError
	if errors.As(err, &wf) {
		return rep, wf.err
	}
	if ferr := j.finish(iw, err); ferr != nil {
		if err == nil {
			return rep, writeFailed(rep, ferr)
		}
		return rep, ferr
	}
	return rep, nil
}

// writeError is the error of a failing issues writer, which stops the run
// as it is.
type writeError struct{ err error }

func (w *writeError) Error() string { return w.err.Error() }

// streamer applies an operation's batches as a stream, which may read the
// next batch while the batch before it is being written. applyAll calls
// next until it returns an error (io.EOF at the end of the file, with the
// last rows), applies each batch it read whole, in order, and calls done
// with each, in order, and the outcomes and number of rows handled as
// applier.apply returns them; it stops at done's error and returns it, or
// next's when that is not io.EOF.
type streamer interface {
	applyAll(ctx context.Context, next func() ([]record, error), done func(batch []record, out []outcome, n int, err error) error) error
}

// applyEach applies the batches next reads one at a time.
func (j *job) applyEach(ctx context.Context, rep *Report, next func() ([]record, error), done func([]record, []outcome, int, error) error) error {
	for {
		batch, rerr := next()
		if rerr != nil && rerr != io.EOF {
			return rerr
		}
		if len(batch) > 0 {
			out := make([]outcome, len(batch))
			n, aerr := j.a.apply(ctx, batch, out, rep)
			if err := done(batch, out, n, aerr); err != nil {
				return err
			}
		}
		if rerr == io.EOF {
			return nil
		}
	}
}

// record counts one row's outcome and keeps its rejection.
func (j *job) record(rep *Report, rec *record, o *outcome, opts Options) {
	rep.Rows++
	switch o.kind {
	case applied:
		rep.Applied++
		rep.LastApplied = rec.row
		return
	case unchanged, replayed:
		rep.Unchanged++
		if o.kind == replayed {
			rep.Replayed++
		}
		return
	}
	rep.Rejected++
	if opts.MaxRejections > 0 && len(rep.Rejections) < opts.MaxRejections {
		rep.Rejections = append(rep.Rejections, rejection(rec, o))
	}
}

func rejection(rec *record, o *outcome) Rejection {
	return Rejection{Row: rec.row, Line: rec.line, Identifier: rec.identifier(), CouponCode: rec.code, Code: o.code, Reason: o.reason, Refusals: o.refusals}
}

// writeIssues writes the rejections of a batch's rows and flushes them.
func (j *job) writeIssues(iw *issueWriter, batch []record, out []outcome) error {
	if iw == nil {
		return nil
	}
	for i := range batch {
		if out[i].kind == rejected {
			x := rejection(&batch[i], &out[i])
			if err := iw.write(&x); err != nil {
				return err
			}
		}
	}
	return iw.flush()
}

// finish flushes the issues and returns err, or the flush's error.
func (j *job) finish(iw *issueWriter, err error) error {
	if ferr := iw.flush(); ferr != nil && err == nil {
		return ferr
	}
	return err
}

// writeFailed is the error of a run stopped by a failing issues writer:
// it wraps err and says which rows are finished and how many of them were
// applied, as the report counts them, so that the caller knows what took
// effect and where to resume (Options.SkipRows = Report.Done()).
func writeFailed(rep *Report, err error) error {
	if rep.Rows == 0 {
		return fmt.Errorf("bulk: writing issues failed before any row was applied (resume with SkipRows %d): %w", rep.Done(), err)
	}
	last := "none"
	if rep.LastApplied > 0 {
		last = "the last is row " + strconv.Itoa(rep.LastApplied)
	}
	return fmt.Errorf("bulk: writing issues failed after rows %d to %d were finished: %d applied (%s), %d unchanged, %d rejected; resume with SkipRows %d: %w",
		rep.Skipped+1, rep.Done(), rep.Applied, last, rep.Unchanged, rep.Rejected, rep.Done(), err)
}
