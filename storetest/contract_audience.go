package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/store"
)

// The store contract of audience lists: Apply's audience updates, in order
// and all or nothing, and the paged list read.

// members reads the whole audience list of a series from the store.
func (e *env) members(seriesID string) []store.AudienceMember {
	e.t.Helper()
	ms, err := e.st.Audience(e.ctx, store.AudienceQuery{SeriesID: seriesID})
	if err != nil {
		e.t.Fatalf("store.Audience(%s): %v", seriesID, err)
	}
	return ms
}

func memberIDs(ms []store.AudienceMember) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Customer
	}
	return out
}

func addMember(seriesID, customer string, at time.Time) store.AudienceUpdate {
	return store.AudienceUpdate{SeriesID: seriesID, Customer: customer, At: at}
}

func removeMember(seriesID, customer string) store.AudienceUpdate {
	return store.AudienceUpdate{SeriesID: seriesID, Customer: customer, Remove: true}
}

func audienceEvent(id string, kind coupon.EventKind, seriesID, customer string) coupon.Event {
	return coupon.Event{ID: id, Kind: kind, SeriesID: seriesID, Customer: customer, Actor: "ops", At: t0}
}

func testContractAudienceApply(t *testing.T, e *env) {
	e.putRawSeries("s1", "s2")
	e.apply(&store.Change{
		Audience: []store.AudienceUpdate{addMember("s1", bob, t0), addMember("s1", alice, t0.Add(time.Second)), addMember("s2", alice, t0)},
		Events: []coupon.Event{audienceEvent("ev-1", coupon.EventAudienceAdded, "s1", bob),
			audienceEvent("ev-2", coupon.EventAudienceAdded, "s1", alice)},
	})
	same(t, e.members("s1"), []store.AudienceMember{{Customer: alice, AddedAt: t0.Add(time.Second)}, {Customer: bob, AddedAt: t0}},
		"Apply adds audience members, each with its At, listed by customer")
	same(t, e.events(store.EventQuery{Customer: alice}), []coupon.Event{audienceEvent("ev-2", coupon.EventAudienceAdded, "s1", alice)},
		"an event without a coupon is in its customer's history")
	for _, tc := range []struct {
		series, customer string
		want             bool
	}{{"s1", alice, true}, {"s1", carol, false}, {"s2", alice, true}, {"s2", bob, false}} {
		in, err := e.st.InAudience(e.ctx, tc.series, tc.customer)
		if wantOK(t, err, "InAudience") && in != tc.want {
			t.Errorf("InAudience(%s, %s) = %v after Apply, want %v", tc.series, tc.customer, in, tc.want)
		}
	}
	// Removals and additions in one change.
	e.apply(&store.Change{Audience: []store.AudienceUpdate{
		removeMember("s1", alice), removeMember("s1", bob), addMember("s1", carol, t0.Add(time.Hour)),
	}})
	same(t, e.members("s1"), []store.AudienceMember{{Customer: carol, AddedAt: t0.Add(time.Hour)}},
		"a change removes and adds audience members")
	same(t, e.members("s2"), []store.AudienceMember{{Customer: alice, AddedAt: t0}}, "the lists of other series are untouched")
}

func testContractAudienceRefusals(t *testing.T, e *env) {
	e.putRawSeries("s1")
	e.apply(&store.Change{Audience: []store.AudienceUpdate{addMember("s1", alice, t0)}})
	before := e.members("s1")
	for _, tc := range []struct {
		what string
		ups  []store.AudienceUpdate
		code errcode.Code
		kind string // "exists" or "conflict"; "" for InvalidArgument
	}{
		{"adding a customer already on the list", []store.AudienceUpdate{addMember("s1", bob, t0), addMember("s1", alice, t0)}, errcode.AlreadyExists, "exists"},
		{"removing a customer not on the list", []store.AudienceUpdate{removeMember("s1", alice), removeMember("s1", bob)}, errcode.Conflict, "conflict"},
		{"an update without a series", []store.AudienceUpdate{addMember("", carol, t0)}, errcode.InvalidArgument, ""},
		{"an update without a customer", []store.AudienceUpdate{addMember("s1", "", t0)}, errcode.InvalidArgument, ""},
	} {
		err := e.st.Apply(e.ctx, &store.Change{
			Audience: tc.ups,
			Events:   []coupon.Event{audienceEvent("ev-refused", coupon.EventAudienceAdded, "s1", dave)},
		})
		wantCode(t, err, tc.code, "%s", tc.what)
		var ex *store.ExistsError
		var ce *store.ConflictError
		switch {
		case tc.kind == "exists" && (!errors.As(err, &ex) || ex.Kind != "audience"):
			t.Errorf("%s: the error is a *store.ExistsError of kind audience: %#v", tc.what, err)
		case tc.kind == "conflict" && (!errors.As(err, &ce) || ce.Kind != "audience"):
			t.Errorf("%s: the error is a *store.ConflictError of kind audience: %#v", tc.what, err)
		}
		same(t, e.members("s1"), before, "%s: a refused change writes no member", tc.what)
		if evs := e.events(store.EventQuery{Customer: dave}); len(evs) != 0 {
			t.Errorf("%s: a refused change appends no event: %v", tc.what, evs)
		}
	}
}

