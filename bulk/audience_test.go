package bulk_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/bulk"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
)

// members lists a series' whole audience list.
func (v *env) members(seriesID string) []string {
	v.t.Helper()
	var out []string
	req := couponkit.AudienceListRequest{SeriesID: seriesID, Limit: couponkit.MaxAudiencePage}
	for {
		page, err := v.e.ListAudience(v.ctx, req)
		if err != nil {
			v.t.Fatalf("ListAudience: %v", err)
		}
		for _, m := range page.Members {
			out = append(out, m.Customer)
		}
		if page.Next == "" {
			return out
		}
		req.After = page.Next
	}
}

// audienceKinds lists the audience events of a customer's history.
func (v *env) audienceKinds(seriesID, customer string) []coupon.EventKind {
	v.t.Helper()
	evs, err := v.e.CustomerHistory(v.ctx, couponkit.ByID(customer), seriesID)
	if err != nil {
		v.t.Fatalf("CustomerHistory: %v", err)
	}
	var out []coupon.EventKind
	for _, ev := range evs {
		if ev.Kind == coupon.EventAudienceAdded || ev.Kind == coupon.EventAudienceRemoved {
			out = append(out, ev.Kind)
		}
	}
	return out
}

// Adding and removing audience members from files: rows apply in order
// across batches, a repeated customer is unchanged, bad rows are rejected
// with row, identifier and reason, and each change is in the customer's
// history once.
func TestAudienceFiles(t *testing.T) {
	v := newEnv(t)
	id := v.create(generated(func(s *series.Series) { s.Issuance.AudienceOnly = true }))
	add := file("customer_id,mobile", "alice,", ",+4470000002", "nobody,", "alice,", ",", "carol,", "bob,+4470000002")
	rep, err := bulk.AddAudienceFile(v.ctx, v.e, id, strings.NewReader(add), bulk.Options{BatchSize: 2, Actor: "crm"})
	if err != nil {
		t.Fatal(err)
	}
	checkSums(t, rep)
	if rep.Op != bulk.OpAudienceAdd || rep.Applied != 3 || rep.Unchanged != 1 || rep.Rejected != 3 || rep.LastApplied != 6 {
		t.Errorf("report %+v", rep)
	}
	want := []bulk.Rejection{
		{Row: 3, Line: 4, Identifier: "nobody", Code: errcode.UnknownCustomer},
		{Row: 5, Line: 6, Identifier: "", Code: errcode.InvalidArgument},
		{Row: 7, Line: 8, Identifier: "bob mobile:+4470000002", Code: errcode.InvalidArgument},
	}
	if d := cmp.Diff(want, rep.Rejections, cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Reason" }, cmp.Ignore())); d != "" {
		t.Errorf("rejections (-want +got):\n%s", d)
	}
	for _, x := range rep.Rejections {
		if x.Reason == "" {
			t.Errorf("row %d: a rejection says why", x.Row)
		}
	}
	if got := v.members(id); !slices.Equal(got, []string{"alice", "bob", "carol"}) {
		t.Errorf("members %v", got)
	}
	if got := v.audienceKinds(id, "alice"); !slices.Equal(got, []coupon.EventKind{coupon.EventAudienceAdded}) {
		t.Errorf("alice, named twice, has one AudienceAdded event: %v", got)
	}
	if !strings.Contains(rep.String(), "3 added, 1 already on the list, 3 rejected") {
		t.Errorf("summary %q", rep.String())
	}
	if _, err := v.e.Issue(v.ctx, couponkit.IssueRequest{SeriesID: id, Customer: couponkit.ByID("carol")}); err != nil {
		t.Errorf("a customer the file added may be issued to: %v", err)
	}

	// The same file again changes nothing.
	rep, err = bulk.AddAudienceFile(v.ctx, v.e, id, strings.NewReader(add), bulk.Options{})
	if err != nil || rep.Applied != 0 || rep.Unchanged != 4 || rep.Rejected != 3 {
		t.Errorf("again: %+v, %v", rep, err)
	}

	remove := file("email", "carol@example.com", "carol@example.com", "alice@example.com", "nobody@example.com")
	rep, err = bulk.RemoveAudienceFile(v.ctx, v.e, id, strings.NewReader(remove), bulk.Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkSums(t, rep)
	if rep.Op != bulk.OpAudienceRemove || rep.Applied != 2 || rep.Unchanged != 1 || rep.Rejected != 1 {
		t.Errorf("remove: %+v", rep)
	}
	if d := cmp.Diff(map[int]errcode.Code{4: errcode.UnknownCustomer}, rejected(rep)); d != "" {
		t.Errorf("rejected (-want +got):\n%s", d)
	}
	if got := v.members(id); !slices.Equal(got, []string{"bob"}) {
		t.Errorf("members after removing %v", got)
	}
	if got := v.audienceKinds(id, "carol"); !slices.Equal(got, []coupon.EventKind{coupon.EventAudienceAdded, coupon.EventAudienceRemoved}) {
		t.Errorf("carol's audience history: %v", got)
	}
	_, err = v.e.Issue(v.ctx, couponkit.IssueRequest{SeriesID: id, Customer: couponkit.ByID("alice")})
	if !errors.Is(err, &errcode.Error{Code: limits.NotInAudience.Code()}) {
		t.Errorf("a customer the file removed is refused: %v", err)
	}
}

// A batch larger than one engine request holds is sent as several
// requests, in order.
func TestAudienceFileLargeBatch(t *testing.T) {
	v := newEnv(t)
	id := v.create(generated())
	n := couponkit.MaxAudienceChange + 500
	v.addCustomers(n)
	rows := make([]string, n+1)
	for i := range n {
		rows[i] = fmt.Sprintf("c%07d", i)
	}
	rows[n] = rows[0] // a repeat, in the second request
	rep, err := bulk.AddAudienceFile(v.ctx, v.e, id, strings.NewReader(file("id", rows...)), bulk.Options{BatchSize: n + 1})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Applied != n || rep.Unchanged != 1 || rep.LastApplied != n {
		t.Errorf("report %+v", rep)
	}
	if got := len(v.members(id)); got != n {
		t.Errorf("%d members, want %d", got, n)
	}
}
