package bulk_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/bulk"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/series"
)

// Malformed files are refused with a BadFile error naming the line, before
// anything is applied; none panics.
func TestMalformedFiles(t *testing.T) {
	tests := []struct {
		name string
		file string
		line int
		msg  string // part of the message
	}{
		{"empty file", "", 1, "empty"},
		{"only a byte order mark", "\uFEFF", 1, "empty"},
		{"only blank lines", "\n\n\r\n", 1, "empty"},
		{"no header, data first", "alice\nbob\n", 1, `unknown column "alice"`},
		{"unknown column", "customer_id,name\nalice,Alice\n", 1, `unknown column "name"`},
		{"column of another operation", "customer_id,expires_at\nalice,2026-12-31\n", 1, `unknown column "expires_at"`},
		{"unnamed column", "customer_id,\nalice,x\n", 1, "column 2 of the header has no name"},
		{"repeated column", "customer_id,id\nalice,alice\n", 1, "customer_id appears twice"},
		{"no identifier column", "code\nABC\n", 1, "no customer identifier column"},
		{"unclosed quote", "customer_id\n\"alice\nbob\n", 2, "extraneous or missing \" in quoted-field"},
		{"bare quote", "customer_id\nal\"ice\n", 2, "bare \" in non-quoted-field"},
		{"quote in the header", "customer\"_id\nalice\n", 1, "bare \""},
		{"invalid UTF-8 in a row", "customer_id\nalice\nb\xffb\n", 3, "not valid UTF-8"},
		{"invalid UTF-8 in the header", "customer_id\xc3\nalice\n", 1, "not valid UTF-8"},
		{"Latin-1 file", "customer_id\nJos\xe9\n", 2, "not valid UTF-8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := newEnv(t)
			id := v.create(generated())
			rep, err := bulk.IssueFile(v.ctx, v.e, id, strings.NewReader(tc.file), bulk.Options{})
			ce := badFile(t, err, tc.line)
			if !strings.Contains(ce.Message, tc.msg) {
				t.Errorf("message %q lacks %q", ce.Message, tc.msg)
			}
			if rep == nil || rep.Rows != 0 || rep.Done() != 0 {
				t.Errorf("report %+v: nothing should be done", rep)
			}
			if n := v.issued(id); n != 0 {
				t.Errorf("%d issued from a malformed file", n)
			}
		})
	}
}

// A header with its names in another case or spelling, and a byte order
// mark, is accepted; a header alone is a file of no rows.
func TestHeaderVariants(t *testing.T) {
	for _, f := range []string{
		"\uFEFFCustomer ID\nalice\n",
		"USER_ID\r\nalice\r\n",
		"customerId,Coupon-Code\nalice,\n",
		"\"customer_id\"\n\"alice\"\n",
		"  Mobile  \n +4470000001 \n",
		"Email ID\nalice@example.com\n",
		"external id\nEXT-A\n",
	} {
		v := newEnv(t)
		id := v.create(generated())
		rep, err := bulk.IssueFile(v.ctx, v.e, id, strings.NewReader(f), bulk.Options{})
		if err != nil || rep.Applied != 1 {
			t.Errorf("%q: applied %d, err %v", f, rep.Applied, err)
		}
	}
	v := newEnv(t)
	id := v.create(generated())
	rep, err := bulk.IssueFile(v.ctx, v.e, id, strings.NewReader("customer_id\n"), bulk.Options{})
	if err != nil || rep.Rows != 0 {
		t.Errorf("a header alone: %+v, %v", rep, err)
	}
}