// testContractAudienceMany applies changes of hundreds of audience updates,
// which a store may write with multi-row statements: a refusal still names
// the member exactly and writes nothing.
func testContractAudienceMany(t *testing.T, e *env) {
	e.putRawSeries("s1")
	const n = 300
	ids := make([]string, n)
	adds := make([]store.AudienceUpdate, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("m%04d", i)
		adds[i] = addMember("s1", ids[i], t0)
	}
	e.apply(&store.Change{Audience: adds[:n/2]})
	err := e.st.Apply(e.ctx, &store.Change{Audience: append(slices.Clone(adds[n/2:]), adds[n/2-1])})
	var ex *store.ExistsError
	if !errors.As(err, &ex) || ex.Key != "s1/"+ids[n/2-1] {
		t.Errorf("adding %d customers, the last already on the list: want a *store.ExistsError with Key s1/%s, got %v", n/2+1, ids[n/2-1], err)
	}
	if got := len(e.members("s1")); got != n/2 {
		t.Errorf("the refused change adds none of its members: %d members, want %d", got, n/2)
	}
	e.apply(&store.Change{Audience: adds[n/2:]})
	same(t, memberIDs(e.members("s1")), ids, "two changes of %d additions", n/2)

	removes := make([]store.AudienceUpdate, 0, n+1)
	for i := n - 1; i >= 0; i-- {
		removes = append(removes, removeMember("s1", ids[i]))
	}
	removes = append(removes, removeMember("s1", "not-a-member"))
	err = e.st.Apply(e.ctx, &store.Change{Audience: removes})
	var ce *store.ConflictError
	if !errors.As(err, &ce) || ce.ID != "s1/not-a-member" {
		t.Errorf("removing %d members and one customer not on the list: want a *store.ConflictError with ID s1/not-a-member, got %v", n, err)
	}
	if got := len(e.members("s1")); got != n {
		t.Errorf("the refused change removes none of its members: %d members, want %d", got, n)
	}
	e.apply(&store.Change{Audience: removes[:n]})
	if got := e.members("s1"); len(got) != 0 {
		t.Errorf("removing every member empties the list: %d left", len(got))
	}
}

func testContractAudienceList(t *testing.T, e *env) {
	e.putRawSeries("s1", "s2")
	// Byte order: upper case before lower case, ASCII before the rest.
	ids := []string{"b", "B", "a", "é", "A1", "a0", "z"}
	ups := make([]store.AudienceUpdate, len(ids))
	for i, id := range ids {
		ups[i] = addMember("s1", id, t0.Add(time.Duration(i)*time.Minute))
	}
	e.apply(&store.Change{Audience: append(ups, addMember("s2", "a", t0))})
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	for _, tc := range []struct {
		q    store.AudienceQuery
		want []string
		rule string
	}{
		{store.AudienceQuery{SeriesID: "s1"}, sorted, "every member, ordered by customer byte-wise"},
		{store.AudienceQuery{SeriesID: "s1", Limit: 3}, sorted[:3], "Limit caps the page"},
		{store.AudienceQuery{SeriesID: "s1", After: sorted[2], Limit: 3}, sorted[3:6], "After starts the page after that customer"},
		{store.AudienceQuery{SeriesID: "s1", After: "a00"}, []string{"b", "z", "é"}, "After need not be a member"},
		{store.AudienceQuery{SeriesID: "s1", Customers: []string{"z", "nobody", "a", "z"}}, []string{"a", "z"}, "Customers keeps those of them on the list, once each"},
		{store.AudienceQuery{SeriesID: "s1", Customers: []string{"z", "b", "a"}, After: "a", Limit: 1}, []string{"b"}, "Customers with After and Limit"},
		{store.AudienceQuery{SeriesID: "s2"}, []string{"a"}, "the list is per series"},
		{store.AudienceQuery{SeriesID: "s9"}, nil, "a series without a list has no members"},
	} {
		got, err := e.st.Audience(e.ctx, tc.q)
		if wantOK(t, err, "Audience(%+v)", tc.q) {
			same(t, memberIDs(got), tc.want, "Audience(%+v): %s", tc.q, tc.rule)
		}
	}
	got, err := e.st.Audience(e.ctx, store.AudienceQuery{SeriesID: "s1", Customers: []string{"é"}})
	if wantOK(t, err, "Audience") {
		same(t, got, []store.AudienceMember{{Customer: "é", AddedAt: t0.Add(3 * time.Minute)}}, "a member is read back with the time it was added")
	}
}

// testContractAudience checks the deprecated Store.AddAudience, which
// stores still implement.
func testContractAudience(t *testing.T, e *env) {
	e.putRawSeries("s1", "s2")
	e.apply(&store.Change{Audience: []store.AudienceUpdate{addMember("s1", erin, t0)}})
	//lint:ignore SA1019 the deprecated method is still part of the contract
	mustOK(t, e.st.AddAudience(e.ctx, "s1", []string{alice, bob, alice}), "AddAudience with a customer twice in one call")
	//lint:ignore SA1019 the deprecated method is still part of the contract
	mustOK(t, e.st.AddAudience(e.ctx, "s1", []string{bob, carol, erin}), "AddAudience with a customer already on the list")
	same(t, e.members("s1"), []store.AudienceMember{{Customer: alice}, {Customer: bob}, {Customer: carol}, {Customer: erin, AddedAt: t0}},
		"AddAudience records no time, and leaves a member already on the list as it was")
	for _, tc := range []struct {
		series, customer string
		want             bool
		rule             string
	}{
		{"s1", alice, true, "a customer added twice in one call is on the list"},
		{"s1", bob, true, "a customer added twice is on the list"},
		{"s1", carol, true, "a customer added by a later call is on the list"},
		{"s1", dave, false, "a customer never added is not on the list"},
		{"s2", alice, false, "the audience list is per series"},
		{"s9", alice, false, "a series with no audience list has no one on it"},
	} {
		in, err := e.st.InAudience(e.ctx, tc.series, tc.customer)
		if wantOK(t, err, "InAudience(%s, %s)", tc.series, tc.customer) && in != tc.want {
			t.Errorf("InAudience(%s, %s) = %v: %s", tc.series, tc.customer, in, tc.rule)
		}
	}
}
