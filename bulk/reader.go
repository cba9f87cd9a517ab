package bulk

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/errcode"
)

// column is a column a bulk file may have.
type column uint8

const (
	colID column = iota
	colMobile
	colEmail
	colExternal
	colCode
	colExpires
	colKey
	numColumns
)

// columnNames are the canonical column names, as the documentation and error
// messages give them.
var columnNames = [numColumns]string{
	colID: "customer_id", colMobile: "mobile", colEmail: "email", colExternal: "external_id",
	colCode: "code", colExpires: "expires_at", colKey: "idempotency_key",
}

// columnAliases maps a normalised header cell (see normHeader) to its column.
var columnAliases = map[string]column{
	"customerid": colID, "id": colID, "userid": colID,
	"mobile": colMobile, "mobilenumber": colMobile,
	"email": colEmail, "emailid": colEmail,
	"externalid": colExternal,
	"code":       colCode, "couponcode": colCode,
	"expiresat": colExpires, "expiry": colExpires,
	"idempotencykey": colKey, "key": colKey,
}

// colSet is a set of columns.
type colSet uint8

func (s colSet) has(c column) bool { return s&(1<<c) != 0 }

func setOf(cs ...column) colSet {
	var s colSet
	for _, c := range cs {
		s |= 1 << c
	}
	return s
}

var identifierCols = setOf(colID, colMobile, colEmail, colExternal)

// names lists the canonical names of the columns in s, for messages.
func (s colSet) names() string {
	var b strings.Builder
	for c := column(0); c < numColumns; c++ {
		if s.has(c) {
			if b.Len() > 0 {
				b.WriteString(", ")
			}
			b.WriteString(columnNames[c])
		}
	}
	return b.String()
}

// normHeader normalises a header cell: trimmed, lower-cased, without spaces,
// underscores and hyphens ("Customer ID", "customer_id" and "customerId" are
// one name).
func normHeader(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '_' || r == '-' {
			return -1
		}
		return r
	}, s)
}

// record is one data row of a bulk file, read and checked as far as the
// reader can check it.
type record struct {
	row     int // data row number, from 1 (the header is not counted)
	line    int // line of the file where the row starts, from 1
	ref     couponkit.CustomerRef
	code    string
	expires string
	// key is the row's idempotency key: its key cell or, when it has none,
	// the key the run derives from the file and the row number.
	key string
	// bad is set when the row cannot be applied: a rejection found while
	// reading (such as a wrong number of fields).
	bad *errcode.Error
}

// identifier is the row's customer identifier as a person reads it.
func (r *record) identifier() string { return refString(r.ref) }

// refString writes a reference as "id", "mobile:…", "email:…" or
// "external:…", or every identifier given, joined by " ", when there are
// several.
func refString(ref couponkit.CustomerRef) string {
	var parts []string
	for _, p := range [...]struct{ kind, v string }{
		{"", ref.ID}, {"mobile:", ref.Mobile}, {"email:", ref.Email}, {"external:", ref.ExternalID},
	} {
		if p.v != "" {
			parts = append(parts, p.kind+p.v)
		}
	}
	if len(parts) == 1 && ref.ID != "" {
		return ref.ID
	}
	return strings.Join(parts, " ")
}

// badFile returns the BadFile error for a problem at line (0: no line).
func badFile(line int, format string, args ...any) *errcode.Error {
	field := ""
	if line > 0 {
		field = "line " + strconv.Itoa(line)
	}
	return errcode.New(errcode.BadFile, field, fmt.Sprintf(format, args...))
}

// bom is the UTF-8 byte order mark.
const bom = "\uFEFF"

// readerBuffer is the size of the buffer between the input and the CSV
// parser: how far the parser may read ahead of the record it returns.
const readerBuffer = 64 << 10

// bufferFor returns the size of the buffers newReader reads r through:
// readerBuffer, or less for an input that says it is shorter (a
// bytes.Reader, strings.Reader or bytes.Buffer of a few rows), which never
// needs more than its length.
func bufferFor(r io.Reader) int {
	if l, ok := r.(interface{ Len() int }); ok {
		return min(readerBuffer, max(l.Len()+1, 16))
	}
	return readerBuffer
}

