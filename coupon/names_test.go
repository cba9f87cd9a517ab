package coupon

import (
	"encoding"
	"errors"
	"testing"

	"github.com/couponkit/couponkit/errcode"
)

type textValue interface {
	encoding.TextMarshaler
	String() string
	Valid() bool
}

func TestNamesRoundTrip(t *testing.T) {
	cases := []struct {
		typ   string
		names []string
		at    func(i int) textValue
		parse func(b []byte) (textValue, error)
	}{
		{"State", []string{"available", "issued", "redeemed", "expired", "revoked"},
			func(i int) textValue { return State(i) },
			func(b []byte) (textValue, error) { var s State; err := s.UnmarshalText(b); return s, err }},
		{"RedemptionStatus", []string{"held", "redeemed", "released", "reversed"},
			func(i int) textValue { return RedemptionStatus(i) },
			func(b []byte) (textValue, error) { var s RedemptionStatus; err := s.UnmarshalText(b); return s, err }},
		{"EventKind", []string{"created", "issued", "redeemed", "reversed", "revoked", "expired",
			"transferred_out", "transfer_received", "reissued", "held", "hold_confirmed", "hold_released",
			"audience_added", "audience_removed", "issuance_threshold", "reminder_due", "returned"},
			func(i int) textValue { return EventKind(i) },
			func(b []byte) (textValue, error) { var k EventKind; err := k.UnmarshalText(b); return k, err }},
	}
	for _, tc := range cases {
		t.Run(tc.typ, func(t *testing.T) {
			for i, name := range tc.names {
				v := tc.at(i + 1)
				if !v.Valid() || v.String() != name {
					t.Errorf("%s(%d): Valid %v, String %q; want true, %q", tc.typ, i+1, v.Valid(), v.String(), name)
				}
				b, err := v.MarshalText()
				if err != nil || string(b) != name {
					t.Errorf("%s(%d).MarshalText() = %q, %v", tc.typ, i+1, b, err)
				}
				back, err := tc.parse(b)
				if err != nil || back != v {
					t.Errorf("UnmarshalText(%q) = %v, %v; want %v", b, back, err, v)
				}
			}
			for _, bad := range []int{0, len(tc.names) + 1, 255} {
				v := tc.at(bad)
				if v.Valid() {
					t.Errorf("%s(%d).Valid() = true", tc.typ, bad)
				}
				if _, err := v.MarshalText(); !errors.Is(err, errcode.ErrInvalidArgument) {
					t.Errorf("%s(%d).MarshalText() error = %v; want InvalidArgument", tc.typ, bad, err)
				}
			}
			for _, bad := range []string{"", "Issued", " issued", "bogus"} {
				if _, err := tc.parse([]byte(bad)); errcode.CodeOf(err) != errcode.InvalidArgument {
					t.Errorf("UnmarshalText(%q) error = %v; want InvalidArgument", bad, err)
				}
			}
		})
	}
	if got := State(9).String(); got != "State(9)" {
		t.Errorf("State(9).String() = %q", got)
	}
}

// A name or value that is not one of an enum's is refused naming the
// accepted ones; a coupon without a state is told the state is required.
func TestNameMessages(t *testing.T) {
	var ce *errcode.Error
	var k EventKind
	if err := k.UnmarshalText([]byte("made")); !errors.As(err, &ce) || ce.Message != `unknown name "made"; one of: created, issued, redeemed, reversed, revoked, expired, transferred_out, transfer_received, reissued, held, hold_confirmed, hold_released, audience_added, audience_removed, issuance_threshold, reminder_due, returned` {
		t.Errorf("EventKind.UnmarshalText(made) = %v", err)
	}
	if _, err := RedemptionStatus(9).MarshalText(); !errors.As(err, &ce) || ce.Message != "invalid value 9; one of: held, redeemed, released, reversed" {
		t.Errorf("RedemptionStatus(9).MarshalText() = %v", err)
	}
	for _, tc := range []struct {
		state State
		want  string
	}{
		{0, "is required; one of: available, issued, redeemed, expired, revoked"},
		{7, "unknown state 7; one of: available, issued, redeemed, expired, revoked"},
	} {
		c := Coupon{ID: "c1", SeriesID: "s1", Code: "A", Canonical: "A", State: tc.state, Version: 1}
		errs := errcode.All(c.Validate())
		if len(errs) != 1 || errs[0].Field != "State" || errs[0].Message != tc.want {
			t.Errorf("Validate of a coupon in state %d = %v, want State: %q", tc.state, errs, tc.want)
		}
	}
}

func TestUnmarshalErrorKeepsValue(t *testing.T) {
	s := Issued
	if err := s.UnmarshalText([]byte("nope")); err == nil || s != Issued {
		t.Errorf("UnmarshalText(nope): err %v, state %v; want error, issued", err, s)
	}
}

// FuzzUnmarshalText checks that parsing outside input never panics and that
// whatever parses marshals back to the same text.
func FuzzUnmarshalText(f *testing.F) {
	for _, s := range []string{"available", "revoked", "held", "hold_confirmed", "", "ISSUED", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var s State
		var r RedemptionStatus
		var k EventKind
		for _, v := range []interface {
			encoding.TextUnmarshaler
			encoding.TextMarshaler
		}{&s, &r, &k} {
			if v.UnmarshalText([]byte(in)) != nil {
				continue
			}
			out, err := v.MarshalText()
			if err != nil || string(out) != in {
				t.Fatalf("%T: %q parsed but marshals to %q, %v", v, in, out, err)
			}
		}
	})
}
