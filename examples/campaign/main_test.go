package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/couponkit/couponkit/bulk"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/store/sqlite"
)

// TestCampaign runs the whole demo on a fresh SQLite file with a small
// generated file and checks what it reports against what the file holds:
// the counts, each rejection's row and code, the codes issued and the
// issues CSV.
func TestCampaign(t *testing.T) {
	dir := t.TempDir()
	cfg := config{DB: filepath.Join(dir, "c.db"), Rows: 2000, Now: time.Date(2026, time.November, 18, 12, 0, 0, 0, time.UTC)}
	var transcript bytes.Buffer
	out, err := run(context.Background(), &transcript, cfg)
	if err != nil {
		t.Fatalf("campaign failed: %v\n%s", err, transcript.String())
	}
	p, rep := out.Plan, out.Report

	// The generated file has every kind of row the demo promises.
	if p.Rows != 2000 || p.Duplicates == 0 || p.Empty == 0 || p.Extra == 0 {
		t.Fatalf("plan %+v: want 2000 rows with duplicates, empty and extra-field rows", p)
	}
	// The report's counts are what the file implies.
	rejected := p.Duplicates + p.Empty + p.Extra
	if rep.Rows != p.Rows || rep.Applied != p.Customers || rep.Unchanged != 0 || rep.Rejected != rejected {
		t.Errorf("report rows %d applied %d unchanged %d rejected %d; want %d, %d, 0, %d",
			rep.Rows, rep.Applied, rep.Unchanged, rep.Rejected, p.Rows, p.Customers, rejected)
	}
	// Each rejection is the planned row with the planned code.
	got := map[int]errcode.Code{}
	for _, x := range rep.Rejections {
		got[x.Row] = x.Code
	}
	if d := cmp.Diff(p.Rejected, got); d != "" {
		t.Errorf("rejections by row (-want +got):\n%s", d)
	}

	// Every coupon issued has the fixed part of the sample and the
	// sample's length, one per customer, all codes distinct.
	db, err := sqlite.OpenDB(context.Background(), cfg.DB)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT code, holder FROM ck_coupons WHERE series_id = ?`, out.SeriesID)
	if err != nil {
		t.Fatal(err)
	}
	codes, holders := map[string]bool{}, map[string]bool{}
	for rows.Next() {
		var code, holder string
		if err := rows.Scan(&code, &holder); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(code, "XMAS2") || len(code) != len("XMAS2026AB") {
			t.Errorf("code %q: want XMAS2 and 5 more characters", code)
		}
		if codes[code] {
			t.Errorf("code %q issued twice", code)
		}
		if holders[holder] {
			t.Errorf("customer %q holds two coupons", holder)
		}
		codes[code], holders[holder] = true, true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(codes) != p.Customers {
		t.Errorf("%d codes issued; want one per valid customer, %d", len(codes), p.Customers)
	}

	// The issues CSV: the header and one record per rejection, in row
	// order with the planned codes.
	b, err := os.ReadFile(out.Issues)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatalf("issues CSV: %v", err)
	}
	if len(recs) != 1+rejected {
		t.Fatalf("issues CSV has %d records; want a header and %d rejections", len(recs), rejected)
	}
	if d := cmp.Diff([]string{"row", "line", "identifier", "coupon_code", "error_code", "reason"}, recs[0]); d != "" {
		t.Errorf("issues header (-want +got):\n%s", d)
	}
	fromCSV := map[int]errcode.Code{}
	for _, r := range recs[1:] {
		row, err1 := strconv.Atoi(r[0])
		code, err2 := strconv.Atoi(r[4])
		if err1 != nil || err2 != nil {
			t.Fatalf("issues record %q: bad row or code", r)
		}
		fromCSV[row] = errcode.Code(code)
	}
	if d := cmp.Diff(p.Rejected, fromCSV); d != "" {
		t.Errorf("issues CSV rejections (-want +got):\n%s", d)
	}

	// The transcript: no '\r' off a terminal, a final progress line, the
	// report and the issues file's path.
	text := transcript.String()
	for _, want := range []string{
		"] 2000/2000 rows, rejected " + strconv.Itoa(rejected) + "\n",
		"2000 rows, " + strconv.Itoa(p.Customers) + " issued, " + strconv.Itoa(rejected) + " rejected",
		": 1221 This customer has received the most coupons of this offer allowed (1).",
		"issues file " + out.Issues,
		"series totals: issued " + strconv.Itoa(p.Customers),
	} {
		if !strings.Contains(text, want) {
			t.Errorf("transcript lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "\r") {
		t.Errorf("progress off a terminal must not redraw with \\r:\n%s", text)
	}
	if n := strings.Count(text, "rows, rejected"); n > 11 {
		t.Errorf("%d progress lines off a terminal; want at most one per tenth of the file", n)
	}
}

// TestProgressBarTerminal checks that on a terminal the bar redraws one
// line and ends it once.
func TestProgressBarTerminal(t *testing.T) {
	var b bytes.Buffer
	bar := &progressBar{w: &b, total: 100, tty: true}
	bar.update(progressOf(50, 1))
	bar.update(progressOf(100, 2))
	bar.finish()
	want := "\r[###############...............] 50/100 rows, rejected 1" +
		"\r[##############################] 100/100 rows, rejected 2\n"
	if d := cmp.Diff(want, b.String()); d != "" {
		t.Errorf("terminal bar (-want +got):\n%s", d)
	}
}

func progressOf(rows, rejected int) bulk.Progress {
	return bulk.Progress{Rows: rows, Applied: rows - rejected, Rejected: rejected, Done: rows}
}
