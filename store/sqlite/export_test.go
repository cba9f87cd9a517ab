package sqlite

import "github.com/couponkit/couponkit/store/internal/sqlcore"

// CoreOf returns the shared store inside s, for the shared tests.
func CoreOf(s *Store) *sqlcore.Store { return s.core }