// A row with the wrong number of fields is rejected; the others are
// applied.
func TestFieldCount(t *testing.T) {
	v := newEnv(t)
	id := v.create(generated())
	rep, err := bulk.IssueFile(v.ctx, v.e, id, strings.NewReader("customer_id\nalice\nbob,extra\ncarol\n"), bulk.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[int]errcode.Code{2: errcode.InvalidArgument}, rejected(rep)); d != "" {
		t.Errorf("rejected (-want +got):\n%s", d)
	}
	if rep.Applied != 2 || !strings.Contains(rep.Rejections[0].Reason, "2 fields; the header has 1") {
		t.Errorf("report %+v", rep)
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// endless yields the same byte forever.
type endless byte

func (b endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

// A 10 MB line is refused without being read whole, as is a line that
// never ends and a quoted field left open over a long file. With a FileID
// the batches before it are applied; without one, the file is read through
// (to compute its identity) before any row is applied, and refused before
// any is, having read no more.
func TestLongLines(t *testing.T) {
	const max = 1 << 20
	const slack = 3 * 64 << 10 // the buffers' read-ahead
	tests := []struct {
		name string
		in   func() io.Reader
		line int
	}{
		{"a 10 MB line", func() io.Reader {
			return strings.NewReader("customer_id\nalice\n" + strings.Repeat("x", 10<<20) + "\nbob\n")
		}, 3},
		{"a line that never ends", func() io.Reader {
			return io.MultiReader(strings.NewReader("customer_id\nalice\n"), endless('y'))
		}, 3},
		{"a quote left open", func() io.Reader {
			return io.MultiReader(strings.NewReader("customer_id\nalice\n\"bob\n"), endless('\n'))
		}, 3},
		{"a row just over the limit", func() io.Reader {
			return strings.NewReader("customer_id\nalice\n\"" + strings.Repeat("z\n", max/2) + "\"\n")
		}, 3},
	}
	for _, tc := range tests {
		for _, fileID := range []string{"", "long-lines"} {
			t.Run(tc.name+"/FileID "+fileID, func(t *testing.T) {
				v := newEnv(t)
				id := v.create(generated())
				cr := &countingReader{r: tc.in()}
				rep, err := bulk.IssueFile(v.ctx, v.e, id, cr, bulk.Options{BatchSize: 1, FileID: fileID})
				ce := badFile(t, err, tc.line)
				if !strings.Contains(ce.Message, "bytes") {
					t.Errorf("message %q", ce.Message)
				}
				if cr.n > max+slack {
					t.Errorf("read %d bytes to refuse the file; at most %d expected", cr.n, max+slack)
				}
				want := 1 // the batch before the long line is applied
				if fileID == "" {
					want = 0 // the file is refused before any row is applied
				}
				if rep.Applied != want || rep.Done() != want || v.issued(id) != int64(want) {
					t.Errorf("applied %d, done %d, issued %d; want %d (%+v)", rep.Applied, rep.Done(), v.issued(id), want, rep)
				}
			})
		}
	}
	// A smaller limit applies as set.
	v := newEnv(t)
	id := v.create(generated())
	_, err := bulk.IssueFile(v.ctx, v.e, id, strings.NewReader("customer_id\nalice\n"+strings.Repeat("b", 101)+"\n"), bulk.Options{MaxLineBytes: 100})
	badFile(t, err, 3)
	rep, err := bulk.IssueFile(v.ctx, v.e, id, strings.NewReader("customer_id\n"+strings.Repeat("b", 100)+"\n"), bulk.Options{MaxLineBytes: 100})
	if err != nil || rep.Rejected != 1 || rep.Rejections[0].Code != errcode.UnknownCustomer {
		t.Errorf("a line at the limit is read: %+v %v", rep, err)
	}
}

// A fault in batch k leaves batches before k applied and nothing of batch
// k; the report says how many rows are done, and the fixed file, run under
// the same FileID, resumes from there, with SkipRows or without. Without a
// FileID the faulty file is refused before any row is applied.
func TestNoHalfAppliedBatch(t *testing.T) {
	rows := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("c%07d", i)
		}
		return out
	}
	faults := []struct {
		name  string
		cell  string
		batch int // the faulty row is in this batch (from 1)
	}{
		{"bad quoting", "c\"1499", 2},
		{"invalid UTF-8", "c\xfe1499", 2},
		{"a long line", strings.Repeat("q", 2000), 2},
	}
	for _, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			v := newEnv(t)
			v.addCustomers(2500)
			id := v.create(generated(func(s *series.Series) { s.Issuance.MaxPerCustomer = 1 }))
			good := rows(2500)
			bad := append([]string(nil), good...)
			bad[1499] = f.cell // data row 1500, line 1501
			rep, err := bulk.IssueFile(v.ctx, v.e, id, strings.NewReader(file("customer_id", bad...)), bulk.Options{BatchSize: 1000, MaxLineBytes: 1000})
			badFile(t, err, 1501)
			if rep.Done() != 0 || v.issued(id) != 0 {
				t.Errorf("without a FileID: done %d, issued %d; want nothing", rep.Done(), v.issued(id))
			}
			var progress []bulk.Progress
			opts := bulk.Options{BatchSize: 1000, MaxLineBytes: 1000, FileID: "campaign", Progress: func(p bulk.Progress) { progress = append(progress, p) }}
			rep, err = bulk.IssueFile(v.ctx, v.e, id, strings.NewReader(file("customer_id", bad...)), opts)
			badFile(t, err, 1501)
			if rep.Done() != 1000 || rep.Applied != 1000 {
				t.Errorf("done %d applied %d, want 1000 and 1000", rep.Done(), rep.Applied)
			}
			if n := v.issued(id); n != 1000 {
				t.Errorf("%d issued, want exactly the first batch (1000)", n)
			}
			if len(progress) != 1 || progress[0] != (bulk.Progress{Rows: 1000, Applied: 1000, Done: 1000}) {
				t.Errorf("progress %+v", progress)
			}
			// Resume with the fixed file, under the same FileID: skipping
			// the rows done, or replaying them.
			skip := rep.Done()
			if f.batch%2 == 0 {
				skip = 0
			}
			rep, err = bulk.IssueFile(v.ctx, v.e, id, strings.NewReader(file("customer_id", good...)), bulk.Options{BatchSize: 1000, SkipRows: skip, FileID: "campaign"})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Skipped != skip || rep.Rows != 2500-skip || rep.Applied != 1500 || rep.Replayed != 1000-skip || rep.Rejected != 0 || rep.Done() != 2500 {
				t.Errorf("resumed skipping %d rows: %+v", skip, rep)
			}
			if n := v.issued(id); n != 2500 {
				t.Errorf("%d issued after resuming, want 2500", n)
			}
		})
	}
}

