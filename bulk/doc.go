// Package bulk runs couponkit operations from CSV files, as operators upload
// them: issue coupons to a file of customers ([IssueFile]), upload codes
// alone or with customers ([UploadFile]), revoke the coupons of a file of
// customers ([RevokeFile]), and add customers to a series' audience list
// or take them off it ([AddAudienceFile], [RemoveAudienceFile]). Each row is applied with exactly the
// engine's rules, in file order, and every row that is not applied is
// reported with its row number, identifier and reason code.
//
// # Files
//
// Files are CSV (RFC 4180, as encoding/csv reads it: comma separated,
// double quotes around fields that hold commas, quotes or line breaks),
// encoded in UTF-8 (a leading byte order mark is ignored). The first line is
// a header naming the columns; names are matched ignoring case, spaces,
// '_' and '-':
//
//	customer_id (or id, user_id)   the customer's id
//	mobile (or mobile_number)      the customer's mobile number
//	email (or email_id)            the customer's email address
//	external_id                    the customer's external id
//	code (or coupon_code)          a coupon code
//	expires_at (or expiry)         uploads only: the code's own expiry
//	idempotency_key (or key)       issues and uploads: the row's idempotency key
//
// A file may have several identifier columns; each row must fill exactly
// one of them (the engine's rule for a customer reference). A column the
// operation does not take, an unnamed or repeated column, or a header
// without the columns the operation needs is a BadFile error before any
// row is read. Cells are trimmed of surrounding white space; blank lines
// are skipped.
//
// # Row numbers
//
// Rows are numbered from 1 at the first row after the header, as a person
// counts the entries of a file (Rejection.Row); Rejection.Line is the line
// of the file where the row starts, the header being line 1.
//
// # Batches, errors and resuming
//
// A file is read in batches of Options.BatchSize rows. A whole batch is read
// and checked (CSV syntax, UTF-8, line length) before any of its rows is
// applied, and at most two batches are held in memory, so a file of
// millions of rows is streamed in constant memory. An issue run reads,
// checks and decides the next batch while the one before it is being
// written (couponkit.Engine.IssueBatches); a batch is written only after
// the one before it, and decided as if that one were written.
//
// A malformed file (a missing or wrong header, bad quoting, an empty file,
// a line or row longer than Options.MaxLineBytes, invalid UTF-8) stops the
// run with an *errcode.Error of code BadFile whose Field names the line
// ("line 1501"). An issue or upload run without Options.FileID reads the
// whole file first, to derive its identity (see below), so it stops before
// any row is applied; otherwise the batches before the one holding the
// fault are applied, no row of that batch or after is. A row that is well
// formed but cannot be applied (a wrong number of fields, no or several
// identifiers, an unknown customer, a code with characters no code can
// have, a refusal by the series' rules) is a rejected row, and the run
// goes on.
//
// A nil engine or reader is an InvalidArgument error naming it ("Engine",
// "Reader"), before anything is read.
//
// A run also stops, with the error, when the context is cancelled (checked
// between batches), when the store fails, or when the series can no longer
// take the operation (it ended or was paused); the rows of the current
// batch before the failing one are then applied. In every case the run
// returns its Report, and Report.Done() says how many rows from the start of
// the file are known to be finished. Uploads and audience files are
// idempotent besides.
//
// Resuming an issue or upload run needs no saved counter: every row is
// issued with an idempotency key, its idempotency_key cell or one derived
// from the file's identity (Options.FileID, else the SHA-256 of its bytes)
// and its row number. Running the same file again after any stop, even a
// crash between a batch's commit and its report, issues every row exactly
// once: the rows already issued replay (Report.Replayed) and the others are
// issued. Options.SkipRows = Report.Done() only saves replaying the rows
// known to be done. A corrected file has other bytes, so another identity:
// resume it under the FileID of the first run. The same bytes run again
// are the same rows: to issue a file's content a second time on purpose,
// run it under another FileID.
//
// A run whose Options.Issues writer fails stops after the batch it was
// writing, which is applied and counted whole: the error wraps the
// writer's and names the rows finished, how many were applied and the last
// one applied (Report.LastApplied), and Report.Done() is where to resume.
//
// # Reports
//
// A [Report] counts the rows applied, unchanged and rejected and keeps the
// first Options.MaxRejections rejections; Report.String and
// Report.WriteText write it for a person, and Report.WriteIssues, or
// Options.Issues as the run goes, write the rejections as CSV for
// spreadsheets ("download issues"), with cells that a spreadsheet would take
// for a formula neutralised (see [Neutralise]). Options.Progress is called
// after each batch.
package bulk