// reader reads the records of a bulk file: the header first, then one data
// row at a time, never holding more than one record (and one buffer) in
// memory. Every error it returns for a malformed file is an *errcode.Error
// with code BadFile naming the line; errors of the underlying io.Reader are
// returned wrapped, as they are.
type reader struct {
	lim  *limitReader
	cr   *csv.Reader
	max  int
	idx  [numColumns]int // field index of each column, -1 when absent
	cols colSet          // the columns the header has
	n    int             // fields in the header
	rows int             // data rows read
	// lastEnd is the last line of the previous record, for messages about
	// a record whose start line the parser cannot give.
	lastEnd int
}

// newReader reads the header of a bulk file. allowed is the set of columns
// the operation takes; check, when not nil, refuses a header that lacks a
// column the operation needs (it returns the message).
func newReader(r io.Reader, maxLine int, allowed colSet, check func(colSet) string) (*reader, error) {
	size := bufferFor(r)
	in := bufio.NewReaderSize(r, size)
	if b, _ := in.Peek(len(bom)); string(b) == bom {
		_, _ = in.Discard(len(bom)) // a byte order mark, as spreadsheets write
	}
	lim := &limitReader{r: in, max: maxLine, line: 1}
	cr := csv.NewReader(bufio.NewReaderSize(lim, size))
	cr.ReuseRecord = true
	rd := &reader{lim: lim, cr: cr, max: maxLine}
	for i := range rd.idx {
		rd.idx[i] = -1
	}
	fields, err := rd.read()
	if err == io.EOF {
		return nil, badFile(1, "the file is empty; its first line must be a header naming the columns (%s)", allowed.names())
	}
	if err != nil {
		return nil, err
	}
	rd.n = len(fields)
	for i, f := range fields {
		name := normHeader(f)
		c, ok := columnAliases[name]
		switch {
		case name == "":
			return nil, badFile(1, "column %d of the header has no name; the columns are %s", i+1, allowed.names())
		case !ok || !allowed.has(c):
			return nil, badFile(1, "unknown column %s in the header; the first line must be a header naming the columns (%s)", strconv.Quote(f), allowed.names())
		case rd.idx[c] >= 0:
			return nil, badFile(1, "column %s appears twice in the header", columnNames[c])
		}
		rd.idx[c] = i
		rd.cols |= 1 << c
	}
	if check != nil {
		if msg := check(rd.cols); msg != "" {
			return nil, badFile(1, "%s", msg)
		}
	}
	rd.lastEnd = 1
	return rd, nil
}

// read returns the next CSV record, checked for size and encoding. The
// slice is reused by the next call.
func (rd *reader) read() ([]string, error) {
	start := rd.cr.InputOffset()
	rd.lim.recStart = start
	fields, err := rd.cr.Read()
	var pe *csv.ParseError
	switch {
	case err == nil:
	case errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount):
		// The record is returned; the caller rejects it.
	case errors.As(err, &pe):
		var lim *limitError
		if errors.As(pe.Err, &lim) {
			return nil, rd.limitErr(lim)
		}
		line := pe.Line
		if pe.StartLine > 0 && pe.StartLine != pe.Line {
			return nil, badFile(pe.StartLine, "%v (in the quoted field that starts on this line; the parser stopped at line %d, column %d)", pe.Err, pe.Line, pe.Column)
		}
		return nil, badFile(line, "column %d: %v", pe.Column, pe.Err)
	default:
		var lim *limitError
		if errors.As(err, &lim) {
			return nil, rd.limitErr(lim)
		}
		if err == io.EOF {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("bulk: reading the file: %w", err)
	}
	line, _ := rd.cr.FieldPos(0)
	// Each line was checked as it was read; this catches a row whose quoted
	// fields span lines (give or take its last line break).
	if size := rd.cr.InputOffset() - start; size > int64(rd.max)+2 {
		return nil, badFile(line, "the row is %d bytes long; at most %d are allowed", size, rd.max)
	}
	for i, f := range fields {
		if !utf8.ValidString(f) {
			l, col := rd.cr.FieldPos(i)
			return nil, badFile(l, "column %d: the text is not valid UTF-8; save the file as UTF-8 (CSV UTF-8)", col)
		}
	}
	last := len(fields) - 1
	endLine, _ := rd.cr.FieldPos(last)
	rd.lastEnd = endLine + strings.Count(fields[last], "\n")
	if err != nil { // ErrFieldCount
		return fields, err
	}
	return fields, nil
}

