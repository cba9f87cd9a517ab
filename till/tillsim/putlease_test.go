package tillsim

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/till"
)

// TestPutLeaseKeepsNewestAnswer: an older answer about a lease (a retried
// call answered with its first result, a duplicate delivered late) put
// after a newer one must not roll the lease back: a Returned rolled back
// would let the till spend uses it gave back. till.Journal.PutLease keeps
// only an answer with a greater Version.
func TestPutLeaseKeepsNewestAnswer(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "till.db")+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	j, err := till.Open(ctx, db, skew)
	if err != nil {
		t.Fatal(err)
	}
	granted, err := lease.New(lease.Params{ID: "l1", Till: "till-1", SeriesID: "s1", Slice: lease.Slice{Uses: 5}, End: t0.Add(time.Hour)}, t0)
	if err != nil {
		t.Fatal(err)
	}
	returned, err := granted.Return(lease.Slice{Uses: 3}, t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []lease.Lease{granted, returned, granted} { // the grant's answer arrives again, late
		if err := j.PutLease(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	left, err := j.Left(ctx, "l1")
	if err != nil {
		t.Fatal(err)
	}
	if left != 2 {
		t.Fatalf("after a return of 3 of 5 uses and a late answer of the grant, the till has %d uses left, want 2", left)
	}
}
