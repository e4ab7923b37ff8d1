package fakes_test

import (
	"sync"
	"testing"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/internal/fakes"
	"github.com/koehq/koe/store/storetest"
)

// The fakes pass the stores' conformance suites: every "handle" of one
// test is the same fake, created on first use with the test's clock.

func TestReportStoreConformance(t *testing.T) {
	storetest.TestReportStore(t, func(t *testing.T) storetest.ReportFactory {
		var once sync.Once
		var st *fakes.ReportStore
		return func(t *testing.T, now func() time.Time) koe.ReportStore {
			once.Do(func() { st = fakes.NewReportStore() })
			return st
		}
	}, storetest.Features{})
}

func TestQueueConformance(t *testing.T) {
	storetest.TestQueuePort(t, func(t *testing.T) storetest.QueueFactory {
		var once sync.Once
		var q *fakes.Queue
		return func(t *testing.T, now func() time.Time) koe.Queue {
			once.Do(func() { q = fakes.NewQueue(now) })
			return q
		}
	}, storetest.Features{})
}
