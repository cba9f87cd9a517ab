package couponkit

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/couponkit/couponkit/errcode"
)

// CustomerRef identifies a customer by exactly one of its identifiers, as
// operators and APIs do: the customer id, a mobile number, an email address
// or an external id.
type CustomerRef struct {
	ID         string `json:"id,omitempty"`
	Mobile     string `json:"mobile,omitempty"`
	Email      string `json:"email,omitempty"`
	ExternalID string `json:"external_id,omitempty"`
}

// ByID returns the reference to the customer with the given id.
func ByID(id string) CustomerRef { return CustomerRef{ID: id} }

// IsZero reports whether r names no customer.
func (r CustomerRef) IsZero() bool { return r == CustomerRef{} }

// validate checks that exactly one identifier is set.
func (r CustomerRef) validate() error {
	n := 0
	for _, v := range [...]string{r.ID, r.Mobile, r.Email, r.ExternalID} {
		if v != "" {
			n++
		}
	}
	switch {
	case n == 0:
		return errcode.New(errcode.InvalidArgument, "Customer", "no customer identifier given")
	case n > 1:
		return errcode.New(errcode.InvalidArgument, "Customer", "give exactly one of id, mobile, email or external id")
	}
	return nil
}

// String returns the identifier that is set, prefixed by its kind, such as
// "mobile:+4412345".
func (r CustomerRef) String() string {
	switch {
	case r.ID != "":
		return r.ID
	case r.Mobile != "":
		return "mobile:" + r.Mobile
	case r.Email != "":
		return "email:" + r.Email
	case r.ExternalID != "":
		return "external:" + r.ExternalID
	}
	return ""
}

// Customer is what the engine knows of a resolved customer.
type Customer struct {
	// ID is the customer's stable id; coupons are held by it.
	ID string `json:"id"`
	// Registered is when the customer registered; zero if unknown. The
	// new-customer rule reads it.
	Registered time.Time `json:"registered,omitzero"`
	// Transactions is the number of transactions the customer made before;
	// the new-customer rule reads it.
	Transactions int64 `json:"transactions"`
}

// CustomerDirectory resolves customer identifiers. A reference that names no
// customer resolves to an error matching errcode.ErrUnknownCustomer.
// Implementations must be safe for concurrent use.
type CustomerDirectory interface {
	Resolve(ctx context.Context, ref CustomerRef) (Customer, error)
}

// IDsOnly is the CustomerDirectory the engine uses when none is configured:
// it accepts any customer id as it is and knows nothing else of customers,
// so mobile, email and external ids do not resolve.
type IDsOnly struct{}

// Resolve returns Customer{ID: ref.ID}, or ErrUnknownCustomer for any other
// kind of reference.
func (IDsOnly) Resolve(_ context.Context, ref CustomerRef) (Customer, error) {
	if err := ref.validate(); err != nil {
		return Customer{}, err
	}
	if ref.ID == "" {
		return Customer{}, errcode.New(errcode.UnknownCustomer, "Customer", "no directory to resolve "+ref.String())
	}
	return Customer{ID: ref.ID}, nil
}

// MemDirectory is an in-memory CustomerDirectory. Its zero value is empty
// and ready to use; it is safe for concurrent use.
type MemDirectory struct {
	mu       sync.RWMutex
	byID     map[string]Customer
	byMobile map[string]string
	byEmail  map[string]string
	byExt    map[string]string
}

// CustomerRecord is an entry of a MemDirectory.
type CustomerRecord struct {
	Customer
	Mobile     string `json:"mobile,omitempty"`
	Email      string `json:"email,omitempty"`
	ExternalID string `json:"external_id,omitempty"`
}

// Add adds or replaces a customer. Emails are matched case-insensitively.
func (d *MemDirectory) Add(r CustomerRecord) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.byID == nil {
		d.byID, d.byMobile, d.byEmail, d.byExt = map[string]Customer{}, map[string]string{}, map[string]string{}, map[string]string{}
	}
	d.byID[r.ID] = r.Customer
	if r.Mobile != "" {
		d.byMobile[r.Mobile] = r.ID
	}
	if r.Email != "" {
		d.byEmail[strings.ToLower(r.Email)] = r.ID
	}
	if r.ExternalID != "" {
		d.byExt[r.ExternalID] = r.ID
	}
}

// Resolve looks the reference up.
func (d *MemDirectory) Resolve(_ context.Context, ref CustomerRef) (Customer, error) {
	if err := ref.validate(); err != nil {
		return Customer{}, err
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	id := ref.ID
	switch {
	case ref.Mobile != "":
		id = d.byMobile[ref.Mobile]
	case ref.Email != "":
		id = d.byEmail[strings.ToLower(ref.Email)]
	case ref.ExternalID != "":
		id = d.byExt[ref.ExternalID]
	}
	c, ok := d.byID[id]
	if !ok {
		return Customer{}, errcode.New(errcode.UnknownCustomer, "Customer", "no customer "+ref.String())
	}
	return c, nil
}
