package couponkit

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/refusal"
)

// The JSON forms that do not follow from struct tags: the enums of this
// package are written as their snake_case names, and the errors of bulk
// results as objects (see RowError).

var (
	revokeScopeNames = []string{NoScope: "none", AllUnredeemed: "all_unredeemed", OnlyUnissued: "only_unissued"}
	codeCaseNames    = []string{Upper: "upper", Lower: "lower", AsCreated: "as_created"}
)

// String returns "none", "all_unredeemed" or "only_unissued", or
// "RevokeScope(n)".
func (s RevokeScope) String() string { return enumString(revokeScopeNames, s, "RevokeScope") }

// MarshalText implements encoding.TextMarshaler; an unknown scope fails.
func (s RevokeScope) MarshalText() ([]byte, error) {
	return enumText(revokeScopeNames, s, "RevokeScope")
}

// UnmarshalText implements encoding.TextUnmarshaler, ignoring the case of
// ASCII letters.
func (s *RevokeScope) UnmarshalText(b []byte) error {
	return parseEnum(revokeScopeNames, b, "RevokeScope", s)
}

// String returns "upper", "lower" or "as_created", or "CodeCase(n)".
func (k CodeCase) String() string { return enumString(codeCaseNames, k, "CodeCase") }

// MarshalText implements encoding.TextMarshaler; an unknown case fails.
func (k CodeCase) MarshalText() ([]byte, error) { return enumText(codeCaseNames, k, "CodeCase") }

// UnmarshalText implements encoding.TextUnmarshaler, ignoring the case of
// ASCII letters.
func (k *CodeCase) UnmarshalText(b []byte) error { return parseEnum(codeCaseNames, b, "CodeCase", k) }

func enumString[T ~uint8](names []string, v T, typ string) string {
	if int(v) < len(names) {
		return names[v]
	}
	return typ + "(" + strconv.Itoa(int(v)) + ")"
}

func enumText[T ~uint8](names []string, v T, typ string) ([]byte, error) {
	if int(v) < len(names) {
		return []byte(names[v]), nil
	}
	return nil, errcode.New(errcode.InvalidArgument, typ, "unknown "+typ+" "+strconv.Itoa(int(v))+"; one of: "+strings.Join(names, ", "))
}

func parseEnum[T ~uint8](names []string, b []byte, typ string, v *T) error {
	for i, n := range names {
		if equalFoldASCII(n, b) {
			*v = T(i)
			return nil
		}
	}
	return errcode.New(errcode.InvalidArgument, typ, "unknown "+typ+" "+strconv.Quote(string(b))+"; one of: "+strings.Join(names, ", "))
}

// equalFoldASCII reports whether name and b are equal when ASCII letters
// are compared without case; other bytes must be equal, so that no Unicode
// look-alike ("ſ" for "s") matches.
func equalFoldASCII(name string, b []byte) bool {
	if len(name) != len(b) {
		return false
	}
	for i := range len(b) {
		x, y := name[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// errorJSON is the JSON form of an error in a result (see RowError): either
// Refusals, for a *refusal.Error, or Code, Field and Message.
type errorJSON struct {
	Refusals []refusal.Refusal `json:"refusals,omitempty"`
	Code     *errcode.Code     `json:"code,omitempty"`
	Field    string            `json:"field,omitempty"`
	Message  string            `json:"message,omitempty"`
}

// newErrorJSON returns the JSON form of err; nil for nil.
func newErrorJSON(err error) *errorJSON {
	if err == nil {
		return nil
	}
	var r *refusal.Error
	if errors.As(err, &r) && len(r.Refusals) > 0 {
		return &errorJSON{Refusals: r.Refusals}
	}
	code := errcode.CodeOf(err)
	out := &errorJSON{Code: &code, Message: err.Error()}
	var ce *errcode.Error
	if errors.As(err, &ce) {
		out.Field = ce.Field
		if err == error(ce) {
			out.Message = ce.Message
			if ce.Err != nil {
				out.Message += ": " + ce.Err.Error()
			}
		}
	}
	return out
}

// err returns the Go error j stands for; nil for nil.
func (j *errorJSON) err() error {
	switch {
	case j == nil:
		return nil
	case len(j.Refusals) > 0:
		return &refusal.Error{Refusals: j.Refusals}
	}
	var code errcode.Code
	if j.Code != nil {
		code = *j.Code
	}
	return errcode.New(code, j.Field, j.Message)
}

type rowErrorJSON struct {
	Row   int        `json:"row"`
	Error *errorJSON `json:"error,omitempty"`
}

// MarshalJSON writes the row and the JSON form of its error, as described at
// [RowError].
func (r RowError) MarshalJSON() ([]byte, error) {
	return json.Marshal(rowErrorJSON{Row: r.Row, Error: newErrorJSON(r.Err)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (r *RowError) UnmarshalJSON(b []byte) error {
	var v rowErrorJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*r = RowError{Row: v.Row, Err: v.Error.err()}
	return nil
}

type audienceOutcomeJSON struct {
	Customer string     `json:"customer,omitempty"`
	Changed  bool       `json:"changed"`
	Error    *errorJSON `json:"error,omitempty"`
}

// MarshalJSON writes the outcome with the JSON form of its error, as
// described at [RowError].
func (o AudienceOutcome) MarshalJSON() ([]byte, error) {
	return json.Marshal(audienceOutcomeJSON{Customer: o.Customer, Changed: o.Changed, Error: newErrorJSON(o.Err)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (o *AudienceOutcome) UnmarshalJSON(b []byte) error {
	var v audienceOutcomeJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*o = AudienceOutcome{Customer: v.Customer, Changed: v.Changed, Err: v.Error.err()}
	return nil
}
