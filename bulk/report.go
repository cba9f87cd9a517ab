package bulk

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/refusal"
)

// Op names the operation a bulk file ran.
type Op string

// The operations.
const (
	OpIssue          Op = "issue"
	OpUpload         Op = "upload"
	OpRevoke         Op = "revoke"
	OpAudienceAdd    Op = "audience add"
	OpAudienceRemove Op = "audience remove"
)

// Default limits of Options. An issue or upload file writes each batch
// with one or a few store transactions, so DefaultBatchSize is large
// enough that a SQL store commits seldom (a commit writes every page the
// batch touched, and new codes land all over the unique code index), and
// small enough to keep a run's memory within a few tens of megabytes.
const (
	DefaultBatchSize     = 5000
	DefaultMaxLineBytes  = 1 << 20
	DefaultMaxRejections = 10000
)

// Options tunes a bulk run. The zero value uses the defaults.
type Options struct {
	// BatchSize is how many rows are read and checked before any of them
	// is applied; DefaultBatchSize when zero or negative. A malformed file
	// stops the run at a batch boundary: no row of the batch holding the
	// fault is applied.
	BatchSize int
	// MaxLineBytes is the longest line, and the longest row (a quoted field
	// may span lines), a file may have; DefaultMaxLineBytes (1 MiB) when
	// zero or negative. A longer one is a BadFile error (the file is
	// refused from that batch on), never read whole into memory.
	MaxLineBytes int
	// SkipRows skips the first SkipRows data rows without applying them.
	// It is an optimisation only: an issue or upload run gives every row
	// an idempotency key (see FileID), so running the whole file again
	// issues no row twice, and SkipRows merely saves replaying the rows
	// already done. Pass at most a stopped run's Report.Done(): rows
	// skipped are not applied, whether or not an earlier run applied them.
	// Skipped rows are still read, so a malformed skipped row still stops
	// the run.
	SkipRows int
	// FileID names the file for the idempotency keys of its rows (issue
	// and upload runs): a row without a key cell of its own (the
	// idempotency_key column) is issued with the key
	// "file:<FileID>:row:<row number>", so that a row issued by any earlier
	// run with the same FileID is replayed, not issued again, however that
	// run ended (even killed between a commit and its report). It has at
	// most MaxFileIDBytes bytes, of text an idempotency key may hold; another
	// is refused with InvalidArgument on "FileID" before anything is read.
	//
	// When empty, the file's identity is its content: "sha256:" and the
	// hex SHA-256 of its bytes. The file is then read through once, with
	// every check of a run, before any row is applied: a malformed file,
	// or a reader that fails, stops the run with nothing applied. A reader
	// that can seek is sought back to read the rows; another is copied to
	// a temporary file in TempDir while it is hashed. So the same bytes run
	// again are the same rows: to issue a file's content a second time on
	// purpose, give each run its own FileID; to resume a run with a
	// corrected file, give both runs the same FileID.
	FileID string
	// TempDir is where a file that cannot seek is copied while its
	// identity is computed; os.TempDir() when empty.
	TempDir string
	// MaxRejections caps how many rejected rows Report.Rejections keeps in
	// memory (every rejection is counted, and written to Issues);
	// DefaultMaxRejections when zero, none when negative.
	MaxRejections int
	// Issues, when not nil, receives every rejected row, batch by batch
	// once the batch is applied, as CSV with the header
	// row,line,identifier,coupon_code,error_code,reason (see
	// Report.WriteIssues). A write error stops the run after the batch
	// being written: the report counts every row of that batch, and the
	// error wraps the writer's and names the rows finished, how many were
	// applied and the last one applied.
	Issues io.Writer
	// Progress, when not nil, is called on the calling goroutine after
	// each batch is applied.
	Progress func(Progress)
	// Actor and Reason are recorded on the events of every change the run
	// makes; Reason defaults to "bulk <op> file".
	Actor  string
	Reason string
}

func (o Options) withDefaults(op Op) Options {
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.MaxLineBytes <= 0 {
		o.MaxLineBytes = DefaultMaxLineBytes
	}
	if o.MaxRejections == 0 {
		o.MaxRejections = DefaultMaxRejections
	}
	if o.SkipRows < 0 {
		o.SkipRows = 0
	}
	if o.Reason == "" {
		o.Reason = "bulk " + string(op) + " file"
	}
	return o
}

// Progress is what a run has done so far, counted as in Report.
type Progress struct {
	Rows     int // data rows handled by this run (skipped rows excluded)
	Applied  int
	Rejected int
	Done     int // rows from the start of the file that are finished, skipped ones included
}

