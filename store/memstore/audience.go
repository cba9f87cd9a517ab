package memstore

import (
	"context"
	"slices"
	"time"

	"github.com/couponkit/couponkit/store"
)

// audienceList is one series' audience list: its members in order, and
// when each was added.
type audienceList struct {
	members idSet
	added   map[string]time.Time
}

func (l *audienceList) has(customer string) bool {
	if l == nil {
		return false
	}
	_, ok := l.added[customer]
	return ok
}

// audienceFor returns the list of series id, creating it. Caller holds the
// write lock.
func (s *Store) audienceFor(id string) *audienceList {
	l := s.audience[id]
	if l == nil {
		l = &audienceList{added: make(map[string]time.Time)}
		s.audience[id] = l
	}
	return l
}

// InAudience implements store.Store.
func (s *Store) InAudience(ctx context.Context, seriesID, customer string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	s.mu.RLock()
	ok := s.audience[seriesID].has(customer)
	s.mu.RUnlock()
	return ok, nil
}

// Audience implements store.Store.
func (s *Store) Audience(ctx context.Context, q store.AudienceQuery) ([]store.AudienceMember, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	l := s.audience[q.SeriesID]
	if l == nil {
		return nil, nil
	}
	var out []store.AudienceMember
	full := func() bool { return q.Limit > 0 && len(out) == q.Limit }
	if len(q.Customers) > 0 {
		want := slices.Clone(q.Customers)
		slices.Sort(want)
		want = slices.Compact(want)
		for _, c := range want {
			if c > q.After && l.has(c) && !full() {
				out = append(out, store.AudienceMember{Customer: c, AddedAt: l.added[c]})
			}
		}
		return out, nil
	}
	for c := range l.members.after(q.After) {
		if full() {
			break
		}
		out = append(out, store.AudienceMember{Customer: c, AddedAt: l.added[c]})
	}
	return out, nil
}

// AddAudience implements store.Store.
func (s *Store) AddAudience(ctx context.Context, seriesID string, customers []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.audienceFor(seriesID)
	for _, c := range customers {
		if !l.has(c) {
			l.members.add(c)
			l.added[c] = time.Time{}
		}
	}
	return nil
}

// checkAudience checks each of c's audience updates against the stored
// list (a change updates a member at most once).
func (s *Store) checkAudience(c *store.Change) error {
	for i := range c.Audience {
		u := &c.Audience[i]
		switch {
		case u.SeriesID == "":
			return emptyID("Audience.SeriesID")
		case u.Customer == "":
			return emptyID("Audience.Customer")
		}
		switch in := s.audience[u.SeriesID].has(u.Customer); {
		case !u.Remove && in:
			return exists("audience", u.SeriesID+"/"+u.Customer)
		case u.Remove && !in:
			return conflict("audience", u.SeriesID+"/"+u.Customer)
		}
	}
	return nil
}

// commitAudience writes c's audience updates, which checkAudience
// accepted.
func (s *Store) commitAudience(c *store.Change) {
	for i := range c.Audience {
		u := &c.Audience[i]
		l := s.audienceFor(u.SeriesID)
		if u.Remove {
			l.members.remove(u.Customer)
			delete(l.added, u.Customer)
			continue
		}
		l.members.add(u.Customer)
		l.added[u.Customer] = u.At
	}
}