// Codes with characters outside the series' alphabet are rejected rows,
// whether uploaded, issued from an uploaded pool or from a generated one.
func TestCodeOutsideAlphabet(t *testing.T) {
	v := newEnv(t)
	up := v.create(uploaded())
	rep, err := bulk.UploadFile(v.ctx, v.e, up, strings.NewReader(file("code", "GOOD-1", "BAD$1", "BAD 2", "Ünï", `""`, "good-1", strings.Repeat("L", 65))), bulk.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]errcode.Code{2: errcode.InvalidCode, 3: errcode.InvalidCode, 4: errcode.InvalidCode, 5: errcode.InvalidCode, 6: errcode.AlreadyExists, 7: errcode.InvalidCode}
	if d := cmp.Diff(want, rejected(rep)); d != "" {
		t.Errorf("upload: rejected (-want +got):\n%s", d)
	}
	if rep.Added != 1 || rep.Applied != 1 {
		t.Errorf("upload: %+v", rep)
	}

	rep, err = bulk.IssueFile(v.ctx, v.e, up, strings.NewReader(file("customer_id,code", "alice,BAD$1", "bob,NOPE", "carol,good-1")), bulk.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want = map[int]errcode.Code{1: errcode.InvalidCode, 2: errcode.CouponNotFound}
	if d := cmp.Diff(want, rejected(rep)); d != "" {
		t.Errorf("issue from an uploaded pool: rejected (-want +got):\n%s", d)
	}
	if n := v.held(up, couponkit.ByID("carol")); n != 1 || rep.Applied != 1 {
		t.Errorf("carol holds %d, applied %d", n, rep.Applied)
	}

	gen := v.create(generated())
	rep, err = bulk.IssueFile(v.ctx, v.e, gen, strings.NewReader(file("customer_id,code", "alice,!!!!!!!!", "bob,ABCDEFGHIJK")), bulk.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want = map[int]errcode.Code{1: errcode.InvalidCode, 2: errcode.InvalidCode}
	if d := cmp.Diff(want, rejected(rep)); d != "" {
		t.Errorf("issue from a generated series: rejected (-want +got):\n%s", d)
	}

	// A common series takes no codes from the file.
	com := v.create(common("SALE20"))
	_, err = bulk.IssueFile(v.ctx, v.e, com, strings.NewReader(file("customer_id,code", "alice,X")), bulk.Options{})
	badFile(t, err, 1)
}

// Rejected rows are reported in CSV, with formula-like cells neutralised.
func TestIssuesCSV(t *testing.T) {
	v := newEnv(t)
	id := v.create(generated())
	f := file("customer_id", "alice", `"=HYPERLINK(""x"")"`, "+4412", "-2+3", "@SUM(A1)", "\"\tTAB\"", "\"\rCR\"", "plain,extra")
	var issues bytes.Buffer
	rep, err := bulk.IssueFile(v.ctx, v.e, id, strings.NewReader(f), bulk.Options{Issues: &issues})
	if err != nil {
		t.Fatal(err)
	}
	got := readCSV(t, issues.String())
	want := [][]string{
		{"row", "line", "identifier", "coupon_code", "error_code", "reason"},
		{"2", "3", "'=HYPERLINK(\"x\")", "", "1004", "unknown customer: no customer =HYPERLINK(\"x\")"},
		{"3", "4", "'+4412", "", "1004", "unknown customer: no customer +4412"},
		{"4", "5", "'-2+3", "", "1004", "unknown customer: no customer -2+3"},
		{"5", "6", "'@SUM(A1)", "", "1004", "unknown customer: no customer @SUM(A1)"},
		{"6", "7", "TAB", "", "1004", "unknown customer: no customer TAB"}, // cells are trimmed
		{"7", "8", "CR", "", "1004", "unknown customer: no customer CR"},
		{"8", "9", "plain", "", "1002", "invalid argument: the row has 2 fields; the header has 1"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("issues CSV (-want +got):\n%s", d)
	}
	var again bytes.Buffer
	if err := rep.WriteIssues(&again); err != nil || again.String() != issues.String() {
		t.Errorf("WriteIssues differs from the streamed issues (%v):\n%s", err, again.String())
	}
	for _, row := range got[1:] {
		for _, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("cell %q is not neutralised", cell)
			}
		}
	}
}

func TestNeutralise(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "alice": "alice", "=1+1": "'=1+1", "+44": "'+44", "-1": "'-1", "@x": "'@x",
		"\tx": "'\tx", "\rx": "'\rx", " =x": " =x", "'=x": "'=x", "a=b": "a=b",
	} {
		if got := bulk.Neutralise(in); got != want {
			t.Errorf("Neutralise(%q) = %q, want %q", in, got, want)
		}
	}
}