// Rejection is one row a run did not apply.
type Rejection struct {
	// Row is the data row number, counted from 1 at the first row after
	// the header, as a person counts the entries of the file (in a
	// spreadsheet that shows the header as row 1, it is on row Row+1).
	Row int
	// Line is the line of the file where the row starts, from 1 (the
	// header is line 1); it differs from Row+1 when the file has blank
	// lines or quoted fields spanning lines.
	Line int
	// Identifier is the row's customer identifier: the customer id, or
	// "mobile:…", "email:…", "external:…"; every one given, space
	// separated, when the row gives several; "" when it gives none.
	Identifier string
	// CouponCode is the row's code cell, if any.
	CouponCode string
	// Code is the reason's stable code: the engine's error code, or for a
	// refusal the first refusal's code (1221 customer issue limit, 1222
	// issue gap, 1223 series issue limit, 1224 common code already issued,
	// …); InvalidArgument or UnknownCustomer for an invalid identifier;
	// InvalidCode for a malformed code.
	Code errcode.Code
	// Reason says why, for a person; for a refusal it lists every refusal,
	// each with its code and message.
	Reason string
	// Refusals is the refusal model of a row refused by the rules: each
	// refusal with its code, rule, message and parameters. It is empty for
	// rows rejected for bad input.
	Refusals []refusal.Refusal
}

// Report is the outcome of a bulk run. A run returns a Report even when it
// stops with an error; Done then tells how far it got.
//
// Rows = Applied + Unchanged + Rejected.
type Report struct {
	Op       Op
	SeriesID string
	// Skipped is how many rows Options.SkipRows skipped.
	Skipped int
	// Rows is how many data rows this run handled, after the skipped ones.
	Rows int
	// Applied counts the rows that took effect: issue, coupons issued;
	// upload, codes accepted (added to the pool, or already in it, and
	// issued to the row's customer when it names one); revoke, customers
	// whose coupons were revoked; audience add (remove), customers added
	// to (removed from) the list.
	Applied int
	// Unchanged counts rows that succeeded without changing anything:
	// issue, the customer's existing coupon was re-sent (the series says
	// SendExisting); upload, the code was already issued to the row's
	// customer (a re-run); revoke, the customer had nothing to revoke;
	// audience add (remove), the customer was already on (not on) the
	// list; and, for issue and upload, the rows that an earlier run had
	// already issued (Replayed).
	Unchanged int
	// Replayed counts the rows, among Unchanged, whose idempotency key had
	// issued a coupon before (the file, or that row, was run before):
	// nothing was issued again.
	Replayed int
	// Rejected counts the rejected rows.
	Rejected int
	// LastApplied is the row number (as Rejection.Row) of the last row
	// that took effect; 0 when none did.
	LastApplied int
	// Added and Existing (upload) count the codes newly added to the pool
	// and the codes that were already in the series, as the engine reports
	// them; a code whose issue to the row's customer was refused is added
	// (it stays Available) and its row rejected.
	Added, Existing int
	// Revoked (revoke) counts the coupons revoked.
	Revoked int
	// Rejections lists the rejected rows in file order, at most
	// Options.MaxRejections of them; Rejected counts them all.
	Rejections []Rejection
}

// Done is the number of rows from the start of the file that are finished
// (skipped, applied, unchanged or rejected): after a run that stopped with
// an error, run the same file again with Options.SkipRows = Done() to
// resume.
func (r *Report) Done() int { return r.Skipped + r.Rows }

// Truncated reports whether Rejections holds fewer rows than were rejected.
func (r *Report) Truncated() bool { return len(r.Rejections) < r.Rejected }

func (r *Report) progress() Progress {
	return Progress{Rows: r.Rows, Applied: r.Applied, Rejected: r.Rejected, Done: r.Done()}
}

var appliedWord = map[Op]string{OpIssue: "issued", OpUpload: "accepted", OpRevoke: "revoked",
	OpAudienceAdd: "added", OpAudienceRemove: "removed"}
var unchangedWord = map[Op]string{OpIssue: "re-sent", OpUpload: "already issued", OpRevoke: "nothing to revoke",
	OpAudienceAdd: "already on the list", OpAudienceRemove: "not on the list"}

