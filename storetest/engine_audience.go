package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// audienceTests drive audience lists through the engine: adding and
// removing members, their history events, the no-op rule, paging, and
// concurrent adds of the same customers.
var audienceTests = []test{
	{"AddRemoveWithEvents", testAudienceAddRemove},
	{"GatesIssuance", testAudienceGatesIssue},
	{"RequestErrors", testAudienceErrors},
	{"ListPages", testAudienceList},
	{"ConcurrentAddsOneEvent", testAudienceConcurrent},
}

func refs(ids ...string) []couponkit.CustomerRef {
	out := make([]couponkit.CustomerRef, len(ids))
	for i, id := range ids {
		out[i] = couponkit.ByID(id)
	}
	return out
}

// audienceEvents returns the audience events of a customer's history in a
// series.
func (e *env) audienceEvents(customer, seriesID string) []coupon.Event {
	e.t.Helper()
	var out []coupon.Event
	for _, ev := range e.customerHistory(customer, seriesID) {
		if ev.Kind == coupon.EventAudienceAdded || ev.Kind == coupon.EventAudienceRemoved {
			out = append(out, ev)
		}
	}
	return out
}

func testAudienceAddRemove(t *testing.T, e *env) {
	s := e.gen("audience")
	res, err := e.e.AddAudience(e.ctx, couponkit.AudienceRequest{
		SeriesID: s.ID, Actor: "ops", Reason: "vip list",
		Customers: []couponkit.CustomerRef{
			couponkit.ByID(alice), {Mobile: "+4470000002"}, {Email: "nobody@example.com"}, couponkit.ByID(alice), {},
		},
	})
	if !wantOK(t, err, "adding customers to the audience list") {
		return
	}
	if res.Changed != 2 || res.Unchanged != 1 || res.Failed != 2 || len(res.Outcomes) != 5 {
		t.Errorf("result: 2 added (alice, bob by mobile), 1 unchanged (alice again), 2 failed; got %+v", res)
	}
	wantOutcome := func(i int, customer string, changed bool, code errcode.Code) {
		t.Helper()
		o := res.Outcomes[i]
		if o.Customer != customer || o.Changed != changed || errcode.CodeOf(o.Err) != code {
			t.Errorf("outcome %d: %+v; want customer %q, changed %v, error code %d", i, o, customer, changed, code)
		}
	}
	wantOutcome(0, alice, true, 0)
	wantOutcome(1, bob, true, 0)
	wantOutcome(2, "", false, errcode.UnknownCustomer)
	wantOutcome(3, alice, false, 0)
	wantOutcome(4, "", false, errcode.InvalidArgument)
	same(t, e.members(s.ID), []store.AudienceMember{{Customer: alice, AddedAt: t0}, {Customer: bob, AddedAt: t0}},
		"the list holds the customers added, ordered by id, with the time they were added")
	evs := e.audienceEvents(alice, s.ID)
	same(t, evs, []coupon.Event{{ID: evs0ID(evs), Kind: coupon.EventAudienceAdded, SeriesID: s.ID, Customer: alice, Actor: "ops", Reason: "vip list", At: t0}},
		"adding a customer appends one AudienceAdded event to its history, with actor and reason; naming it twice adds one")

	e.clk.Advance(time.Hour)
	res, err = e.e.AddAudience(e.ctx, couponkit.AudienceRequest{SeriesID: s.ID, Customers: refs(alice, carol)})
	if wantOK(t, err, "adding again") && (res.Changed != 1 || res.Unchanged != 1) {
		t.Errorf("a customer already on the list is unchanged: %+v", res)
	}
	if n := len(e.audienceEvents(alice, s.ID)); n != 1 {
		t.Errorf("adding a customer already on the list appends no event: %d audience events", n)
	}
	same(t, e.members(s.ID)[0], store.AudienceMember{Customer: alice, AddedAt: t0}, "adding a member again keeps the time it was added")

	res, err = e.e.RemoveAudience(e.ctx, couponkit.AudienceRequest{SeriesID: s.ID, Customers: refs(bob, dave), Actor: "ops"})
	if wantOK(t, err, "removing customers") && (res.Changed != 1 || res.Unchanged != 1) {
		t.Errorf("bob is removed, dave (not on the list) is unchanged: %+v", res)
	}
	same(t, memberIDs(e.members(s.ID)), []string{alice, carol}, "a removed customer leaves the list")
	if k := kinds(e.audienceEvents(bob, s.ID)); !slices.Equal(k, []coupon.EventKind{coupon.EventAudienceAdded, coupon.EventAudienceRemoved}) {
		t.Errorf("removing a customer appends an AudienceRemoved event: %v", k)
	}
	if n := len(e.audienceEvents(dave, s.ID)); n != 0 {
		t.Errorf("removing a customer not on the list appends no event: %d", n)
	}
	res, err = e.e.RemoveAudience(e.ctx, couponkit.AudienceRequest{SeriesID: s.ID, Customers: refs(bob)})
	if wantOK(t, err, "removing again") && res.Unchanged != 1 {
		t.Errorf("removing a customer twice is a no-op the second time: %+v", res)
	}
	if n := len(e.audienceEvents(bob, s.ID)); n != 2 {
		t.Errorf("a no-op removal appends no event: %d audience events", n)
	}
}

// evs0ID is the id of the first event, which the engine chose.
func evs0ID(evs []coupon.Event) string {
	if len(evs) == 0 {
		return ""
	}
	return evs[0].ID
}