// Identifiers that would mislead a reader of the text report are quoted.
func TestWriteText(t *testing.T) {
	v := newEnv(t)
	id := v.create(generated(func(s *series.Series) { s.Issuance.MaxPerCustomer = 1 }))
	rep, err := bulk.IssueFile(v.ctx, v.e, id, strings.NewReader(file("customer_id", "alice", "alice", "\"ev\nil\"")), bulk.Options{MaxRejections: 1})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	want := "issue file, series " + id + ": 3 rows, 1 issued, 2 rejected\n" +
		"row 2 (line 3) alice: 1221 This customer has received the most coupons of this offer allowed (1).\n" +
		"… and 1 more rejected rows not kept in memory (see the issues file)\n"
	if d := cmp.Diff(want, b.String()); d != "" {
		t.Errorf("text (-want +got):\n%s", d)
	}
	if rep.Rejected != 2 || len(rep.Rejections) != 1 || !rep.Truncated() {
		t.Errorf("cap: %+v", rep)
	}
	rep.Rejections = append(rep.Rejections, bulk.Rejection{Row: 3, Line: 4, Identifier: "ev\nil", Code: 1004, Reason: "unknown customer: no customer ev\nil"})
	b.Reset()
	_ = rep.WriteText(&b)
	if !strings.Contains(b.String(), "row 3 (line 4) \"ev\\nil\": 1004 unknown customer: no customer ev il\n") {
		t.Errorf("text with a newline in an identifier:\n%s", b.String())
	}
}

