package bulk_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/couponkit/couponkit/bulk"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/series"
)

// A row the series' rules refuse is reported with the refusal model: each
// refusal with its stable code, rule, message and parameters (the limit
// reached and how much of it is used; the next instant the gap allows, in
// the series' time zone), on memstore and SQLite.
func TestIssueFileRejectionRefusals(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			v := newEnvOn(t, st.open(t))
			id := v.create(generated(func(s *series.Series) {
				s.TimeZone = "Europe/Berlin"
				s.Issuance.MaxPerCustomer = 2
				s.Issuance.MinGap = 24 * time.Hour
			}))
			gap := func(last time.Time, when string) refusal.Refusal {
				return refusal.Refusal{Code: 1222, Rule: refusal.IssueGap,
					Message: "Too soon after this customer's last coupon of this offer: another can be issued from " + when + ".",
					Params:  refusal.Params{NextAllowedAt: last.Add(24 * time.Hour)}}
			}

			// The second row for alice comes inside the gap, under the
			// maximum: the gap alone refuses it. The clock reads
			// 2026-11-12 10:00 UTC, 11:00 in Berlin.
			first := v.clk.now()
			rep := v.issueFile(id, "first", "alice", "alice", "bob")
			checkRefusals(t, rep, berlin, 2, "alice", gap(first, "2026-11-13 11:00 CET"))

			// A day and an hour later, alice's first row takes her second
			// coupon; the next is over her maximum and inside the gap again.
			v.clk.advance(25 * time.Hour)
			second := v.clk.now()
			rep = v.issueFile(id, "second", "alice", "alice")
			limit := refusal.Refusal{Code: 1221, Rule: refusal.CustomerIssues,
				Message: "This customer has received the most coupons of this offer allowed (2).",
				Params:  refusal.Params{Limit: 2, Used: 2}}
			checkRefusals(t, rep, berlin, 2, "alice", limit, gap(second, "2026-11-14 12:00 CET"))
		})
	}
}

// issueFile issues to a file of customer ids under the given FileID; the
// file must be well formed.
func (v *env) issueFile(seriesID, fileID string, customers ...string) *bulk.Report {
	v.t.Helper()
	rep, err := bulk.IssueFile(v.ctx, v.e, seriesID, strings.NewReader(file("customer_id", customers...)), bulk.Options{FileID: fileID})
	if err != nil {
		v.t.Fatalf("IssueFile %s: %v", fileID, err)
	}
	return rep
}

// checkRefusals checks that the report rejects exactly one row, row, of
// customer who, with the refusals want, their times in loc, and that the
// row's code and reason follow the first refusal and list them all.
func checkRefusals(t *testing.T, rep *bulk.Report, loc *time.Location, row int, who string, want ...refusal.Refusal) {
	t.Helper()
	checkSums(t, rep)
	if len(rep.Rejections) != 1 {
		t.Fatalf("want row %d rejected alone, got %+v", row, rep.Rejections)
	}
	got := rep.Rejections[0]
	if got.Row != row || got.Identifier != who {
		t.Errorf("rejected row %d of %q, want row %d of %q", got.Row, got.Identifier, row, who)
	}
	if d := cmp.Diff(want, got.Refusals); d != "" {
		t.Errorf("row %d refusals (-want +got):\n%s", row, d)
	}
	for _, r := range got.Refusals {
		if at := r.Params.NextAllowedAt; !at.IsZero() && at.Location().String() != loc.String() {
			t.Errorf("refusal %d: next allowed at %v, want it in %v", r.Code, at, loc)
		}
	}
	if got.Code != want[0].Code {
		t.Errorf("row code %d, want the first refusal's, %d", got.Code, want[0].Code)
	}
	for _, r := range want {
		if !strings.Contains(got.Reason, r.Message) {
			t.Errorf("row reason %q does not say %q", got.Reason, r.Message)
		}
	}
}
