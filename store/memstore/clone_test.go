package memstore

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
)

// TestCloneSeriesCoversEveryReference fails when series.Series gains a
// field that can alias memory (a slice, map or pointer) which cloneSeries
// does not copy: update cloneSeries and the list below together.
func TestCloneSeriesCoversEveryReference(t *testing.T) {
	cloned := []string{"Reminders", "Issuance.ExcludeSeries", "Redemption.Hours",
		"Products.Include", "Products.Exclude", "Products.IncludeCategories", "Products.ExcludeCategories"}
	immutable := map[reflect.Type]bool{
		reflect.TypeFor[time.Time]():       true,
		reflect.TypeFor[decimal.Decimal](): true, // immutable by its API
		reflect.TypeFor[limits.PlaceSet](): true, // read-only once built
	}
	var refs []string
	var walk func(reflect.Type, string)
	walk = func(typ reflect.Type, path string) {
		if immutable[typ] {
			return
		}
		switch typ.Kind() {
		case reflect.Struct:
			for i := range typ.NumField() {
				f := typ.Field(i)
				p := f.Name
				if path != "" && !f.Anonymous {
					p = path + "." + f.Name
				} else if path != "" {
					p = path
				}
				walk(f.Type, p)
			}
		case reflect.Slice:
			refs = append(refs, path)
			walk(typ.Elem(), path+"[]") // elements with references of their own show up as extra paths
		case reflect.Array:
			walk(typ.Elem(), path+"[]")
		case reflect.Map, reflect.Pointer, reflect.Interface, reflect.Chan, reflect.Func, reflect.UnsafePointer:
			refs = append(refs, path)
		}
	}
	walk(reflect.TypeFor[series.Series](), "")
	slices.Sort(refs)
	slices.Sort(cloned)
	if !slices.Equal(refs, cloned) {
		t.Errorf("series.Series references %v; cloneSeries copies %v", refs, cloned)
	}
}
