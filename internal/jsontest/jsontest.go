// Package jsontest checks the JSON form of couponkit's public types in
// their packages' tests: every key is snake_case, and a value survives a
// round trip through JSON.
package jsontest

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Key is one JSON key a type's values are written with: Name, for the Go
// field at Path (such as "Coupon.ExpiresAt"), in the JSON object of the Go
// value at Object (such as "Coupon"; fields promoted from an embedded
// struct belong to the object of the struct that embeds it).
type Key struct {
	Object, Path, Name string
}

var (
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
)

// marshalsItself reports whether values of t write their own JSON (a
// json.Marshaler or encoding.TextMarshaler, on the value or its pointer):
// their Go fields are no keys.
func marshalsItself(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	return t.Implements(jsonMarshaler) || t.Implements(textMarshaler) ||
		p.Implements(jsonMarshaler) || p.Implements(textMarshaler)
}

// Keys returns every key encoding/json may write for a value of type t,
// whether or not omitempty would leave it out: the names of exported
// fields (their tag's name, or the field's own name without one), skipping
// "-", promoting the fields of embedded structs without a tag as
// encoding/json does, and descending into structs, pointers, slices,
// arrays and map values. A type that marshals itself is not descended into.
func Keys(t reflect.Type) []Key {
	var out []Key
	keys(t, t.Name(), t.Name(), map[reflect.Type]bool{}, &out)
	return out
}

// keys appends the keys of t, a value at path whose fields belong to the
// object at object.
func keys(t reflect.Type, object, path string, seen map[reflect.Type]bool, out *[]Key) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
		if marshalsItself(t) {
			return
		}
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || marshalsItself(t) || seen[t] {
		return
	}
	seen[t] = true
	defer delete(seen, t)
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			keys(ft, object, path+"."+f.Name, seen, out) // promoted fields
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		*out = append(*out, Key{Object: object, Path: path + "." + f.Name, Name: name})
		keys(f.Type, path+"."+f.Name, path+"."+f.Name, seen, out)
	}
}

// SnakeCase reports whether s is lower-case letters and digits in words
// joined by single underscores, starting with a letter: "expires_at",
// "max_per_code", "id".
func SnakeCase(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' || s[len(s)-1] == '_' || strings.Contains(s, "__") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// CheckSnakeCase fails t for every key of typ (see Keys) that is not
// snake_case, for a key that two fields of one object share (encoding/json
// then writes only the shallower one, or neither), and for a type with no
// key at all.
func CheckSnakeCase(t testing.TB, typ reflect.Type) {
	t.Helper()
	ks := Keys(typ)
	if len(ks) == 0 {
		t.Errorf("%v has no JSON keys to check", typ)
	}
	first := make(map[[2]string]string, len(ks))
	for _, k := range ks {
		if !SnakeCase(k.Name) {
			t.Errorf("%s is written as %q, which is not snake_case", k.Path, k.Name)
		}
		if p, dup := first[[2]string{k.Object, k.Name}]; dup {
			t.Errorf("%s and %s are both written as %q in one object", p, k.Path, k.Name)
		}
		first[[2]string{k.Object, k.Name}] = k.Path
	}
}

// RoundTrip marshals v, fails t unless every object key of the document is
// snake_case, unmarshals the document into a new T and fails t unless it
// equals v under cmp with opts. It returns the document.
func RoundTrip[T any](t testing.TB, v T, opts ...cmp.Option) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("Marshal(%T): %v", v, err)
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("Unmarshal(%s) as a document: %v", b, err)
	}
	for _, k := range objectKeys(doc, nil) {
		if !SnakeCase(k) {
			t.Errorf("%T is written with key %q, which is not snake_case: %s", v, k, b)
		}
	}
	var back T
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("Unmarshal(%s) into %T: %v", b, back, err)
	}
	if diff := cmp.Diff(v, back, opts...); diff != "" {
		t.Errorf("%T after a round trip through %s (-before +after):\n%s", v, b, diff)
	}
	return b
}

// objectKeys appends the keys of every object in doc.
func objectKeys(doc any, out []string) []string {
	switch d := doc.(type) {
	case map[string]any:
		for k, v := range d {
			out = objectKeys(v, append(out, k))
		}
	case []any:
		for _, v := range d {
			out = objectKeys(v, out)
		}
	}
	return out
}