func (rd *reader) limitErr(l *limitError) error {
	if l.record {
		return badFile(rd.lastEnd+1, "the row that starts after line %d is longer than %d bytes (is a quote left open?)", rd.lastEnd, rd.max)
	}
	return badFile(l.line, "the line is longer than %d bytes", rd.max)
}

// next returns the next data row, or io.EOF after the last.
func (rd *reader) next() (record, error) {
	fields, err := rd.read()
	if err != nil && fields == nil {
		return record{}, err
	}
	rd.rows++
	line, _ := rd.cr.FieldPos(0)
	rec := record{row: rd.rows, line: line}
	cell := func(c column) string {
		if i := rd.idx[c]; i >= 0 && i < len(fields) {
			return strings.TrimSpace(fields[i])
		}
		return ""
	}
	rec.ref = couponkit.CustomerRef{ID: cell(colID), Mobile: cell(colMobile), Email: cell(colEmail), ExternalID: cell(colExternal)}
	rec.code = cell(colCode)
	rec.expires = cell(colExpires)
	rec.key = cell(colKey)
	if err != nil { // ErrFieldCount
		rec.bad = errcode.New(errcode.InvalidArgument, "row", fmt.Sprintf("the row has %d fields; the header has %d", len(fields), rd.n))
	}
	return rec, nil
}

// limitError is what limitReader returns when a line or a record is too
// long.
type limitError struct {
	line   int  // the line that is too long
	record bool // the record, not one line, is too long
}

func (e *limitError) Error() string { return "line " + strconv.Itoa(e.line) + " too long" }

// limitReader passes its input through, failing when a physical line is
// longer than max bytes (its line break, "\n" or "\r\n", excluded) or when the bytes read since
// recStart (the offset where the current record starts) pass max plus the
// parser's read-ahead: so that neither a line without end nor a quoted field
// left open is ever read whole into memory.
type limitReader struct {
	r        io.Reader
	max      int
	cur      int   // bytes of the current line so far
	line     int   // the current line, from 1
	off      int64 // bytes passed on
	recStart int64
	cr       bool // the last byte passed on was '\r'
	err      error
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	n, err := l.r.Read(p)
	for i := 0; i < n; {
		j := bytes.IndexByte(p[i:n], '\n')
		if j < 0 {
			// A line still open may end with the '\r' of a "\r\n".
			if l.cur+n-i > l.max+1 {
				return l.tooLong(p, i, n)
			}
			l.cur += n - i
			break
		}
		size := l.cur + j
		if size > 0 && (j > 0 && p[i+j-1] == '\r' || j == 0 && l.cr) {
			size--
		}
		if size > l.max {
			return l.tooLong(p, i, i+j)
		}
		l.cur = 0
		l.line++
		i += j + 1
	}
	l.cr = n > 0 && p[n-1] == '\r'
	l.off += int64(n)
	if l.off-l.recStart > int64(l.max)+2*readerBuffer {
		l.err = &limitError{line: l.line, record: true}
		return n, l.err
	}
	return n, err
}

// tooLong stops the reader at the line that starts (or continues) at p[i]
// and is too long, passing on its first max+1 bytes (at most up to p[end]),
// so that the parser sees the same text however the input is chunked.
func (l *limitReader) tooLong(p []byte, i, end int) (int, error) {
	keep := min(i+max(l.max+1-l.cur, 0), end)
	l.off += int64(keep)
	l.err = &limitError{line: l.line}
	return keep, l.err
}
