package basket_test

import (
	"reflect"
	"testing"

	"pgregory.net/rapid"

	"github.com/couponkit/couponkit/basket"
)

// A Stacker used for one call after another answers what Stack answers for
// each, and the parts of a decision it gave stay as they were after its
// later calls: they are the caller's, not the stacker's buffers.
func TestStackerAsStack(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var s basket.Stacker
		type kept struct {
			parts []basket.Part
			want  []basket.Part
		}
		var all []kept
		for range rapid.IntRange(1, 4).Draw(t, "calls") {
			b := genBasket(t)
			cs := genCoupons(t, b.Currency)
			want, werr := basket.Stack(b, cs, nil)
			got, gerr := s.Stack(b, cs, nil)
			if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
				t.Fatalf("Stacker.Stack error %v, Stack's %v", gerr, werr)
			}
			if werr != nil {
				continue
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("Stacker.Stack\n%+v\nStack\n%+v", got, want)
			}
			for _, d := range got.Decisions {
				if cap(d.Parts) != len(d.Parts) {
					t.Fatalf("%s: parts have room after them (%d of %d)", d.Code, len(d.Parts), cap(d.Parts))
				}
				all = append(all, kept{d.Parts, append([]basket.Part(nil), d.Parts...)})
			}
			if rapid.Bool().Draw(t, "reset") {
				s.Reset()
			}
		}
		for _, k := range all {
			if !reflect.DeepEqual(k.parts, k.want) {
				t.Fatalf("parts changed by a later call: %+v, were %+v", k.parts, k.want)
			}
		}
	})
}
