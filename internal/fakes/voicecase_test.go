package fakes_test

import (
	"sync"
	"testing"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/internal/fakes"
	"github.com/koehq/koe/store/storetest"
)

func TestVoiceStoreConformance(t *testing.T) {
	storetest.TestVoiceStore(t, func(t *testing.T) storetest.VoiceFactory {
		var once sync.Once
		var st *fakes.VoiceStore
		return func(t *testing.T, now func() time.Time) koe.VoiceStore {
			once.Do(func() { st = fakes.NewVoiceStore() })
			return st
		}
	}, storetest.Features{})
}

func TestCaseStoreConformance(t *testing.T) {
	storetest.TestCaseStore(t, func(t *testing.T) storetest.CaseFactory {
		var once sync.Once
		var st *fakes.CaseStore
		return func(t *testing.T, now func() time.Time) koe.CaseStore {
			once.Do(func() { st = fakes.NewCaseStore() })
			return st
		}
	}, storetest.Features{})
}

func TestVoiceStoreInspection(t *testing.T) {
	st := fakes.NewVoiceStore()
	u := koe.NewUserID(koe.ChannelLINE, "Uinspect")
	at := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	for _, id := range []string{"b", "a", "b"} {
		_, _ = st.AddVoice(t.Context(), koe.Voice{ID: id, User: u, Urgency: []string{"x"}, At: at})
	}
	all := st.All()
	if len(all) != 2 || all[0].ID != "b" || all[1].ID != "a" {
		t.Fatalf("All = %+v, want b then a", all)
	}
	all[0].Urgency[0] = "changed"
	if v, ok := st.Get("b"); !ok || v.Urgency[0] != "x" {
		t.Errorf("Get(b) = %+v, %v; want the stored copy unchanged", v, ok)
	}
	if _, ok := st.Get("nope"); ok {
		t.Error("Get(nope) found a voice")
	}
	if n := st.Duplicates(); n != 1 {
		t.Errorf("Duplicates = %d, want 1", n)
	}
}

func TestCaseStoreInspection(t *testing.T) {
	st := fakes.NewCaseStore()
	u := koe.NewUserID(koe.ChannelLINE, "Uinspect")
	c, err := st.CreateCase(t.Context(), koe.Case{Ref: "C-1", Key: "k1", User: u, Alert: &koe.AlertRef{Channel: "C", TS: "1"}})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = st.CreateCase(t.Context(), koe.Case{Ref: "C-2", Key: "k1", User: u}) // duplicate key
	c.Status = koe.CaseAcknowledged
	if _, err := st.UpdateCase(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	all := st.All()
	if len(all) != 1 || all[0].Status != koe.CaseAcknowledged || all[0].Version != 2 {
		t.Fatalf("All = %+v, want C-1 acknowledged at version 2", all)
	}
	all[0].Alert.TS = "changed"
	if got, _ := st.GetCase(t.Context(), "C-1"); got.Alert.TS != "1" {
		t.Errorf("stored alert changed through All's copy: %+v", got.Alert)
	}
	if creates, updates := st.Stats(); creates != 1 || updates != 1 {
		t.Errorf("Stats = %d, %d; want 1, 1", creates, updates)
	}
}
