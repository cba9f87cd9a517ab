package sqlcore

import "strconv"

// Padded multi-row statements.
//
// A group of changes written merged (merge.go) inserts its redemptions,
// its events and its counters with multi-row statements, whose text
// depends on their number of rows. Split in powers of two (pieces), so
// that a store meets few texts, a group of 11 redemptions is 3 statements
// per table (8, 2 and 1 rows), each paying what one statement costs
// through database/sql on SQLite. With Dialect.PadRows the rows of a
// change are one statement per table instead (up to changeRowsPerInsert
// rows, bumpRowsPerStmt counters), of the next power of two of rows: the
// rows past the change's are padding, NULL in every column, which the
// statement's WHERE drops before they are inserted:
//
//	INSERT INTO t (cols) SELECT column1, ?, column2, ... FROM
//	(VALUES (?, ?, 1), ..., (NULL, NULL, NULL)) WHERE column3 IS NOT NULL
//
// the last column of each row its flag (1 for a row of the change), the
// columns with one value in every row bound once (see multiRow).

// changeRows returns the INSERT of the rows rows of n columns of args
// (one row after the other) that a change writes: padded with
// Dialect.PadRows, else multiRow's.
func (s *Store) changeRows(table, cols string, n int, args []any, rows int) (string, []any) {
	if !s.d.PadRows || rows < 2 || n > 63 {
		return s.multiRow(table, cols, n, args, rows)
	}
	size := 2
	for size < rows {
		size *= 2
	}
	vary, nVary := varying(args, n, rows)
	out := bindShared(args, n, rows, vary, nVary, size, true)
	q := s.sqlText(table+"/pad/"+itoa(int64(size))+"/"+strconv.FormatUint(vary, 16), func() string {
		return "INSERT INTO " + table + " (" + cols + ") SELECT " + sharedSelect(n, vary) + " FROM (VALUES " +
			s.placeholders(size, nVary+1) + ") WHERE column" + itoa(int64(nVary+1)) + " IS NOT NULL"
	})
	return q, out
}

// chunks splits n rows into statements of max rows and one of the rest,
// padded (changeRows).
func chunks(n, max int) []int {
	var out []int
	for ; n > max; n -= max {
		out = append(out, max)
	}
	if n > 0 {
		out = append(out, n)
	}
	return out
}