// String summarises the report in one line for a person.
func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s file, series %s: %d rows", r.Op, r.SeriesID, r.Rows)
	if r.Skipped > 0 {
		fmt.Fprintf(&b, " (after %d skipped)", r.Skipped)
	}
	fmt.Fprintf(&b, ", %d %s", r.Applied, appliedWord[r.Op])
	if n := r.Unchanged - r.Replayed; n > 0 {
		fmt.Fprintf(&b, ", %d %s", n, unchangedWord[r.Op])
	}
	if r.Replayed > 0 {
		fmt.Fprintf(&b, ", %d issued by an earlier run", r.Replayed)
	}
	fmt.Fprintf(&b, ", %d rejected", r.Rejected)
	switch r.Op {
	case OpUpload:
		fmt.Fprintf(&b, "; %d codes added, %d already in the series", r.Added, r.Existing)
	case OpRevoke:
		fmt.Fprintf(&b, "; %d coupons revoked", r.Revoked)
	}
	return b.String()
}

// WriteText writes the summary and every rejection kept, one per line, for
// a person:
//
//	row 4 (line 5) alice: 1221 This customer has received the most coupons of this offer allowed (3).
//
// Identifiers and codes that are not plain printable text are quoted.
func (r *Report) WriteText(w io.Writer) error {
	if w == nil {
		return errcode.New(errcode.InvalidArgument, "Writer", "is nil")
	}
	var b strings.Builder
	b.WriteString(r.String())
	b.WriteByte('\n')
	for _, x := range r.Rejections {
		fmt.Fprintf(&b, "row %d (line %d)", x.Row, x.Line)
		if x.Identifier != "" {
			b.WriteByte(' ')
			b.WriteString(printable(x.Identifier))
		}
		if x.CouponCode != "" {
			b.WriteString(" code ")
			b.WriteString(printable(x.CouponCode))
		}
		fmt.Fprintf(&b, ": %s\n", printableReason(x.Code, x.Reason))
	}
	if r.Truncated() {
		fmt.Fprintf(&b, "… and %d more rejected rows not kept in memory (see the issues file)\n", r.Rejected-len(r.Rejections))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// printableReason is the reason after its code, unless it already starts
// with it (reasons of refusals by the rules list their codes).
func printableReason(code errcode.Code, reason string) string {
	c := strconv.Itoa(int(code))
	reason = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, reason)
	if strings.HasPrefix(reason, c+" ") {
		return reason
	}
	return c + " " + reason
}

// printable returns s as it is when every character is printable and not a
// space-like separator that would mislead, else quoted.
func printable(s string) string {
	for _, r := range s {
		if r < ' ' || r == 0x7f || r == '"' || r == 0xFFFD || (r >= 0x80 && r < 0xa0) || r == 0x2028 || r == 0x2029 || r == 0x202e {
			return strconv.Quote(s)
		}
	}
	return s
}

// issuesHeader is the header of the issues CSV.
var issuesHeader = []string{"row", "line", "identifier", "coupon_code", "error_code", "reason"}

// WriteIssues writes the rejections kept in memory as CSV ("download
// issues"), with the header row,line,identifier,coupon_code,error_code,
// reason. Cells that a spreadsheet would read as a formula (they begin
// with =, +, -, @, a tab or a carriage return) are neutralised by a leading
// single quote. When the report is truncated the CSV is too; stream every
// rejection with Options.Issues instead.
func (r *Report) WriteIssues(w io.Writer) error {
	if w == nil {
		return errcode.New(errcode.InvalidArgument, "Writer", "is nil")
	}
	iw := newIssueWriter(w)
	if err := iw.header(); err != nil {
		return err
	}
	for i := range r.Rejections {
		if err := iw.write(&r.Rejections[i]); err != nil {
			return err
		}
	}
	return iw.flush()
}

// issueWriter writes rejections as CSV.
type issueWriter struct {
	w   *csv.Writer
	rec [6]string
}

func newIssueWriter(w io.Writer) *issueWriter {
	if w == nil {
		return nil
	}
	return &issueWriter{w: csv.NewWriter(w)}
}

func (iw *issueWriter) header() error {
	if iw == nil {
		return nil
	}
	return iw.w.Write(issuesHeader)
}

func (iw *issueWriter) write(x *Rejection) error {
	if iw == nil {
		return nil
	}
	iw.rec = [6]string{
		strconv.Itoa(x.Row), strconv.Itoa(x.Line), Neutralise(x.Identifier), Neutralise(x.CouponCode),
		strconv.Itoa(int(x.Code)), Neutralise(x.Reason),
	}
	return iw.w.Write(iw.rec[:])
}

func (iw *issueWriter) flush() error {
	if iw == nil {
		return nil
	}
	iw.w.Flush()
	return iw.w.Error()
}

// Neutralise returns s made safe for a CSV cell that a spreadsheet may
// open: when s begins with =, +, -, @, a tab or a carriage return (which a
// spreadsheet could read as a formula), it is prefixed with a single quote;
// otherwise it is returned unchanged. A mobile number "+4412345" is
// written "'+4412345".
func Neutralise(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
