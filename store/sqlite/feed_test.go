package sqlite_test

import (
	"testing"

	"github.com/couponkit/couponkit/store/internal/sqltest"
)

// BenchmarkFeedRead: see sqltest.BenchFeedRead.
func BenchmarkFeedRead(b *testing.B) { sqltest.BenchFeedRead(b, backend) }
