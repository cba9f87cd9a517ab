package bulk_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"pgregory.net/rapid"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/bulk"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/memstore"
	"github.com/couponkit/couponkit/store/sqlite"
)

// stores are the stores the idempotency tests of files run on.
var stores = []struct {
	name string
	open func(t *testing.T) store.Store
}{
	{"memstore", func(*testing.T) store.Store { return memstore.New() }},
	{"sqlite", func(t *testing.T) store.Store {
		st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "bulk.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		if err := st.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		return st
	}},
}

// onlyReader hides every method of a reader but Read: a file that cannot
// seek, as a pipe or an upload stream.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// held returns how many coupons of the series each of alice, bob and carol
// holds.
func (v *env) heldAll(seriesID string) [3]int {
	var out [3]int
	for i, c := range []string{"alice", "bob", "carol"} {
		out[i] = v.held(seriesID, couponkit.ByID(c))
	}
	return out
}

// An issue file run twice issues each row once: the second run replays the
// rows the first issued, whatever names the rows (the file's content, read
// by seeking or from a copy; a FileID; a key column), on memstore and
// SQLite. Rows the rules refused are refused again.
func TestIssueFileTwice(t *testing.T) {
	rows := []string{"alice", "bob", "alice", "carol", "alice", "ghost"}
	keyed := make([]string, len(rows))
	for i, r := range rows {
		keyed[i] = fmt.Sprintf("%s,crm-%d", r, i)
	}
	for _, st := range stores {
		for _, mode := range []struct {
			name   string
			file   string
			opts   func(run int) bulk.Options
			reader func(string) io.Reader
		}{
			{"content, seekable", file("customer_id", rows...), func(int) bulk.Options { return bulk.Options{BatchSize: 2} },
				func(s string) io.Reader { return strings.NewReader(s) }},
			{"content, not seekable", file("customer_id", rows...), func(int) bulk.Options { return bulk.Options{BatchSize: 2, TempDir: t.TempDir()} },
				func(s string) io.Reader { return onlyReader{strings.NewReader(s)} }},
			{"FileID", file("customer_id", rows...), func(int) bulk.Options { return bulk.Options{FileID: "campaign-7"} },
				func(s string) io.Reader { return onlyReader{strings.NewReader(s)} }},
			// The key column names the rows: the same keys under another
			// FileID replay.
			{"key column", file("customer_id,idempotency_key", keyed...), func(run int) bulk.Options { return bulk.Options{FileID: fmt.Sprint("run-", run)} },
				func(s string) io.Reader { return strings.NewReader(s) }},
		} {
			t.Run(st.name+"/"+mode.name, func(t *testing.T) {
				v := newEnvOn(t, st.open(t))
				id := v.create(generated(func(s *series.Series) { s.Issuance.MaxPerCustomer = 2 }))
				first, err := bulk.IssueFile(v.ctx, v.e, id, mode.reader(mode.file), mode.opts(1))
				if err != nil {
					t.Fatal(err)
				}
				wantRejected := map[int]errcode.Code{5: 1221, 6: errcode.UnknownCustomer}
				if first.Applied != 4 || first.Replayed != 0 || !equalRejections(first, wantRejected) {
					t.Fatalf("first run: %+v, rejected %v", first, rejected(first))
				}
				held := v.heldAll(id)
				second, err := bulk.IssueFile(v.ctx, v.e, id, mode.reader(mode.file), mode.opts(2))
				if err != nil {
					t.Fatal(err)
				}
				checkSums(t, second)
				if second.Applied != 0 || second.Replayed != 4 || second.Unchanged != 4 || !equalRejections(second, wantRejected) {
					t.Errorf("second run: want the 4 rows issued replayed and the same 2 rejected: %+v, rejected %v", second, rejected(second))
				}
				if n := v.issued(id); n != 4 || v.heldAll(id) != held {
					t.Errorf("after the second run: issued %d, held %v; want 4 and %v", n, v.heldAll(id), held)
				}
			})
		}
	}
}

func equalRejections(r *bulk.Report, want map[int]errcode.Code) bool {
	got := rejected(r)
	if len(got) != len(want) {
		return false
	}
	for row, c := range want {
		if got[row] != c {
			return false
		}
	}
	return true
}

