package input

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"pgregory.net/rapid"

	"github.com/couponkit/couponkit/errcode"
)

func TestTextTable(t *testing.T) {
	for _, tc := range []struct {
		name string
		kind Kind
		s    string
		msg  string // a part of the message; "" means valid
	}{
		{"empty", Code, "", ""},
		{"ascii", Code, "SUMMER-2030_x", ""},
		{"space and punctuation", Reason, "refund, see ticket #12 (50%)", ""},
		{"multi-byte", Name, "Été à Zürich, 夏のセール", ""},
		{"emoji and joiners", Name, "🎉👩‍👩‍👧 sale", ""},
		{"odd but valid", Reason, "\u00a0\u200b\u2028\ufeff\ufffd\U0010fffd", ""},
		{"at the maximum", ID, strings.Repeat("x", 128), ""},
		{"multi-byte at the maximum", ID, strings.Repeat("é", 64), ""},
		{"one byte over", ID, strings.Repeat("x", 129), "is 129 bytes long; an id is at most 128"},
		{"multi-byte over", Channel, strings.Repeat("€", 22), "is 66 bytes long; a channel is at most 64"},
		{"NUL", Customer, "ali\x00ce", "control character U+0000 at byte 3"},
		{"tab", Key, "a\tb", "control character U+0009 at byte 1"},
		{"newline", Reason, "line\n", "control character U+000A at byte 4"},
		{"DEL", Actor, "\x7f", "control character U+007F at byte 0"},
		{"C1", Place, "x\u0085", "control character U+0085 at byte 1"},
		{"last C1", Place, "\u009f", "control character U+009F at byte 0"},
		{"first after C1", Place, "\u00a0", ""},
		{"invalid byte", Code, "ab\xffc", "not valid UTF-8 (at byte 2)"},
		{"truncated sequence", Code, "ab\xe2\x82", "not valid UTF-8 (at byte 2)"},
		{"encoded surrogate", Code, "\xed\xa0\x80", "not valid UTF-8 (at byte 0)"},
		{"overlong NUL", Code, "\xc0\x80", "not valid UTF-8 (at byte 0)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Text("Customer.ID", tc.kind, tc.s)
			if tc.msg == "" {
				if err != nil {
					t.Fatalf("Text(%q) = %v, want nil", tc.s, err)
				}
				return
			}
			var ce *errcode.Error
			if !errors.As(err, &ce) || ce.Code != errcode.InvalidArgument || ce.Field != "Customer.ID" {
				t.Fatalf("Text(%q) = %v, want an InvalidArgument on Customer.ID", tc.s, err)
			}
			if !strings.Contains(ce.Message, tc.msg) {
				t.Errorf("message %q does not say %q", ce.Message, tc.msg)
			}
			if strings.Contains(ce.Message, tc.s) {
				t.Errorf("message %q repeats the bad value", ce.Message)
			}
		})
	}
}

// valid is the rule written plainly, for the property and the fuzz target.
func valid(k Kind, s string) bool {
	if len(s) > k.Max() || !utf8.ValidString(s) {
		return false
	}
	return !strings.ContainsFunc(s, unicode.IsControl)
}

func TestTextProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		k := Kind(rapid.IntRange(int(ID), int(TimeZone)).Draw(t, "kind"))
		s := rapid.OneOf(
			rapid.String(),
			rapid.StringOfN(rapid.RuneFrom(nil, unicode.Cc, unicode.Latin, unicode.Han, unicode.So), 0, k.Max()+2, -1),
			rapid.StringMatching(`[a-z0-9\x00\x7f\x{85}\x{fffd}-]{0,300}`),
			rapid.Map(rapid.SliceOf(rapid.Byte()), func(b []byte) string { return string(b) }),
		).Draw(t, "s")
		err := Text("F", k, s)
		if got, want := err == nil, valid(k, s); got != want {
			t.Fatalf("Text(%s, %q) = %v; the rule says valid=%v", k, s, err, want)
		}
		if err != nil && !errors.Is(err, errcode.ErrInvalidArgument) {
			t.Fatalf("Text(%q) = %v, want InvalidArgument", s, err)
		}
	})
}

func FuzzText(f *testing.F) {
	for _, s := range []string{"", "abc", "a\x00b", "\xff", "é", "\u0085", strings.Repeat("z", 200)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for k := ID; k <= TimeZone; k++ {
			if got, want := Text("F", k, s) == nil, valid(k, s); got != want {
				t.Fatalf("Text(%s, %q) valid=%v; the rule says %v", k, s, got, want)
			}
		}
	})
}

