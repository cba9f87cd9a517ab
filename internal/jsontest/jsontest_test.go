package jsontest

import (
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

type inner struct {
	Deep string `json:"deep_name"`
}

type promoted struct {
	Promoted int `json:"promoted"`
}

type outer struct {
	promoted
	ID      string    `json:"id"`
	At      time.Time `json:"at"`
	Inner   inner     `json:"inner"`
	List    []*inner  `json:"list,omitempty"`
	Skipped string    `json:"-"`
	private int
	Plain   bool
}

func TestKeys(t *testing.T) {
	got := Keys(reflect.TypeOf(outer{private: 1})) // an unexported field has no key
	want := []Key{
		{"outer", "outer.promoted.Promoted", "promoted"}, {"outer", "outer.ID", "id"}, {"outer", "outer.At", "at"},
		{"outer", "outer.Inner", "inner"}, {"outer.Inner", "outer.Inner.Deep", "deep_name"},
		{"outer", "outer.List", "list"}, {"outer.List", "outer.List.Deep", "deep_name"},
		{"outer", "outer.Plain", "Plain"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Keys (-want +got):\n%s", diff)
	}
}

func TestSnakeCase(t *testing.T) {
	for s, want := range map[string]bool{
		"id": true, "expires_at": true, "max_per_code": true, "v2": true, "a1_b2": true,
		"": false, "ID": false, "externalId": false, "_id": false, "id_": false, "a__b": false, "2a": false, "a-b": false,
	} {
		if got := SnakeCase(s); got != want {
			t.Errorf("SnakeCase(%q) = %v, want %v", s, got, want)
		}
	}
}

// CheckSnakeCase and RoundTrip fail on a camelCase or untagged key, and
// CheckSnakeCase on a key two fields share.
func TestChecksFail(t *testing.T) {
	type camel struct {
		ExternalID string `json:"externalId"`
	}
	var rec recorder
	CheckSnakeCase(&rec, reflect.TypeFor[camel]())
	if rec.errors != 1 {
		t.Errorf("CheckSnakeCase of a camelCase tag: %d errors, want 1", rec.errors)
	}
	rec = recorder{}
	CheckSnakeCase(&rec, reflect.TypeFor[outer]())
	if rec.errors != 1 {
		t.Errorf("CheckSnakeCase of an untagged field: %d errors, want 1", rec.errors)
	}
	type twice struct {
		promoted
		Count int `json:"promoted"`
	}
	rec = recorder{}
	CheckSnakeCase(&rec, reflect.TypeFor[twice]())
	if rec.errors != 1 {
		t.Errorf("CheckSnakeCase of a key two fields share: %d errors, want 1", rec.errors)
	}
	rec = recorder{}
	RoundTrip(&rec, camel{ExternalID: "x"})
	if rec.errors != 1 {
		t.Errorf("RoundTrip of a camelCase key: %d errors, want 1", rec.errors)
	}
	rec = recorder{}
	RoundTrip(&rec, inner{Deep: "x"})
	if rec.errors != 0 {
		t.Errorf("RoundTrip of a snake_case value: %d errors, want 0", rec.errors)
	}
}

// recorder counts the errors reported to it.
type recorder struct {
	testing.TB
	errors int
}

func (r *recorder) Helper()                   {}
func (r *recorder) Errorf(string, ...any)     { r.errors++ }
func (r *recorder) Fatalf(f string, a ...any) { r.errors++; panic("Fatalf: " + f) }
