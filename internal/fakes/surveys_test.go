package fakes_test

import (
	"sync"
	"testing"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/internal/fakes"
	"github.com/koehq/koe/store/storetest"
)

func TestSurveyStoreConformance(t *testing.T) {
	storetest.TestSurveyStore(t, func(t *testing.T) storetest.SurveyFactory {
		var once sync.Once
		var st *fakes.SurveyStore
		return func(t *testing.T, now func() time.Time) koe.SurveyStore {
			once.Do(func() { st = fakes.NewSurveyStore() })
			return st
		}
	}, storetest.Features{})
}

func TestFollowStoreConformance(t *testing.T) {
	storetest.TestFollowStore(t, func(t *testing.T) storetest.FollowFactory {
		var once sync.Once
		var st *fakes.FollowStore
		return func(t *testing.T, now func() time.Time) koe.FollowStore {
			once.Do(func() { st = fakes.NewFollowStore() })
			return st
		}
	}, storetest.Features{})
}

func TestSurveyStoreStats(t *testing.T) {
	st := fakes.NewSurveyStore()
	u := koe.NewUserID(koe.ChannelLINE, "Ustats")
	at := time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)
	sv := koe.Survey{ID: "S-1", Key: "k1", User: u, Touchpoint: koe.TouchpointClaim, SentAt: at}
	if _, err := st.CreateSurvey(t.Context(), sv, at.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	_, _ = st.CreateSurvey(t.Context(), sv, at.Add(-time.Hour)) // duplicate key
	sv.ID, sv.Key = "S-2", "k2"
	_, _ = st.CreateSurvey(t.Context(), sv, at.Add(-time.Hour)) // fatigue
	want := fakes.SurveyStats{Creates: 1, Duplicates: 1, Fatigued: 1}
	if got := st.Stats(); got != want {
		t.Errorf("Stats = %+v, want %+v", got, want)
	}
	if got := st.All(); len(got) != 1 || got[0].ID != "S-1" {
		t.Errorf("All = %v, want [S-1]", got)
	}
}
