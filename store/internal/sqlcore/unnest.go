package sqlcore

import (
	"strings"
)

// Rows as arrays.
//
// On a database that takes arrays as parameters (Dialect.UnnestRows), the
// rows of a multi-row statement are sent as one array per column and
// turned back into rows by unnest:
//
//	INSERT INTO t (a, b) SELECT * FROM unnest($1::text[], $2::int8[])
//
// The statement's text then depends on its columns alone, not on its
// number of rows: one statement writes any number of rows, and the
// database prepares each text once per connection, where a VALUES list
// of n rows is a new text, prepared again, for every n.

// columnKind is the type of the values of one column of rows: what its
// array is made of.
type columnKind uint8

const (
	colNone  columnKind = iota // every value is nil
	colText                    // string
	colBig                     // int64
	colBool                    // bool
	colOther                   // anything else: no array
)

// kindOf is the kind of a non-nil value.
func kindOf(v any) columnKind {
	switch v.(type) {
	case string:
		return colText
	case int64:
		return colBig
	case bool:
		return colBool
	}
	return colOther
}

// unnestRows returns the arrays of the rows of args (rows of n values,
// one after the other) and the casts of the unnest that reads them, or
// false when a column holds values of a kind that has no array, or of
// two kinds. A column of nils only is sent as an array of bigint nulls,
// which a column of any type takes.
func unnestRows(args []any, n, rows int) (arrays []any, casts []string, ok bool) {
	arrays = make([]any, n)
	casts = make([]string, n)
	for c := range n {
		kind, nulls := colNone, false
		for r := range rows {
			v := args[r*n+c]
			if v == nil {
				nulls = true
				continue
			}
			k := kindOf(v)
			if k == colOther || (kind != colNone && k != kind) {
				return nil, nil, false
			}
			kind = k
		}
		switch kind {
		case colText:
			arrays[c], casts[c] = column[string](args, n, c, rows, nulls), "::text[]"
		case colBool:
			arrays[c], casts[c] = column[bool](args, n, c, rows, nulls), "::boolean[]"
		default:
			arrays[c], casts[c] = column[int64](args, n, c, rows, nulls), "::bigint[]"
		}
	}
	return arrays, casts, true
}

// column is the c-th column of rows as a slice of T, or of *T when it
// has nulls.
func column[T any](args []any, n, c, rows int, nulls bool) any {
	if !nulls {
		out := make([]T, rows)
		for r := range rows {
			out[r] = args[r*n+c].(T)
		}
		return out
	}
	out := make([]*T, rows)
	vals := make([]T, rows)
	for r := range rows {
		if v, ok := args[r*n+c].(T); ok {
			vals[r] = v
			out[r] = &vals[r]
		}
	}
	return out
}

// unnestSelect is "SELECT * FROM unnest($from::cast, ...)" for the casts.
func (s *Store) unnestSelect(casts []string, from int) string {
	var b strings.Builder
	b.WriteString("SELECT * FROM unnest(")
	for i, cast := range casts {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(s.d.Param(from + i))
		b.WriteString(cast)
	}
	b.WriteByte(')')
	return b.String()
}
