// Package input holds the rules every string and time a caller gives
// couponkit must obey before any store sees it, so that the same bad data
// gets the same answer on every store.
//
// A string is valid UTF-8, holds no control character (C0, which includes
// NUL, tab and newline; DEL; C1) and is at most the maximum length of its
// kind of field, in bytes (see [Kind]). The maxima are far below what a
// store can index (PostgreSQL refuses a B-tree index entry above about
// 2700 bytes, and a store's keys join several of these fields), and far
// above any real identifier, code or note.
//
// A time is either zero (where a field leaves it unset) or in the years
// MinYear through MaxYear, UTC: [Earliest] <= t < [End]. Every store can
// hold those, with room to spare for the times couponkit derives from them
// (an expiry some years after an issue, a hold's end); a SQL store keeping
// Unix nanoseconds holds 1678 to 2261.
//
// Each check returns nil or an *errcode.Error with code InvalidArgument
// naming the field and saying what is wrong, without repeating the bad
// value. The checks allocate nothing when the input is valid.
package input

import (
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/couponkit/couponkit/errcode"
)

// Kind is a kind of string field; its maximum length is Max.
type Kind uint8

// The kinds of string field, with their maximum lengths in bytes.
const (
	// ID is an id of a series, coupon, redemption or hold: 128 bytes.
	ID Kind = iota + 1
	// Customer is a customer identifier (id, mobile number, email address
	// or external id): 256 bytes, room for the longest email address.
	Customer
	// Code is a coupon code as typed, or a part of one in a series (prefix,
	// suffix, sample, common code, alphabet): 128 bytes.
	Code
	// Key is an idempotency key, typically a POS transaction id: 256 bytes.
	Key
	// Actor names who made a change: 256 bytes.
	Actor
	// Reason says why a change was made: 1024 bytes.
	Reason
	// Name is a series' name for people: 256 bytes.
	Name
	// Channel names a reminder's channel ("sms", "email"): 64 bytes.
	Channel
	// Place is a till, store, zone or concept id: 128 bytes.
	Place
	// TimeZone is an IANA time zone name: 64 bytes.
	TimeZone
)

var kinds = [...]struct {
	name string
	max  int
}{
	ID:       {"an id", 128},
	Customer: {"a customer identifier", 256},
	Code:     {"a code", 128},
	Key:      {"an idempotency key", 256},
	Actor:    {"an actor", 256},
	Reason:   {"a reason", 1024},
	Name:     {"a name", 256},
	Channel:  {"a channel", 64},
	Place:    {"a place id", 128},
	TimeZone: {"a time zone name", 64},
}

// Max is the longest string of kind k, in bytes.
func (k Kind) Max() int {
	if int(k) < len(kinds) {
		return kinds[k].max
	}
	return 0
}

// String describes the kind for a person, as in "a customer identifier".
func (k Kind) String() string {
	if int(k) < len(kinds) && kinds[k].name != "" {
		return kinds[k].name
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Text checks s, a string of kind k in the given field. The empty string
// passes: whether a field is required is the caller's rule.
func Text(field string, k Kind, s string) error {
	if msg := problem(k, s); msg != "" {
		return errcode.New(errcode.InvalidArgument, field, msg)
	}
	return nil
}

// problem returns why s is not a valid string of kind k, or "".
func problem(k Kind, s string) string {
	if n := k.Max(); len(s) > n {
		return "is " + strconv.Itoa(len(s)) + " bytes long; " + k.String() + " is at most " + strconv.Itoa(n)
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return control(rune(c), i)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			return "is not valid UTF-8 (at byte " + strconv.Itoa(i) + ")"
		case r <= 0x9f:
			return control(r, i)
		}
		i += n
	}
	return ""
}

func control(r rune, at int) string {
	return "holds the control character U+" + hex4(r) + " at byte " + strconv.Itoa(at)
}

func hex4(r rune) string {
	const digits = "0123456789ABCDEF"
	return string([]byte{digits[r>>12&15], digits[r>>8&15], digits[r>>4&15], digits[r&15]})
}

// The years every store keeps.
const (
	MinYear = 1900
	MaxYear = 2199
)

// The range in Unix seconds: 1900-01-01 and 2200-01-01, 00:00 UTC.
const (
	earliestUnix = -2208988800
	endUnix      = 7258118400
)

// Earliest is the first instant of the range, 1 January MinYear, 00:00 UTC.
func Earliest() time.Time { return time.Unix(earliestUnix, 0).UTC() }

// End is the first instant after the range, 1 January MaxYear+1, 00:00
// UTC. Times couponkit derives (expiries) are capped at End.
func End() time.Time { return time.Unix(endUnix, 0).UTC() }

// InRange reports whether t is in the years MinYear through MaxYear. The
// zero time is not.
func InRange(t time.Time) bool {
	u := t.Unix()
	return u >= earliestUnix && u < endUnix
}

// Time checks a time in the given field: zero (unset) or InRange.
func Time(field string, t time.Time) error {
	if t.IsZero() || InRange(t) {
		return nil
	}
	return errcode.New(errcode.InvalidArgument, field, outOfRange(t))
}

// Instant checks a time that must be set: InRange.
func Instant(field string, t time.Time) error {
	if InRange(t) {
		return nil
	}
	return errcode.New(errcode.InvalidArgument, field, outOfRange(t))
}

func outOfRange(t time.Time) string {
	return "time " + t.UTC().Format(time.RFC3339Nano) + " is outside the years " +
		strconv.Itoa(MinYear) + " to " + strconv.Itoa(MaxYear) + " (UTC) that couponkit keeps"
}

// Within returns err with its field placed under parent: an *errcode.Error
// on field "Customer.ID" within "Rows[3]" is on "Rows[3].Customer.ID". Any
// other error, and nil, is returned as it is.
func Within(parent string, err error) error {
	ce, ok := err.(*errcode.Error)
	if !ok {
		return err
	}
	out := *ce
	if out.Field == "" {
		out.Field = parent
	} else {
		out.Field = parent + "." + out.Field
	}
	return &out
}

// WithinAt is Within for element i of the list field list: "Code" within
// element 3 of "Rows" is "Rows[3].Code". The path is built only for an
// error.
func WithinAt(list string, i int, err error) error {
	if err == nil {
		return nil
	}
	return Within(list+"["+strconv.Itoa(i)+"]", err)
}