// A key column whose key an earlier row issued to another customer rejects
// the row with KeyMismatch; a row without a key cell gets the file's key.
func TestIssueFileKeyColumn(t *testing.T) {
	v := newEnv(t)
	id := v.create(generated())
	f := file("customer_id,key", "alice,k1", "bob,k1", "carol,", "alice,k1")
	rep, err := bulk.IssueFile(v.ctx, v.e, id, strings.NewReader(f), bulk.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Applied != 2 || rep.Replayed != 1 || !equalRejections(rep, map[int]errcode.Code{2: errcode.KeyMismatch}) {
		t.Errorf("alice issued, bob refused with alice's key, carol issued with the file's key, alice's key again replayed: %+v %v", rep, rejected(rep))
	}
	again, err := bulk.IssueFile(v.ctx, v.e, id, strings.NewReader(f), bulk.Options{})
	if err != nil || again.Applied != 0 || again.Replayed != 3 || v.issued(id) != 2 {
		t.Errorf("the file again issues nothing: %+v, %v, issued %d", again, err, v.issued(id))
	}
}

// lossyStore loses the reply of its lose-th Apply: the change is written
// and the caller told the store failed, as when a process is killed
// between a batch's commit and the report of it.
type lossyStore struct {
	store.Store
	lose, n atomic.Int32
}

func (s *lossyStore) Apply(ctx context.Context, c *store.Change) error {
	err := s.Store.Apply(ctx, c)
	if n := s.n.Add(1); err == nil && n == s.lose.Load() {
		return errcode.New(errcode.Unavailable, "", "the reply of a committed change was lost")
	}
	return err
}

// A run that stops after a batch was committed but before the run knew it
// is resumed by running the file again, from the start or from a stale
// SkipRows: every row is issued exactly once, without trusting a saved
// counter.
func TestIssueFileResumeAfterLostCommit(t *testing.T) {
	const n = 50
	rows := make([]string, n)
	for i := range rows {
		rows[i] = fmt.Sprintf("c%07d", i)
	}
	f := file("customer_id", rows...)
	for _, st := range stores {
		for _, skip := range []int{0, 10} {
			t.Run(fmt.Sprintf("%s/SkipRows %d", st.name, skip), func(t *testing.T) {
				ls := &lossyStore{Store: st.open(t)}
				v := newEnvOn(t, ls)
				v.addCustomers(n)
				id := v.create(generated(func(s *series.Series) { s.Issuance.MaxPerCustomer = 5 }))
				ls.lose.Store(ls.n.Load() + 2) // the second batch
				rep, err := bulk.IssueFile(v.ctx, v.e, id, strings.NewReader(f), bulk.Options{BatchSize: 20})
				if errcode.CodeOf(err) != errcode.Unavailable || rep.Done() != 20 {
					t.Fatalf("the run stops at the batch whose commit it did not learn of: %v, done %d", err, rep.Done())
				}
				if got := v.issued(id); got != 40 {
					t.Fatalf("two batches were committed: issued %d", got)
				}
				rep, err = bulk.IssueFile(v.ctx, v.e, id, strings.NewReader(f), bulk.Options{BatchSize: 20, SkipRows: skip})
				if err != nil {
					t.Fatal(err)
				}
				if rep.Applied != n-40 || rep.Replayed != 40-skip || v.issued(id) != n {
					t.Errorf("the run again: applied %d, replayed %d, issued %d; want %d, %d, %d", rep.Applied, rep.Replayed, v.issued(id), n-40, 40-skip, n)
				}
				for _, c := range rows {
					if h := v.held(id, couponkit.ByID(c)); h != 1 {
						t.Fatalf("customer %s holds %d coupons, want 1", c, h)
					}
				}
			})
		}
	}
}

// Any prefix of a file applied (a run stopped after it, or the prefix run
// under the file's FileID), then the whole file: every row is issued
// exactly once, as by one run of the whole file.
func TestIssueFilePrefixThenWhole(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := generated(func(s *series.Series) {
			s.Issuance.MaxPerCustomer = limits.Limit(rapid.IntRange(0, 3).Draw(t, "perCustomer"))
			s.Issuance.MaxTotal = limits.Limit(rapid.IntRange(0, 8).Draw(t, "total"))
			if rapid.Bool().Draw(t, "sendExisting") {
				s.Issuance.OnQualifyAgain = series.SendExisting
			}
		})
		who := rapid.SliceOfN(rapid.SampledFrom([]string{"alice", "bob", "carol", "ghost"}), 0, 20).Draw(t, "rows")
		f := file("customer_id", who...)
		batch := rapid.IntRange(1, 6).Draw(t, "batch")
		k := rapid.IntRange(0, len(who)).Draw(t, "prefix")
		byFileID := rapid.Bool().Draw(t, "byFileID")

		ref := newEnv(t)
		refID := ref.create(s)
		whole, err := bulk.IssueFile(ref.ctx, ref.e, refID, strings.NewReader(f), bulk.Options{BatchSize: batch})
		if err != nil {
			t.Fatal(err)
		}

		v := newEnv(t)
		id := v.create(s)
		var prefix *bulk.Report
		opts := bulk.Options{BatchSize: batch}
		if byFileID {
			opts.FileID = "the-file"
			prefix, err = bulk.IssueFile(v.ctx, v.e, id, strings.NewReader(file("customer_id", who[:k]...)), opts)
		} else {
			// The run stops after the batch that reaches row k.
			ctx, cancel := context.WithCancel(v.ctx)
			stop := opts
			stop.Progress = func(p bulk.Progress) {
				if p.Done >= k {
					cancel()
				}
			}
			if k == 0 {
				cancel()
			}
			prefix, err = bulk.IssueFile(ctx, v.e, id, strings.NewReader(f), stop)
			cancel()
		}
		if err != nil && err != context.Canceled {
			t.Fatal(err)
		}
		rest, err := bulk.IssueFile(v.ctx, v.e, id, strings.NewReader(f), opts)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := v.issued(id), ref.issued(refID); got != want {
			t.Fatalf("issued %d after a prefix of %d rows and the whole file, %d by one run", got, prefix.Done(), want)
		}
		if a, b := v.heldAll(id), ref.heldAll(refID); a != b {
			t.Fatalf("customers hold %v, %v by one run", a, b)
		}
		if prefix.Applied+rest.Applied != whole.Applied || rest.Replayed != prefix.Applied {
			t.Fatalf("prefix applied %d, then applied %d and replayed %d; one run applied %d", prefix.Applied, rest.Applied, rest.Replayed, whole.Applied)
		}
	})
}

