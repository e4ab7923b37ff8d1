package fakes_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/internal/fakes"
	"github.com/koehq/koe/store/storetest"
)

func TestFAQLogConformance(t *testing.T) {
	storetest.TestFAQLogPort(t, func(t *testing.T) storetest.FAQFactory {
		var once sync.Once
		var l *fakes.FAQLog
		return func(t *testing.T, now func() time.Time) koe.FAQLog {
			once.Do(func() { l = fakes.NewFAQLog() })
			return l
		}
	}, storetest.Features{})
}

func TestFAQLogInspection(t *testing.T) {
	l := fakes.NewFAQLog()
	u := koe.NewUserID(koe.ChannelLINE, "Uinspect")
	at := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	for _, id := range []string{"b", "a", "b"} {
		_, _ = l.RecordAnswer(t.Context(), koe.FAQAnswer{ID: id, User: u, Entry: "e", At: at})
	}
	no := false
	if err := l.MarkAnswer(t.Context(), "a", &no, "C-1"); err != nil {
		t.Fatalf("MarkAnswer = %v", err)
	}
	no = true // the log keeps its own copy
	if err := l.MarkAnswer(t.Context(), "zz", nil, ""); !errors.Is(err, koe.ErrNotFound) {
		t.Errorf("MarkAnswer(missing) = %v, want ErrNotFound", err)
	}
	all := l.All()
	if len(all) != 2 || all[0].ID != "b" || all[1].ID != "a" {
		t.Fatalf("All = %+v, want b then a (record order)", all)
	}
	got, ok := l.Get("a")
	if !ok || got.Helpful == nil || *got.Helpful || got.CaseRef != "C-1" {
		t.Errorf("Get(a) = %+v, %v; want unhelpful with case C-1", got, ok)
	}
	if dupes, marks := l.Stats(); dupes != 1 || marks != 1 {
		t.Errorf("Stats = %d duplicates, %d marks; want 1, 1", dupes, marks)
	}
}
