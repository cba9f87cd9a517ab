package bulk_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/couponkit/couponkit/bulk"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/series"
)

// FuzzIssueFile: whatever the file, IssueFile does not panic; it either
// succeeds or fails with a BadFile *errcode.Error, and its report adds up.
func FuzzIssueFile(f *testing.F) {
	for _, s := range []string{
		"customer_id\nalice\nalice\nbob\n",
		"customer_id,mobile,email,external_id\nalice,,,\n,+4470000002,,\n,,carol@example.com,\n,,,EXT-A\n,,,\n",
		"id,code\nalice,ABC\n",
		"", "\uFEFF", "alice\n", "customer_id\n\"alice\n", "customer_id\nal\"ice\n", "customer_id\n\xff\n",
		"customer_id\nalice,extra\n", "Customer ID\r\n=cmd\r\n+44\r\n",
	} {
		f.Add([]byte(s), uint8(2))
	}
	// One engine per worker, renewed every envRuns runs: a fresh memory
	// store per run spent more on allocating its first blocks than on the
	// file. Each run issues from a series of its own, so runs do not meet.
	const envRuns = 1000
	var v *env
	runs := 0
	f.Fuzz(func(t *testing.T, data []byte, batch uint8) {
		if v == nil || runs == envRuns {
			v, runs = newEnv(t), 0
		}
		v.t = t
		runs++
		id := v.create(generated(func(s *series.Series) { s.Issuance.MaxPerCustomer = 2 }))
		var issues bytes.Buffer
		rep, err := bulk.IssueFile(v.ctx, v.e, id, bytes.NewReader(data), bulk.Options{BatchSize: int(batch%8) + 1, MaxLineBytes: 256, Issues: &issues})
		if err != nil {
			var ce *errcode.Error
			if !errors.As(err, &ce) || ce.Code != errcode.BadFile {
				t.Fatalf("error %T %v is not BadFile", err, err)
			}
		}
		if rep == nil {
			t.Fatal("no report")
		}
		checkSums(t, rep)
		if rep.Done() != rep.Rows || int64(rep.Applied) != v.issued(id) {
			t.Fatalf("report %+v, issued %d", rep, v.issued(id))
		}
	})
}
