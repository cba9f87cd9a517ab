package till

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/series"
)

// Central is what a till asks of the central couponkit: its leases, the
// upload of its journal, online redemption and the sync down. The HTTP
// client of package tillhttp implements it, and so does [Local], over an
// engine in the same process.
type Central interface {
	GrantLease(ctx context.Context, req couponkit.LeaseRequest) (couponkit.LeaseResult, error)
	RenewLease(ctx context.Context, c couponkit.LeaseCall) (couponkit.LeaseResult, error)
	TopUpLease(ctx context.Context, c couponkit.LeaseCall) (couponkit.LeaseResult, error)
	ReturnLease(ctx context.Context, c couponkit.LeaseCall) (couponkit.LeaseResult, error)
	UploadJournal(ctx context.Context, b couponkit.JournalBatch) (couponkit.JournalAck, error)
	RedeemAtTill(ctx context.Context, req couponkit.TillRedeemRequest) (couponkit.TillRedeemResult, error)
	TillFeed(ctx context.Context, req couponkit.TillFeedRequest) (couponkit.TillFeedPage, error)
}

// Local is the [Central] of a till that runs in the central's process:
// the engine's own operations, UploadJournal being ApplyJournal.
type Local struct{ *couponkit.Engine }

// UploadJournal applies the batch (couponkit.Engine.ApplyJournal).
func (l Local) UploadJournal(ctx context.Context, b couponkit.JournalBatch) (couponkit.JournalAck, error) {
	return l.ApplyJournal(ctx, b)
}

var _ Central = Local{}

// Config configures a [Till]. ID, Journal and Central are required.
type Config struct {
	// ID is the till's id at the central.
	ID      string
	Journal *Journal
	Central Central
	// Deadline bounds each online redemption; past it the sale is decided
	// offline. 0 means 2 seconds.
	Deadline time.Duration
	// Now is the till's clock; nil means time.Now.
	Now func() time.Time
	// Size chooses how many uses to lease; nil means lease.DefaultSize.
	Size lease.SizePolicy
	// LeaseFor is how long a lease runs when granted or renewed; 0 means
	// 8 hours.
	LeaseFor time.Duration
	// Series are the series Sync keeps a lease of; nil means those of the
	// leases the journal holds.
	Series []string
	// Tills is how many tills share the series, for the size policy; 0
	// counts as 1.
	Tills int
}

// Till is a till's couponkit: online first, its journal when the central
// cannot answer. It is safe for concurrent use.
type Till struct {
	cfg Config
	j   *Journal

	mu        sync.Mutex
	remaining map[string]int64 // series -> uses left by the central's last answer
}

// New returns the till of cfg. A missing ID, Journal or Central is an
// errcode.InvalidArgument error.
func New(cfg Config) (*Till, error) {
	if cfg.ID == "" || cfg.Journal == nil || cfg.Central == nil {
		return nil, errcode.New(errcode.InvalidArgument, "Config", "a till needs an ID, a Journal and a Central")
	}
	if cfg.Deadline <= 0 {
		cfg.Deadline = 2 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Size == nil {
		cfg.Size = lease.DefaultSize
	}
	if cfg.LeaseFor <= 0 {
		cfg.LeaseFor = 8 * time.Hour
	}
	return &Till{cfg: cfg, j: cfg.Journal, remaining: map[string]int64{}}, nil
}

// Sale is a use a till is asked to make: its idempotency key (the POS
// transaction's id for this coupon), series, code, customer, bill (in
// Currency, the series' when empty) and sale time (zero: now).
type Sale = Use

// Result is how a sale was decided: Online by the central (with its
// Redemption), or offline from the till's journal; Entry is the journal's
// entry of it either way, and Replayed says the key was answered from an
// earlier call.
type Result struct {
	Online     bool                   `json:"online"`
	Entry      Entry                  `json:"entry"`
	Redemption couponkit.RedeemResult `json:"redemption,omitzero"`
	Replayed   bool                   `json:"replayed,omitempty"`
}

// Redeem makes a use of a coupon at the till, online first: it asks the
// central (RedeemAtTill, with the sale's key and the lease the journal
// would draw an offline use on, or none) within the Deadline, after
// uploading the journal's unsynced entries (so that the central knows the
// uses the till made of its leases offline; an upload that fails leaves
// the sale to the journal). The
// central's answer is final: a refusal is returned and never retried
// offline; an allowed use is written to the journal as an online entry
// (already synced, so that the till's levels count it) in one transaction
// with hook. When the central cannot answer (the deadline passes, the
// network fails, or it answers Unavailable) the sale is decided offline
// by the journal, under the same key ([Journal.Redeem]), so that a use the
// central made but whose answer was lost is counted once when the journal
// syncs. A key the journal holds already is answered from it.
//
// A series the till carries no configuration of is refused with an error
// matching errcode.ErrUnavailable (sync first), and, offline, a series
// with no lease left with errcode.ErrNoLease. When hook fails after
// the central made the use, the central's use stands: retry the sale with
// the same key (the central answers it again) or reverse it.
func (t *Till) Redeem(ctx context.Context, s Sale, hook func(*sql.Tx) error) (Result, error) {
	if s.At.IsZero() {
		s.At = t.cfg.Now()
	}
	if _, found, err := t.j.Entry(ctx, s.Key); err != nil || found {
		if err != nil {
			return Result{}, err
		}
		e, err := t.j.Redeem(ctx, s, hook)
		return Result{Online: e.Online, Entry: e, Replayed: err == nil}, err
	}
	req, err := t.request(ctx, &s)
	if err != nil {
		return Result{}, err
	}
	// The central counts the use on the lease the journal would draw on
	// (or on none), never on one the till spent offline and has not
	// uploaded: the same lease the journal takes if the answer is lost.
	if req.LeaseID, err = t.j.drawOn(ctx, s); err != nil {
		return Result{}, err
	}
	req.NoLease = req.LeaseID == ""
	cctx, cancel := context.WithTimeout(ctx, t.cfg.Deadline)
	res, err := t.online(cctx, req)
	cancel()
	if err == nil {
		e, err := t.j.RecordOnline(ctx, s, res.Entry, hook)
		return Result{Online: true, Entry: e, Redemption: res.Redemption, Replayed: res.Replayed}, err
	}
	asked := mayHaveReached(err)
	if ctx.Err() != nil {
		err = fmt.Errorf("till: %w", ctx.Err())
		if asked {
			err = t.doubt(ctx, &s, err)
		}
		return Result{}, err
	}
	if !Unanswered(err) {
		return Result{}, err
	}
	e, err := t.j.Redeem(ctx, s, hook)
	if err != nil && asked {
		// Asked in vain, and not made offline: the central may have made
		// it all the same (see doubt.go).
		err = t.doubt(ctx, &s, err)
	}
	return Result{Entry: e}, err
}

// errNotAsked marks a failure of an online use before the central was
// asked (the journal's upload before it failed).
var errNotAsked = errors.New("the central was not asked")

// mayHaveReached reports whether the failed online call that returned err
// may have reached the central: not when the till could not connect (a
// dial error) or did not send it.
func mayHaveReached(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return false
	}
	return !errors.Is(err, errNotAsked)
}

