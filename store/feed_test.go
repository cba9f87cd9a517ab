package store_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/store"
)

// A position written as text reads back as itself, and the order of
// positions is the order of their parts, high part first.
func TestPositionTextAndOrder(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		part := rapid.OneOf(rapid.Uint64(), rapid.Uint64Range(0, 3))
		p := store.MakePosition(part.Draw(t, "hi1"), part.Draw(t, "lo1"))
		q := store.MakePosition(part.Draw(t, "hi2"), part.Draw(t, "lo2"))
		back, err := store.ParsePosition(p.String())
		if err != nil || back != p {
			t.Fatalf("ParsePosition(%q) = %v, %v; want %v", p.String(), back, err, p)
		}
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		var viaJSON store.Position
		if err := json.Unmarshal(b, &viaJSON); err != nil || viaJSON != p {
			t.Fatalf("JSON %s reads back as %v, %v; want %v", b, viaJSON, err, p)
		}
		ph, pl := p.Parts()
		qh, ql := q.Parts()
		want := 0
		switch {
		case ph < qh || ph == qh && pl < ql:
			want = -1
		case p != q:
			want = 1
		}
		if got := p.Compare(q); got != want {
			t.Fatalf("%v.Compare(%v) = %d; want %d", p, q, got, want)
		}
		if q.Compare(p) != -want {
			t.Fatalf("Compare is not antisymmetric on %v, %v", p, q)
		}
	})
	if !(store.Position{}).IsZero() || store.MakePosition(0, 1).IsZero() {
		t.Error("only the zero position is the start of the feed")
	}
	if p, err := store.ParsePosition(""); err != nil || !p.IsZero() {
		t.Errorf(`ParsePosition("") = %v, %v; want the start of the feed`, p, err)
	}
}

// Text that is not a position is refused as an InvalidArgument on the
// field "Position", and UnmarshalText leaves the position as it was.
func TestPositionMalformed(t *testing.T) {
	for _, s := range []string{"1", "-1", "1-", "-", "1-2-3", "a-1", "1-b", "+1-2", "1-+2", " 1-2", "1-2 ", "18446744073709551616-0", "1.2"} {
		if _, err := store.ParsePosition(s); !isField(err, errcode.InvalidArgument, "Position") {
			t.Errorf("ParsePosition(%q) = %v; want InvalidArgument on Position", s, err)
		}
		p := store.MakePosition(7, 8)
		if err := p.UnmarshalText([]byte(s)); err == nil || p != store.MakePosition(7, 8) {
			t.Errorf("UnmarshalText(%q) = %v and changed the position to %v", s, err, p)
		}
	}
}

// The typed errors of the feed match their codes and say what they are
// about.
func TestFeedErrors(t *testing.T) {
	var err error = &store.FuturePositionError{Position: store.MakePosition(0, 9), Head: store.MakePosition(0, 4)}
	var fe *store.FuturePositionError
	if !errors.As(err, &fe) || !errors.Is(err, errcode.ErrFuturePosition) || !strings.Contains(err.Error(), "0-9") {
		t.Errorf("FuturePositionError: %v", err)
	}
	err = &store.UnknownConsumerError{Consumer: "mailer"}
	var ue *store.UnknownConsumerError
	if !errors.As(err, &ue) || !errors.Is(err, errcode.ErrUnknownConsumer) || !errors.Is(err, errcode.ErrNotFound) || !strings.Contains(err.Error(), "mailer") {
		t.Errorf("UnknownConsumerError: %v", err)
	}
	if err := store.ForeignPosition(store.MakePosition(3, 1)); !isField(err, errcode.InvalidArgument, "Position") {
		t.Errorf("ForeignPosition = %v", err)
	}
}

// FeedLimit refuses a negative limit and reads 0 as the default.
func TestFeedLimit(t *testing.T) {
	for _, tc := range []struct{ in, want int }{{0, store.DefaultFeedLimit}, {1, 1}, {10000, 10000}} {
		if got, err := store.FeedLimit(tc.in); err != nil || got != tc.want {
			t.Errorf("FeedLimit(%d) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, n := range []int{-1, -1 << 40} {
		if _, err := store.FeedLimit(n); !isField(err, errcode.InvalidArgument, "Limit") {
			t.Errorf("FeedLimit(%d) = %v; want InvalidArgument on Limit", n, err)
		}
	}
}

// A consumer name is an id: not empty, at most 128 bytes, valid UTF-8
// without control characters.
func TestCheckConsumer(t *testing.T) {
	for _, ok := range []string{"mailer", "ä-€-😀", strings.Repeat("x", 128)} {
		if err := store.CheckConsumer(ok); err != nil {
			t.Errorf("CheckConsumer(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", strings.Repeat("x", 129), "a\x00b", "tab\there", "\xff", "del\x7f"} {
		if err := store.CheckConsumer(bad); !isField(err, errcode.InvalidArgument, "Consumer") {
			t.Errorf("CheckConsumer(%q) = %v; want InvalidArgument on Consumer", bad, err)
		}
	}
}

// A notice crosses when the counter goes from below its value to at or
// above it, in either one step or several.
func TestNoticeCrossed(t *testing.T) {
	n := &store.Notice{Reach: 8}
	for _, tc := range []struct {
		before, after int64
		want          bool
	}{{7, 8, true}, {5, 9, true}, {8, 9, false}, {6, 7, false}, {8, 8, false}, {9, 7, false}, {7, 7, false}} {
		if got := n.Crossed(tc.before, tc.after); got != tc.want {
			t.Errorf("Crossed(%d, %d) = %v; want %v", tc.before, tc.after, got, tc.want)
		}
	}
}

func isField(err error, code errcode.Code, field string) bool {
	var ce *errcode.Error
	return errors.As(err, &ce) && ce.Code == code && ce.Field == field
}