func testAudienceGatesIssue(t *testing.T, e *env) {
	s := e.gen("audience only", func(s *series.Series) { s.Issuance.AudienceOnly = true })
	_, err := e.e.Issue(e.ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID(alice)})
	wantDenied(t, err, reasons(limits.NotInAudience), "an audience-only series refuses a customer not on its list")
	_, err = e.e.AddAudience(e.ctx, couponkit.AudienceRequest{SeriesID: s.ID, Customers: refs(alice)})
	mustOK(t, err, "AddAudience")
	_, err = e.e.Issue(e.ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID(alice)})
	wantOK(t, err, "a customer added to the list may be issued to")
	_, err = e.e.RemoveAudience(e.ctx, couponkit.AudienceRequest{SeriesID: s.ID, Customers: refs(alice)})
	mustOK(t, err, "RemoveAudience")
	_, err = e.e.Issue(e.ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID(alice)})
	wantDenied(t, err, reasons(limits.NotInAudience), "a customer removed from the list is refused again")
}

func testAudienceErrors(t *testing.T, e *env) {
	s := e.gen("errors")
	_, err := e.e.AddAudience(e.ctx, couponkit.AudienceRequest{Customers: refs(alice)})
	wantCode(t, err, errcode.InvalidArgument, "an audience request without a series")
	_, err = e.e.RemoveAudience(e.ctx, couponkit.AudienceRequest{SeriesID: "no-such-series", Customers: refs(alice)})
	wantCode(t, err, errcode.NotFound, "an audience request for an unknown series")
	many := make([]couponkit.CustomerRef, couponkit.MaxAudienceChange+1)
	for i := range many {
		many[i] = couponkit.ByID(fmt.Sprintf("c%05d", i))
	}
	_, err = e.e.AddAudience(e.ctx, couponkit.AudienceRequest{SeriesID: s.ID, Customers: many})
	wantCode(t, err, errcode.TooMany, "an audience request with more than MaxAudienceChange customers")
	if ms := e.members(s.ID); len(ms) != 0 {
		t.Errorf("a refused request changes nothing: %d members", len(ms))
	}
	for _, bad := range []couponkit.AudienceListRequest{{}, {SeriesID: s.ID, Limit: -1}, {SeriesID: s.ID, Limit: couponkit.MaxAudiencePage + 1}} {
		_, err = e.e.ListAudience(e.ctx, bad)
		wantCode(t, err, errcode.InvalidArgument, "ListAudience(%+v)", bad)
	}
	_, err = e.e.ListAudience(e.ctx, couponkit.AudienceListRequest{SeriesID: "no-such-series"})
	wantCode(t, err, errcode.NotFound, "listing the audience of an unknown series")
}

func testAudienceList(t *testing.T, e *env) {
	s := e.gen("list")
	other := e.gen("other")
	ids := []string{"c05", "c01", "c04", "c02", "c03"}
	e.addCustomers(append(ids, "c00")...)
	_, err := e.e.AddAudience(e.ctx, couponkit.AudienceRequest{SeriesID: s.ID, Customers: refs(ids...)})
	mustOK(t, err, "AddAudience")
	_, err = e.e.AddAudience(e.ctx, couponkit.AudienceRequest{SeriesID: other.ID, Customers: refs("c00")})
	mustOK(t, err, "AddAudience to another series")
	var got []string
	pages := 0
	for req := (couponkit.AudienceListRequest{SeriesID: s.ID, Limit: 2}); ; pages++ {
		page, err := e.e.ListAudience(e.ctx, req)
		if !wantOK(t, err, "ListAudience(%+v)", req) || pages > 5 {
			return
		}
		got = append(got, memberIDs(page.Members)...)
		if page.Next == "" {
			break
		}
		req.After = page.Next
	}
	same(t, got, []string{"c01", "c02", "c03", "c04", "c05"}, "paging through the list yields every member once, ordered by id, and only this series'")
	if pages != 2 {
		t.Errorf("five members in pages of two are three pages, the last without Next: %d pages before the last", pages)
	}
	page, err := e.e.ListAudience(e.ctx, couponkit.AudienceListRequest{SeriesID: s.ID, Limit: 5})
	if wantOK(t, err, "a page holding exactly the rest") && (len(page.Members) != 5 || page.Next != "") {
		t.Errorf("a page that holds the whole list has no Next: %d members, Next %q", len(page.Members), page.Next)
	}
}

// testAudienceConcurrent races engines adding the same customers: each
// customer ends up on the list once, with exactly one AudienceAdded event,
// and the results count each addition once.
func testAudienceConcurrent(t *testing.T, e *env) {
	s := e.gen("race")
	const workers, customers = 8, 20
	ids := make([]string, customers)
	for i := range ids {
		ids[i] = fmt.Sprintf("r%02d", i)
	}
	e.addCustomers(ids...)
	var wg sync.WaitGroup
	var mu sync.Mutex
	changed := 0
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			order := slices.Clone(ids)
			if w%2 == 1 {
				slices.Reverse(order)
			}
			res, err := e.e.AddAudience(e.ctx, couponkit.AudienceRequest{SeriesID: s.ID, Customers: refs(order...)})
			if err != nil {
				t.Errorf("worker %d: AddAudience: %v", w, err)
				return
			}
			mu.Lock()
			changed += res.Changed
			mu.Unlock()
		}()
	}
	wg.Wait()
	if changed != customers {
		t.Errorf("racing adds of the same customers add each once: %d additions reported, want %d", changed, customers)
	}
	same(t, memberIDs(e.members(s.ID)), ids, "every customer is on the list once")
	evs := e.events(store.EventQuery{SeriesID: s.ID})
	per := map[string]int{}
	for _, ev := range evs {
		if ev.Kind == coupon.EventAudienceAdded {
			per[ev.Customer]++
		}
	}
	for _, id := range ids {
		if per[id] != 1 {
			t.Errorf("customer %s has %d AudienceAdded events, want exactly 1", id, per[id])
		}
	}
}