// Progress is reported after each batch with running totals.
func TestProgress(t *testing.T) {
	v := newEnv(t)
	id := v.create(generated(func(s *series.Series) { s.Issuance.MaxPerCustomer = 2 }))
	var got []bulk.Progress
	rep, err := bulk.IssueFile(v.ctx, v.e, id, strings.NewReader(file("customer_id", repeat("alice", 5)...)),
		bulk.Options{BatchSize: 2, Progress: func(p bulk.Progress) { got = append(got, p) }})
	if err != nil {
		t.Fatal(err)
	}
	want := []bulk.Progress{{Rows: 2, Applied: 2, Done: 2}, {Rows: 4, Applied: 2, Rejected: 2, Done: 4}, {Rows: 5, Applied: 2, Rejected: 3, Done: 5}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("progress (-want +got):\n%s", d)
	}
	checkSums(t, rep)
}

// A cancelled context stops the run between batches; the report says how
// far it got.
func TestCancel(t *testing.T) {
	v := newEnv(t)
	v.addCustomers(10)
	id := v.create(generated())
	ctx, cancel := context.WithCancel(v.ctx)
	defer cancel()
	rows := make([]string, 10)
	for i := range rows {
		rows[i] = fmt.Sprintf("c%07d", i)
	}
	rep, err := bulk.IssueFile(ctx, v.e, id, strings.NewReader(file("customer_id", rows...)),
		bulk.Options{BatchSize: 3, Progress: func(bulk.Progress) { cancel() }})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	if rep.Done() != 3 || v.issued(id) != 3 {
		t.Errorf("done %d, issued %d; want 3 and 3", rep.Done(), v.issued(id))
	}
}

// A series that ends during the run stops it at the first row after; the
// rest can be resumed (and is refused with the series' error).
func TestSeriesEndsDuringRun(t *testing.T) {
	v := newEnv(t)
	id := v.create(generated(func(s *series.Series) { s.End = v.clk.now().Add(1e9) }))
	rep, err := bulk.IssueFile(v.ctx, v.e, id, strings.NewReader(file("customer_id", "alice", "bob", "carol")),
		bulk.Options{BatchSize: 2, Progress: func(bulk.Progress) { v.clk.advance(2e9) }})
	if !errors.Is(err, errcode.ErrSeriesExpired) {
		t.Fatalf("err %v", err)
	}
	if rep.Done() != 2 || rep.Applied != 2 || rep.Rejected != 0 {
		t.Errorf("report %+v", rep)
	}
}

