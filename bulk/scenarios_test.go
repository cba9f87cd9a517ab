package bulk_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/bulk"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/series"
)

// upload is one file of a scenario and what it must give.
type upload struct {
	file    string
	applied int
	reject  map[int]errcode.Code // row -> reason code
}

// Issuing from files of customers applies the series' issuance rules row
// by row, in order, and rejects each row a rule refuses with its code: each
// scenario uploads files of customers in turn to one series, several rows
// for one customer, and files that repeat earlier ones. Each upload is a
// new one, with its own FileID: the same bytes uploaded again are issued
// again (under the same FileID they would replay instead).
func TestIssueFileScenarios(t *testing.T) {
	four := file("customer_id", repeat("alice", 4)...)
	one := file("customer_id", "alice")
	tests := []struct {
		name   string
		series series.Series
		files  []upload
	}{
		{
			name:   "maximum 3 per customer, no gap, no series maximum",
			series: generated(func(s *series.Series) { s.Issuance.MaxPerCustomer = 3 }),
			files: []upload{
				{four, 3, map[int]errcode.Code{4: 1221}},                            // four rows issue three and reject one
				{four, 0, map[int]errcode.Code{1: 1221, 2: 1221, 3: 1221, 4: 1221}}, // the same file again rejects all four
				{one, 0, map[int]errcode.Code{1: 1221}},                             // the file with one entry is rejected too
			},
		},
		{
			name: "maximum 3 per customer, a gap of one day",
			series: generated(func(s *series.Series) {
				s.Issuance.MaxPerCustomer = 3
				s.Issuance.MinGap = 24 * time.Hour
			}),
			files: []upload{{four, 1, map[int]errcode.Code{2: 1222, 3: 1222, 4: 1222}}},
		},
		{
			name:   "no maximum per customer, series maximum 2",
			series: generated(func(s *series.Series) { s.Issuance.MaxTotal = 2 }),
			files:  []upload{{four, 2, map[int]errcode.Code{3: 1223, 4: 1223}}},
		},
		{
			name:   "generic (common) code",
			series: common("SALE20"),
			files: []upload{
				{four, 1, map[int]errcode.Code{2: 1224, 3: 1224, 4: 1224}},          // a second common code to one customer is rejected
				{four, 0, map[int]errcode.Code{1: 1224, 2: 1224, 3: 1224, 4: 1224}}, // the same file again rejects all four
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := newEnv(t)
			id := v.create(tc.series)
			total := 0
			for i, f := range tc.files {
				rep, err := bulk.IssueFile(v.ctx, v.e, id, strings.NewReader(f.file), bulk.Options{FileID: fmt.Sprintf("upload-%d", i)})
				if err != nil {
					t.Fatalf("file %d: %v", i+1, err)
				}
				checkSums(t, rep)
				if rep.Applied != f.applied {
					t.Errorf("file %d: %d issued, want %d", i+1, rep.Applied, f.applied)
				}
				if d := cmp.Diff(f.reject, rejected(rep)); d != "" {
					t.Errorf("file %d: rejected rows (-want +got):\n%s", i+1, d)
				}
				for _, x := range rep.Rejections {
					if x.Identifier != "alice" || x.Reason == "" {
						t.Errorf("file %d: rejection %+v lacks the identifier or reason", i+1, x)
					}
				}
				total += f.applied
			}
			if n := v.held(id, couponkit.ByID("alice")); n != total {
				t.Errorf("alice holds %d coupons, want %d", n, total)
			}
		})
	}
}

// The same scenarios when the file uploads existing codes with their
// customers: each code joins the pool, and is issued to its customer under
// the same rules. Each upload has its own FileID.
func TestUploadFileScenarios(t *testing.T) {
	four := file("code,customer_id", "F-1,alice", "F-2,alice", "F-3,alice", "F-4,alice")
	tests := []struct {
		name   string
		series series.Series
		files  []upload
	}{
		{
			name:   "maximum 3 per customer",
			series: uploaded(func(s *series.Series) { s.Issuance.MaxPerCustomer = 3 }),
			files: []upload{
				{four, 3, map[int]errcode.Code{4: 1221}},
				{four, 0, map[int]errcode.Code{1: 1221, 2: 1221, 3: 1221, 4: 1221}},
				{file("code,customer_id", "F-5,alice"), 0, map[int]errcode.Code{1: 1221}},
			},
		},
		{
			name: "a gap of one day",
			series: uploaded(func(s *series.Series) {
				s.Issuance.MaxPerCustomer = 3
				s.Issuance.MinGap = 24 * time.Hour
			}),
			files: []upload{{four, 1, map[int]errcode.Code{2: 1222, 3: 1222, 4: 1222}}},
		},
		{
			name:   "series maximum 2",
			series: uploaded(func(s *series.Series) { s.Issuance.MaxTotal = 2 }),
			files:  []upload{{four, 2, map[int]errcode.Code{3: 1223, 4: 1223}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := newEnv(t)
			id := v.create(tc.series)
			for i, f := range tc.files {
				rep, err := bulk.UploadFile(v.ctx, v.e, id, strings.NewReader(f.file), bulk.Options{FileID: fmt.Sprintf("upload-%d", i)})
				if err != nil {
					t.Fatalf("file %d: %v", i+1, err)
				}
				checkSums(t, rep)
				if rep.Applied != f.applied {
					t.Errorf("file %d: %d accepted, want %d", i+1, rep.Applied, f.applied)
				}
				if d := cmp.Diff(f.reject, rejected(rep)); d != "" {
					t.Errorf("file %d: rejected rows (-want +got):\n%s", i+1, d)
				}
			}
		})
	}
}

// An invalid customer identifier of each kind (user id, email, mobile,
// external id) rejects its row; the valid rows are issued.
func TestInvalidIdentifiers(t *testing.T) {
	v := newEnv(t)
	id := v.create(generated())
	f := file("customer_id,mobile,email,external_id",
		"alice,,,",             // 1 ok
		"nobody,,,",            // 2 unknown id
		",+4400000000,,",       // 3 unknown mobile
		",,nobody@x.org,",      // 4 unknown email
		",,,EXT-NONE",          // 5 unknown external id
		",+4470000002,,",       // 6 ok (bob by mobile)
		",,,",                  // 7 no identifier
		"carol,+4470000003,,",  // 8 two identifiers
		",,ALICE@example.com,", // 9 ok (emails ignore case)
		",,,EXT-C",             // 10 ok
	)
	rep, err := bulk.IssueFile(v.ctx, v.e, id, strings.NewReader(f), bulk.Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkSums(t, rep)
	want := map[int]errcode.Code{
		2: errcode.UnknownCustomer, 3: errcode.UnknownCustomer, 4: errcode.UnknownCustomer, 5: errcode.UnknownCustomer,
		7: errcode.InvalidArgument, 8: errcode.InvalidArgument,
	}
	if d := cmp.Diff(want, rejected(rep)); d != "" {
		t.Errorf("rejected rows (-want +got):\n%s", d)
	}
	if rep.Applied != 4 {
		t.Errorf("%d issued, want 4", rep.Applied)
	}
	ids := map[int]string{}
	for _, x := range rep.Rejections {
		ids[x.Row] = x.Identifier
	}
	wantIDs := map[int]string{2: "nobody", 3: "mobile:+4400000000", 4: "email:nobody@x.org", 5: "external:EXT-NONE", 7: "", 8: "carol mobile:+4470000003"}
	if d := cmp.Diff(wantIDs, ids); d != "" {
		t.Errorf("identifiers (-want +got):\n%s", d)
	}
}
