package series

import (
	"time"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/internal/input"
)

// validateInput adds an InvalidConfig error for each of the series' own
// strings and times that breaks the input rules every store relies on
// (see package input): strings are valid UTF-8 without control characters
// and at most the maximum length of their kind; times, where set, are in
// the years input.MinYear through input.MaxYear.
func (s *Series) validateInput(f *errcode.Fields) {
	text := func(field string, k input.Kind, v string) {
		addInput(f, input.Text(field, k, v))
	}
	text("ID", input.ID, s.ID)
	text("Name", input.Name, s.Name)
	text("TimeZone", input.TimeZone, s.TimeZone)
	for _, x := range []struct{ field, v string }{
		{"Source.Code", s.Source.Code}, {"Source.Prefix", s.Source.Prefix}, {"Source.Suffix", s.Source.Suffix},
		{"Source.Sample", s.Source.Sample}, {"Source.CustomAlphabet", s.Source.CustomAlphabet},
	} {
		text(x.field, input.Code, x.v)
	}
	for i, id := range s.Issuance.ExcludeSeries {
		addInput(f, input.WithinAt("Issuance.ExcludeSeries", i, input.Text("", input.ID, id)))
	}
	for i, ref := range s.Redemption.Places.Refs() {
		addInput(f, input.WithinAt("Redemption.Places", i, input.Text("ID", input.Place, ref.ID)))
	}
	for _, l := range []struct {
		field string
		ids   []string
	}{
		{"Products.Include", s.Products.Include}, {"Products.Exclude", s.Products.Exclude},
		{"Products.IncludeCategories", s.Products.IncludeCategories},
		{"Products.ExcludeCategories", s.Products.ExcludeCategories},
	} {
		for i, id := range l.ids[:min(len(l.ids), MaxProductRules)] {
			addInput(f, input.WithinAt(l.field, i, input.Text("", input.ID, id)))
		}
	}
	text("Stacking.Group", input.ID, s.Stacking.Group)
	for i, r := range s.Reminders {
		addInput(f, input.WithinAt("Reminders", i, input.Text("Channel", input.Channel, r.Channel)))
	}
	for _, x := range []struct {
		field string
		t     time.Time
	}{
		{"Start", s.Start}, {"End", s.End}, {"Redemption.Start", s.Redemption.Start},
		{"Redemption.NewCustomers.RegisteredFrom", s.Redemption.NewCustomers.RegisteredFrom},
		{"Redemption.NewCustomers.RegisteredTo", s.Redemption.NewCustomers.RegisteredTo},
		{"CreatedAt", s.CreatedAt}, {"UpdatedAt", s.UpdatedAt},
	} {
		addInput(f, input.Time(x.field, x.t))
	}
}

// addInput adds the error of an input check to f as an InvalidConfig error,
// the code of every error of Validate.
func addInput(f *errcode.Fields, err error) {
	if ce, ok := err.(*errcode.Error); ok {
		f.Add(errcode.InvalidConfig, ce.Field, ce.Message)
	}
}

// capExpiry caps an expiry the series computes at input.End, the first
// instant after the years every store keeps.
func capExpiry(t time.Time) time.Time {
	if end := input.End(); t.After(end) {
		return end
	}
	return t
}