func TestTextAllocatesNothing(t *testing.T) {
	s := "Été-2030 🎉 " + strings.Repeat("x", 100)
	if n := testing.AllocsPerRun(100, func() {
		if Text("Code", Reason, s) != nil || Time("At", time.Now()) != nil {
			t.Fatal("valid input refused")
		}
	}); n != 0 {
		t.Errorf("checking valid input allocates %v times", n)
	}
}

func TestKinds(t *testing.T) {
	for k := ID; k <= TimeZone; k++ {
		if k.Max() <= 0 || k.Max() > 1024 || strings.HasPrefix(k.String(), "Kind(") {
			t.Errorf("kind %d has max %d and name %q", k, k.Max(), k.String())
		}
	}
	if Kind(0).Max() != 0 || Kind(200).String() != "Kind(200)" {
		t.Error("an unknown kind has a maximum or a name")
	}
}

func TestTime(t *testing.T) {
	first := time.Date(MinYear, 1, 1, 0, 0, 0, 0, time.UTC)
	end := time.Date(MaxYear+1, 1, 1, 0, 0, 0, 0, time.UTC)
	if !Earliest().Equal(first) || !End().Equal(end) {
		t.Fatalf("range is %v..%v, want %v..%v", Earliest(), End(), first, end)
	}
	plus14 := time.FixedZone("+14", 14*3600)
	for _, tc := range []struct {
		t        time.Time
		in, zero bool // InRange; passes Time (zero allowed)
	}{
		{time.Time{}, false, true},
		{first, true, true},
		{first.Add(-time.Nanosecond), false, false},
		{end.Add(-time.Nanosecond), true, true},
		{end, false, false},
		{end.In(plus14), false, false}, // 2200-01-01 14:00 local is still the end
		{time.Date(2199, 12, 31, 23, 59, 59, 0, time.UTC).In(plus14), true, true},
		{time.Date(1677, 1, 1, 0, 0, 0, 0, time.UTC), false, false},
		{time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), false, false},
		{time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC), false, false},
		{time.Date(2030, 1, 7, 10, 0, 0, 0, time.UTC), true, true},
	} {
		if got := InRange(tc.t); got != tc.in {
			t.Errorf("InRange(%v) = %v, want %v", tc.t, got, tc.in)
		}
		if got := Time("At", tc.t) == nil; got != tc.zero {
			t.Errorf("Time(%v) passes = %v, want %v", tc.t, got, tc.zero)
		}
		if got := Instant("At", tc.t) == nil; got != tc.in {
			t.Errorf("Instant(%v) passes = %v, want %v", tc.t, got, tc.in)
		}
	}
	err := Instant("Config.Now", time.Time{})
	var ce *errcode.Error
	if !errors.As(err, &ce) || ce.Code != errcode.InvalidArgument || ce.Field != "Config.Now" ||
		!strings.Contains(ce.Message, "1900 to 2199") {
		t.Errorf("Instant(zero) = %v, want an InvalidArgument on Config.Now naming the years", err)
	}
}

func TestWithin(t *testing.T) {
	err := WithinAt("Rows", 3, Within("Customer", Text("ID", Customer, "a\x00")))
	var ce *errcode.Error
	if !errors.As(err, &ce) || ce.Field != "Rows[3].Customer.ID" || ce.Code != errcode.InvalidArgument {
		t.Fatalf("got %v, want an InvalidArgument on Rows[3].Customer.ID", err)
	}
	if WithinAt("Rows", 1, nil) != nil || Within("X", nil) != nil {
		t.Error("Within of nil is not nil")
	}
	if got := Within("Rows[2]", errcode.New(errcode.InvalidCode, "", "m")); errcode.All(got)[0].Field != "Rows[2]" {
		t.Errorf("an error without a field within Rows[2] is on %q", errcode.All(got)[0].Field)
	}
	other := errors.New("plain")
	if Within("X", other) != other {
		t.Error("Within changed an error that is not an *errcode.Error")
	}
	orig := errcode.New(errcode.InvalidArgument, "Code", "m")
	_ = Within("Rows[0]", orig)
	if orig.Field != "Code" {
		t.Error("Within changed its argument")
	}
}