// A series whose rules say to send the existing coupon again re-sends it:
// the row is unchanged, not rejected.
func TestSendExisting(t *testing.T) {
	v := newEnv(t)
	id := v.create(generated(func(s *series.Series) {
		s.Issuance.MaxPerCustomer = 1
		s.Issuance.OnQualifyAgain = series.SendExisting
	}))
	rep, err := bulk.IssueFile(v.ctx, v.e, id, strings.NewReader(file("customer_id", "alice", "alice", "bob")), bulk.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Applied != 2 || rep.Unchanged != 1 || rep.Rejected != 0 {
		t.Errorf("report %+v", rep)
	}
	if !strings.Contains(rep.String(), "1 re-sent") {
		t.Errorf("summary %q", rep.String())
	}
}

func TestIssueFileUnknownSeries(t *testing.T) {
	v := newEnv(t)
	for _, run := range []func(context.Context, *couponkit.Engine, string, io.Reader, bulk.Options) (*bulk.Report, error){
		bulk.IssueFile, bulk.UploadFile, bulk.RevokeFile,
	} {
		rep, err := run(v.ctx, v.e, "nope", strings.NewReader("customer_id\nalice\n"), bulk.Options{})
		if !errors.Is(err, errcode.ErrNotFound) || rep == nil {
			t.Errorf("err %v, report %v", err, rep)
		}
	}
	gen := v.create(generated())
	if _, err := bulk.UploadFile(v.ctx, v.e, gen, strings.NewReader("code\nX\n"), bulk.Options{}); !errors.Is(err, errcode.ErrInvalidArgument) {
		t.Errorf("upload to a generated series: %v", err)
	}
}

// failingWriter fails every write.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestIssuesWriteError(t *testing.T) {
	v := newEnv(t)
	id := v.create(generated())
	_, err := bulk.IssueFile(v.ctx, v.e, id, strings.NewReader("customer_id\nnobody\n"), bulk.Options{Issues: failingWriter{}})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("err %v", err)
	}
}

// errReader fails after its data.
type errReader struct{ data io.Reader }

func (r errReader) Read(p []byte) (int, error) {
	n, err := r.data.Read(p)
	if err == io.EOF {
		return n, errors.New("connection reset")
	}
	return n, err
}

// An error of the reader is not a BadFile error: it is passed on. With a
// FileID the rows before it are applied; without, the file is read whole
// first, and nothing is.
func TestReadError(t *testing.T) {
	for fileID, done := range map[string]int{"": 0, "flaky": 1} {
		v := newEnv(t)
		id := v.create(generated())
		rep, err := bulk.IssueFile(v.ctx, v.e, id, errReader{strings.NewReader("customer_id\nalice\nbob")}, bulk.Options{BatchSize: 1, FileID: fileID})
		if err == nil || errcode.CodeOf(err) == errcode.BadFile || !strings.Contains(err.Error(), "connection reset") {
			t.Errorf("FileID %q: err %v", fileID, err)
		}
		if rep.Done() != done || v.issued(id) != int64(done) {
			t.Errorf("FileID %q: done %d, issued %d; want %d", fileID, rep.Done(), v.issued(id), done)
		}
	}
}

// An issue file that meets the end of a generated series' code space
// issues the rows the space has room for and rejects each row past it,
// and moves the series' code sequence by the codes it issued only.
func TestIssueFilePastCodeSpace(t *testing.T) {
	v := newEnv(t)
	id := v.create(baseSeries("ten thousand", series.Source{Kind: series.Generated, Length: 4, Alphabet: series.Numeric, MaxFill: 1}))
	rep, err := bulk.IssueFile(v.ctx, v.e, id, strings.NewReader(file("customer_id", repeat("alice", 9000)...)), bulk.Options{})
	if err != nil || rep.Applied != 9000 {
		t.Fatalf("9,000 rows of 10,000 codes: %+v, %v", rep, err)
	}
	rep, err = bulk.IssueFile(v.ctx, v.e, id, strings.NewReader(file("customer_id", repeat("bob", 2000)...)), bulk.Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkSums(t, rep)
	if rep.Applied != 1000 || rep.Rejected != 1000 {
		t.Errorf("2,000 rows with 1,000 codes left: %d applied and %d rejected, want 1,000 each", rep.Applied, rep.Rejected)
	}
	for i, x := range rep.Rejections {
		if x.Row != 1001+i || x.Code != errcode.PoolEmpty {
			t.Errorf("rejection %d: row %d with code %d (%s), want row %d with PoolEmpty", i, x.Row, x.Code, x.Reason, 1001+i)
			break
		}
	}
	if n := v.issued(id); n != 10000 {
		t.Errorf("%d coupons issued, want the whole code space (10,000)", n)
	}
	next, err := v.e.Store().NextIndex(v.ctx, id)
	if err != nil || next != 10000 {
		t.Errorf("the code sequence stands at %d (%v), want 10,000", next, err)
	}
}
