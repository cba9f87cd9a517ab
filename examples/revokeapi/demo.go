package main

import (
	"context"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/memstore"
)

// The demo data set: the series, customers and codes of the documented revoke API's
// examples, so that each documented request gives the documented response.
const (
	// demoSeries is an uploaded series holding the documented API's numeric codes,
	// all issued to demoCustomer, and the codes of its failure examples.
	demoSeries = "415446"
	// demoGeneric is a common-code series ("SALE20") issued to
	// demoCustomer.
	demoGeneric = "415447"
	// demoEnded is a series that has ended.
	demoEnded = "415448"
	// demoOther is another series, holding CODE4 and CODE5.
	demoOther = "415449"

	demoCustomer = "555567088"
	demoMobile   = "11223569865"
	demoEmail    = "Tomswayer@capillarytech.com"
	demoExternal = "000003873472"
	otherHolder  = "341612616"
	thirdHolder  = "123132"
)

// demoCodes are the 18 coupons the revoke API's documentation revokes by mobile number.
var demoCodes = []string{
	"5500675094", "1017790881", "3172276491", "9933776655", "1274893438", "3381625240",
	"4716726416", "9988776622", "4882381921", "5686061236", "2924713073", "3084294818",
	"9989776655", "4209752443", "9922334455", "9977886655", "4204166326", "9988776655",
}

// demoByCode are the two coupons the revoke API's documentation revokes by code, also
// demoCustomer's.
var demoByCode = []string{"3138309782", "3636820421"}

// newDemo returns an engine over a memstore loaded with the demo data set,
// as newDemoOn does.
func newDemo(ctx context.Context, now func() time.Time) (*couponkit.Engine, error) {
	return newDemoOn(ctx, memstore.New(), now)
}

// newDemoOn returns an engine over st (empty) loaded with the demo data set,
// with the clock now. Its coupon and event ids are numbers, as the documented API's
// are.
func newDemoOn(ctx context.Context, st store.Store, now func() time.Time) (*couponkit.Engine, error) {
	dir := &couponkit.MemDirectory{}
	for _, c := range []couponkit.CustomerRecord{
		{Customer: couponkit.Customer{ID: demoCustomer}, Mobile: demoMobile, Email: demoEmail, ExternalID: demoExternal},
		{Customer: couponkit.Customer{ID: otherHolder}},
		{Customer: couponkit.Customer{ID: thirdHolder}},
	} {
		dir.Add(c)
	}
	var next atomic.Int64
	next.Store(1239575839)
	e, err := couponkit.New(couponkit.Config{
		Store:     st,
		Now:       now,
		Customers: dir,
		NewID:     func() string { return strconv.FormatInt(next.Add(1), 10) },
	})
	if err != nil {
		return nil, err
	}
	return e, loadDemo(ctx, e)
}

// loadDemo creates the demo series and coupons.
func loadDemo(ctx context.Context, e *couponkit.Engine) error {
	uploaded := func(id string) series.Series {
		return series.Series{
			ID: id, Name: "Demo " + id, TimeZone: "UTC",
			Source:   series.Source{Kind: series.Uploaded, WithCustomers: true},
			Expiry:   series.Expiry{Kind: series.DaysFromIssue, N: 365},
			Discount: series.Discount{Kind: series.Fixed, Amount: decimal.NewFromInt(10), Currency: "EUR"},
		}
	}
	generic := uploaded(demoGeneric)
	generic.Source = series.Source{Kind: series.Common, Code: "SALE20"}
	for _, s := range []series.Series{uploaded(demoSeries), generic, uploaded(demoEnded), uploaded(demoOther)} {
		if _, err := e.CreateSeries(ctx, s); err != nil {
			return err
		}
	}
	to := func(customer string, codes ...string) []couponkit.UploadRow {
		rows := make([]couponkit.UploadRow, len(codes))
		for i, c := range codes {
			rows[i] = couponkit.UploadRow{Code: c, Customer: couponkit.ByID(customer)}
		}
		return rows
	}
	var rows []couponkit.UploadRow
	rows = append(rows, to(demoCustomer, demoByCode...)...)
	rows = append(rows, to(demoCustomer, demoCodes...)...)
	rows = append(rows, to(otherHolder, "3H2G6OAGPAQ3FYMT5IO4ZNV49V21VEV05JBP6S3T", "V6AUE8G5890V41TCRRKKRM1K18SNO2BUUW2FLJ25")...)
	rows = append(rows, to(thirdHolder, "SDDSDSDS", "CODE6", "CODE7")...)
	uploads := []struct {
		series string
		rows   []couponkit.UploadRow
	}{
		{demoSeries, rows},
		{demoEnded, to(demoCustomer, "OLD-1")},
		{demoOther, to(otherHolder, "CODE4", "CODE5")},
	}
	for _, u := range uploads {
		res, err := e.Upload(ctx, couponkit.UploadRequest{SeriesID: u.series, Rows: u.rows, Actor: "demo"})
		if err != nil {
			return err
		}
		if len(res.Failed) > 0 {
			return res.Failed[0].Err
		}
	}
	if _, err := e.Issue(ctx, couponkit.IssueRequest{SeriesID: demoGeneric, Customer: couponkit.ByID(demoCustomer), Actor: "demo"}); err != nil {
		return err
	}
	// An already revoked code, and two redeemed ones.
	if _, err := e.Revoke(ctx, couponkit.RevokeRequest{SeriesID: demoSeries, Codes: []string{"V6AUE8G5890V41TCRRKKRM1K18SNO2BUUW2FLJ25"}, Actor: "demo"}); err != nil {
		return err
	}
	for i, code := range []string{"CODE6", "CODE7"} {
		if _, err := e.Redeem(ctx, couponkit.RedeemRequest{
			Code: code, SeriesID: demoSeries, Customer: couponkit.ByID(thirdHolder), IdempotencyKey: "demo-" + strconv.Itoa(i),
			Bill: series.Money{Amount: decimal.NewFromInt(50), Currency: "EUR"},
		}); err != nil {
			return err
		}
	}
	_, err := e.SetSeriesStatus(ctx, demoEnded, series.Ended)
	return err
}
