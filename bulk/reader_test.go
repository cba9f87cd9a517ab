package bulk

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/couponkit/couponkit/errcode"
)

// readAll reads a file as IssueFile would, returning its rows and the
// error that ended it (nil at the end of the file).
func readAll(r io.Reader, max int) ([]record, error) {
	rd, err := newReader(r, max, identifierCols|setOf(colCode), nil)
	if err != nil {
		return nil, err
	}
	var out []record
	for {
		rec, err := rd.next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, rec)
	}
}

var readerCases = []string{
	"",
	"customer_id\n",
	"customer_id\nalice\nbob\n",
	"customer_id,code\r\nalice,A-1\r\nbob,\"B,2\"\r\n",
	"\uFEFFid\n\n\nalice\n\n",
	"id,code\n\"multi\nline\",x\nnext,y\n",
	"id\nalice,extra\nbob\n",
	"id\n\"open\nquote\n",
	"id\nbare\"quote\n",
	"id\n\xff\n",
	"id\n" + strings.Repeat("a", 40) + "\nb\n",
	"id\n" + strings.Repeat("a", 39) + "\r\nb\n",
	"id\n" + strings.Repeat("a", 41) + "\r\nb\n",
	"id\n\"" + strings.Repeat("a\n", 30) + "\"\nb\n",
	"mobile, email ,EXTERNAL_ID\n+1,,\n,a@b,\n,,X\n",
	"nope\nalice\n",
	"id,id\n",
	"id\nlast-without-newline",
}

// The reader gives the same rows and errors however its input is chunked.
func TestReaderChunking(t *testing.T) {
	for _, in := range readerCases {
		want, werr := readAll(strings.NewReader(in), 40)
		for name, r := range map[string]io.Reader{
			"one byte":  iotest.OneByteReader(strings.NewReader(in)),
			"half":      iotest.HalfReader(strings.NewReader(in)),
			"data, err": iotest.DataErrReader(strings.NewReader(in)),
		} {
			got, gerr := readAll(r, 40)
			if d := cmp.Diff(want, got, cmp.AllowUnexported(record{}), cmp.Comparer(func(a, b *errcode.Error) bool {
				return (a == nil) == (b == nil) && (a == nil || a.Error() == b.Error())
			})); d != "" {
				t.Errorf("%q, %s: rows differ (-whole +chunked):\n%s", in, name, d)
			}
			if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
				t.Errorf("%q, %s: error %v, whole %v", in, name, gerr, werr)
			}
		}
	}
}

// Lines at, and just over, the limit, with either line break.
func TestReaderLineLimit(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"id\n" + strings.Repeat("a", 40) + "\n", true},
		{"id\n" + strings.Repeat("a", 40) + "\r\n", true},
		{"id\n" + strings.Repeat("a", 40), true},
		{"id\n" + strings.Repeat("a", 41) + "\n", false},
		{"id\n" + strings.Repeat("a", 41) + "\r\n", false},
		{"id\n" + strings.Repeat("a", 39) + "\r\r\n", true},
		{"id\n" + strings.Repeat("a", 42), false},
	} {
		_, err := readAll(iotest.OneByteReader(strings.NewReader(tc.in)), 40)
		if (err == nil) != tc.ok {
			t.Errorf("%q: err %v, want ok %v", tc.in, err, tc.ok)
		}
		if err != nil && errcode.CodeOf(err) != errcode.BadFile {
			t.Errorf("%q: %v is not BadFile", tc.in, err)
		}
	}
}

// oneByteReader reads one byte at a time, like iotest.OneByteReader, and
// tells its length, so that the reader sizes its buffers to the input (a
// fuzz target allocating two 64 KiB buffers per run spends its time on
// them).
type oneByteReader struct{ r *bytes.Reader }

func (o oneByteReader) Read(p []byte) (int, error) { return o.r.Read(p[:min(len(p), 1)]) }
func (o oneByteReader) Len() int                   { return o.r.Len() }

// FuzzReader: on any input the reader does not panic, fails only with a
// BadFile error naming a line, gives rows numbered 1, 2, 3… at
// non-decreasing lines, with valid UTF-8 cells, and gives the same result
// however its input is chunked.
func FuzzReader(f *testing.F) {
	for _, c := range readerCases {
		f.Add([]byte(c), uint16(40))
	}
	f.Fuzz(func(t *testing.T, data []byte, maxLine uint16) {
		limit := int(maxLine%512) + 1
		rows, err := readAll(bytes.NewReader(data), limit)
		if err != nil {
			var ce *errcode.Error
			if !errors.As(err, &ce) || ce.Code != errcode.BadFile || !strings.HasPrefix(ce.Field, "line ") {
				t.Fatalf("error %T %v is not BadFile naming a line", err, err)
			}
		}
		line := 0
		for i, r := range rows {
			if r.row != i+1 || r.line < line || r.line < 2 {
				t.Fatalf("row %d: numbered %d at line %d after line %d", i+1, r.row, r.line, line)
			}
			line = r.line
			for _, s := range []string{r.ref.ID, r.ref.Mobile, r.ref.Email, r.ref.ExternalID, r.code} {
				if !utf8.ValidString(s) || s != strings.TrimSpace(s) {
					t.Fatalf("row %d: cell %q", r.row, s)
				}
			}
		}
		again, err2 := readAll(oneByteReader{bytes.NewReader(data)}, limit)
		if len(again) != len(rows) || (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() {
			t.Fatalf("chunked input: %d rows, %v; whole: %d rows, %v", len(again), err2, len(rows), err)
		}
	})
}

// BenchmarkReader reads a file of b.N rows (the reader alone, without the
// engine): its memory does not grow with the file. Run with
// -benchtime=5000000x for a file of five million rows.
func BenchmarkReader(b *testing.B) {
	pr, pw := io.Pipe()
	go func() {
		w := bufio.NewWriterSize(pw, 64<<10)
		w.WriteString("customer_id,mobile\n")
		buf := make([]byte, 0, 32)
		for i := range b.N {
			buf = append(buf[:0], 'c')
			buf = strconv.AppendInt(buf, int64(i), 10)
			buf = append(buf, ",+44700000\n"...)
			w.Write(buf)
		}
		w.Flush()
		pw.Close()
	}()
	b.ReportAllocs()
	rd, err := newReader(pr, DefaultMaxLineBytes, identifierCols, nil)
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for {
		_, err := rd.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		n++
	}
	if n != b.N {
		b.Fatalf("%d rows of %d", n, b.N)
	}
}

// An input that tells its length is read through buffers no larger than
// it; any other through readerBuffer.
func TestBufferFor(t *testing.T) {
	for _, tc := range []struct {
		r    io.Reader
		want int
	}{
		{strings.NewReader(""), 16},
		{strings.NewReader("customer_id\nalice\nbob\n"), 23},
		{bytes.NewReader(make([]byte, readerBuffer)), readerBuffer},
		{bytes.NewBuffer(make([]byte, 1<<20)), readerBuffer},
		{iotest.OneByteReader(strings.NewReader("customer_id\n")), readerBuffer},
	} {
		if got := bufferFor(tc.r); got != tc.want {
			t.Errorf("bufferFor(%T) = %d, want %d", tc.r, got, tc.want)
		}
	}
}