// online asks the central to decide req, after uploading what the journal
// holds unsynced: the central draws an online use on the till's lease
// ending first, and must know the uses the till made of it offline, or it
// would give the till a use of a lease the till has used up (the offline
// use, uploaded later, would then count on the series again, past its
// limit when the series is fully leased). An upload that fails leaves the
// question open (errcode.Unavailable): the sale is decided offline.
func (t *Till) online(ctx context.Context, req couponkit.TillRedeemRequest) (couponkit.TillRedeemResult, error) {
	pending, err := t.j.Pending(ctx, 0, 1)
	if err != nil {
		return couponkit.TillRedeemResult{}, err
	}
	if len(pending) > 0 {
		if _, err := t.j.Sync(ctx, t.cfg.ID, t.cfg.Central, 0); err != nil {
			return couponkit.TillRedeemResult{}, errcode.Wrap(errcode.Unavailable, errors.Join(errNotAsked, err), "the journal could not be uploaded before an online use")
		}
	}
	return t.cfg.Central.RedeemAtTill(ctx, req)
}

// request is the central's request of sale s, its code in its canonical
// form for the series the till carries.
func (t *Till) request(ctx context.Context, s *Sale) (couponkit.TillRedeemRequest, error) {
	if s.Key == "" || s.SeriesID == "" || s.Code == "" {
		return couponkit.TillRedeemRequest{}, errcode.New(errcode.InvalidArgument, "Sale", "needs a key, a series and a code")
	}
	sr, err := t.j.series(ctx, s.SeriesID)
	if err != nil {
		return couponkit.TillRedeemRequest{}, err
	}
	code, err := sr.Source.CanonicalCode(nil, s.Code)
	if err != nil {
		return couponkit.TillRedeemRequest{}, err
	}
	amount, err := decimal.NewFromString(s.Bill)
	if err != nil {
		return couponkit.TillRedeemRequest{}, errcode.New(errcode.InvalidArgument, "Bill", "is not a decimal amount")
	}
	currency := s.Currency
	if currency == "" {
		currency = sr.Discount.Currency
	}
	return couponkit.TillRedeemRequest{Till: t.cfg.ID, Key: s.Key, SeriesID: s.SeriesID, Code: code, Customer: s.Customer,
		Bill: series.Money{Amount: amount, Currency: currency}, At: s.At}, nil
}

// Unanswered reports whether err, from a call to the central, leaves the
// question open, so that the till may decide offline: a deadline passed,
// a network failure, or the central answering Unavailable (or a conflict
// it could not settle). A refusal, or any other typed answer, is the
// central's decision.
func Unanswered(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var re *refusal.Error
	if errors.As(err, &re) {
		return false
	}
	var ee *errcode.Error
	if errors.As(err, &ee) {
		return ee.Code == errcode.Unavailable || ee.Code == errcode.Conflict
	}
	return true
}

// series reads a series' configuration the till carries.
func (j *Journal) series(ctx context.Context, id string) (series.Series, error) {
	return seriesIn(ctx, j.db, id)
}