// An upload file with customers run twice issues each code once: the rows
// with customers replay the second time (without keys the second run
// would be refused by the customer's maximum), and codes alone stay.
func TestUploadFileTwice(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			v := newEnvOn(t, st.open(t))
			id := v.create(uploaded(func(s *series.Series) { s.Issuance.MaxPerCustomer = 1 }))
			f := file("code,customer_id", "U-1,alice", "U-2,bob", "U-3,")
			for run, want := range []struct{ applied, replayed int }{{3, 0}, {1, 2}} {
				rep, err := bulk.UploadFile(v.ctx, v.e, id, onlyReader{strings.NewReader(f)}, bulk.Options{})
				if err != nil {
					t.Fatal(err)
				}
				checkSums(t, rep)
				if rep.Applied != want.applied || rep.Replayed != want.replayed || rep.Rejected != 0 {
					t.Errorf("run %d: %+v, want applied %d, replayed %d (rejected %v)", run+1, rep, want.applied, want.replayed, rejected(rep))
				}
			}
			if n := v.issued(id); n != 2 || v.heldAll(id) != [3]int{1, 1, 0} {
				t.Errorf("issued %d, held %v", n, v.heldAll(id))
			}
		})
	}
}

// The temporary copy of a file that cannot seek is removed when the run
// ends, whether it was applied or refused.
func TestTemporaryCopyRemoved(t *testing.T) {
	v := newEnv(t)
	id := v.create(generated())
	dir := t.TempDir()
	for _, f := range []string{file("customer_id", "alice", "bob"), "customer_id\nal\"ice\n"} {
		_, _ = bulk.IssueFile(v.ctx, v.e, id, onlyReader{strings.NewReader(f)}, bulk.Options{TempDir: dir})
		if left, err := os.ReadDir(dir); err != nil || len(left) != 0 {
			t.Errorf("after a run of %q: %v left in the temporary directory (%v)", f, left, err)
		}
	}
	if v.issued(id) != 2 {
		t.Errorf("issued %d, want 2", v.issued(id))
	}
}

// A FileID whose rows' keys could not be idempotency keys is refused
// before anything is read or issued.
func TestFileIDChecked(t *testing.T) {
	v := newEnv(t)
	id := v.create(generated())
	for _, fileID := range []string{strings.Repeat("f", bulk.MaxFileIDBytes+1), "tab\tid"} {
		rep, err := bulk.IssueFile(v.ctx, v.e, id, strings.NewReader(file("customer_id", "alice")), bulk.Options{FileID: fileID})
		var ce *errcode.Error
		if !errors.As(err, &ce) || ce.Code != errcode.InvalidArgument || ce.Field != "FileID" || rep.Done() != 0 {
			t.Errorf("FileID %q: %v, done %d; want InvalidArgument on FileID, nothing done", fileID, err, rep.Done())
		}
	}
	rep, err := bulk.IssueFile(v.ctx, v.e, id, strings.NewReader(file("customer_id", "alice")), bulk.Options{FileID: strings.Repeat("f", bulk.MaxFileIDBytes)})
	if err != nil || rep.Applied != 1 {
		t.Errorf("the longest FileID: %+v, %v", rep, err)
	}
	if v.issued(id) != 1 {
		t.Errorf("issued %d, want 1", v.issued(id))
	}
}
