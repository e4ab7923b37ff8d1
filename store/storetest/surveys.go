package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/koehq/koe"
)

// SurveyFactory is Factory for a koe.SurveyStore alone (a fake, or a
// backend seen through that port). Every call within one test returns a
// store over the same data.
type SurveyFactory func(t *testing.T, now func() time.Time) koe.SurveyStore

// TestSurveys runs the koe.SurveyStore conformance tests (TestSurveyStore)
// on a backend.
func TestSurveys(t *testing.T, newBackend func(t *testing.T) Factory, f Features) {
	TestSurveyStore(t, func(t *testing.T) SurveyFactory {
		open := newBackend(t)
		return func(t *testing.T, now func() time.Time) koe.SurveyStore { return open(t, now) }
	}, f)
}

// day is the unit of the fatigue budget in these tests.
const day = 24 * time.Hour

// TestSurveyStore checks koe.SurveyStore: create and its idempotency, the
// fatigue rule (also under concurrent creates on separate handles), get,
// versioned updates and the filtered listing.
//
// Choices the port's comments leave open, which the suite fixes: a survey
// must have an ID, a Key, a valid User, a Touchpoint and a SentAt, and a
// Score in 0–10 and a Satisfaction in 1–5 when set (ErrInvalid otherwise,
// nothing stored); every field is stored as given, times to the nanosecond
// (the store sets only Version); a known Key is answered with the stored
// survey and ErrDuplicate before the fatigue rule is applied, so a retried
// request is recognised; an ID used by another Key is ErrDuplicate with a
// zero survey; the fatigue rule looks at SentAt (of any touchpoint and
// status), so a refusal (ErrConflict, zero survey) depends on the user's
// latest SentAt, not on the order of creation; UpdateSurvey may not change
// the Key, User or SentAt (ErrInvalid, nothing changed); Surveys orders by
// SentAt, oldest first, ties by ID ascending, and returns an empty non-nil
// slice when nothing matches. Every method given a cancelled context
// returns an error that wraps context.Canceled and changes nothing.
func TestSurveyStore(t *testing.T, newStore func(t *testing.T) SurveyFactory, f Features) {
	t.Run("CreateGetRoundTrip", func(t *testing.T) {
		// Every field survives, also through a second handle; nil and
		// zero optional fields come back so; a score of 0 is not nil.
		t.Parallel()
		clk := NewClock(t0)
		open := newStore(t)
		s := open(t, clk.Now)
		full := fullSurvey("S-20261122-7F3K", "key-full", user("sv-full"), clk.Now().In(time.FixedZone("JST", 9*60*60)))
		full.Version = 7 // ignored: a new survey is at version 1
		minimal := minimalSurvey("S-MIN-0001", "key-min", user("sv-min"), clk.Now())
		zero := minimalSurvey("S-ZERO-0001", "key-zero", user("sv-zero"), clk.Now())
		zero.Score, zero.Satisfaction, zero.Status = ptr(0), ptr(1), koe.SurveyAnswered
		for _, in := range []koe.Survey{full, minimal, zero} {
			got, err := s.CreateSurvey(t.Context(), in, in.SentAt.Add(-30*day))
			if err != nil {
				t.Fatalf("CreateSurvey(%s) = %v", in.ID, err)
			}
			want := in
			want.Version = 1
			if !reflect.DeepEqual(normSurvey(got), normSurvey(want)) {
				t.Errorf("CreateSurvey returned\n%s\nwant\n%s", fmtSurvey(got), fmtSurvey(want))
			}
			for name, st := range map[string]koe.SurveyStore{"same handle": s, "second handle": open(t, clk.Now)} {
				got := mustGetSurvey(t, st, in.ID)
				if !reflect.DeepEqual(normSurvey(got), normSurvey(want)) {
					t.Errorf("%s: GetSurvey =\n%s\nwant\n%s", name, fmtSurvey(got), fmtSurvey(want))
				}
			}
		}
	})

	t.Run("GetMissing", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)(t, NewClock(t0).Now)
		if _, err := s.GetSurvey(t.Context(), "S-NOPE"); !errors.Is(err, koe.ErrNotFound) {
			t.Errorf("GetSurvey(missing) = %v, want ErrNotFound", err)
		}
	})

	t.Run("DuplicateKey", func(t *testing.T) {
		// A retried send (same Key, maybe another ID and content, inside
		// the fatigue window) yields the stored survey and ErrDuplicate,
		// not ErrConflict; nothing changes.
		t.Parallel()
		clk := NewClock(t0)
		open := newStore(t)
		s := open(t, clk.Now)
		u := user("sv-dup")
		first := mustCreateSurvey(t, s, fullSurvey("S-DUP-0001", "key-dup", u, clk.Now()), clk.Now().Add(-30*day))
		clk.Advance(time.Minute)
		for _, tc := range []struct {
			name string
			sv   koe.Survey
		}{
			{"same survey again", fullSurvey("S-DUP-0001", "key-dup", u, t0)},
			{"new id, other content", func() koe.Survey {
				sv := minimalSurvey("S-DUP-0002", "key-dup", u, clk.Now())
				sv.Touchpoint = koe.TouchpointRenewal
				return sv
			}()},
		} {
			got, err := open(t, clk.Now).CreateSurvey(t.Context(), tc.sv, clk.Now().Add(-30*day))
			if !errors.Is(err, koe.ErrDuplicate) {
				t.Fatalf("%s: CreateSurvey = %v, want ErrDuplicate", tc.name, err)
			}
			if !reflect.DeepEqual(normSurvey(got), normSurvey(first)) {
				t.Errorf("%s: CreateSurvey returned\n%s\nwant the stored\n%s", tc.name, fmtSurvey(got), fmtSurvey(first))
			}
		}
		if _, err := s.GetSurvey(t.Context(), "S-DUP-0002"); !errors.Is(err, koe.ErrNotFound) {
			t.Errorf("GetSurvey(id of the refused retry) = %v, want ErrNotFound", err)
		}
		if got := mustSurveys(t, s, koe.SurveyFilter{User: u}); !reflect.DeepEqual(surveyIDs(got), []string{"S-DUP-0001"}) {
			t.Errorf("Surveys(user) = %v, want [S-DUP-0001]", surveyIDs(got))
		}
	})

	t.Run("DuplicateID", func(t *testing.T) {
		// An ID used by another Key: ErrDuplicate and a zero survey; the
		// stored survey is untouched and the new Key stays free.
		t.Parallel()
		clk := NewClock(t0)
		s := newStore(t)(t, clk.Now)
		first := mustCreateSurvey(t, s, minimalSurvey("S-ID-0001", "key-id-a", user("sv-id-a"), clk.Now()), time.Time{})
		clash := minimalSurvey("S-ID-0001", "key-id-b", user("sv-id-b"), clk.Now())
		got, err := s.CreateSurvey(t.Context(), clash, time.Time{})
		if !errors.Is(err, koe.ErrDuplicate) {
			t.Fatalf("CreateSurvey(taken id) = %v, want ErrDuplicate", err)
		}
		if !reflect.DeepEqual(got, koe.Survey{}) {
			t.Errorf("CreateSurvey(taken id) returned %s, want a zero survey", fmtSurvey(got))
		}
		if got := mustGetSurvey(t, s, first.ID); !reflect.DeepEqual(normSurvey(got), normSurvey(first)) {
			t.Errorf("stored survey changed:\n%s\nwant\n%s", fmtSurvey(got), fmtSurvey(first))
		}
		if got := mustSurveys(t, s, koe.SurveyFilter{User: user("sv-id-b")}); len(got) != 0 {
			t.Errorf("Surveys(refused user) = %v, want none", surveyIDs(got))
		}
		clash.ID = "S-ID-0002"
		mustCreateSurvey(t, s, clash, time.Time{})
	})

	t.Run("Invalid", func(t *testing.T) {
		t.Parallel()
		clk := NewClock(t0)
		s := newStore(t)(t, clk.Now)
		u := user("sv-invalid")
		for _, tc := range []struct {
			name string
			edit func(sv *koe.Survey)
		}{
			{"no id", func(sv *koe.Survey) { sv.ID = "" }},
			{"no key", func(sv *koe.Survey) { sv.Key = "" }},
			{"no user", func(sv *koe.Survey) { sv.User = "" }},
			{"user without channel", func(sv *koe.Survey) { sv.User = "U1" }},
			{"no touchpoint", func(sv *koe.Survey) { sv.Touchpoint = "" }},
			{"no sent time", func(sv *koe.Survey) { sv.SentAt = time.Time{} }},
			{"score -1", func(sv *koe.Survey) { sv.Score = ptr(-1) }},
			{"score 11", func(sv *koe.Survey) { sv.Score = ptr(11) }},
			{"satisfaction 0", func(sv *koe.Survey) { sv.Satisfaction = ptr(0) }},
			{"satisfaction 6", func(sv *koe.Survey) { sv.Satisfaction = ptr(6) }},
		} {
			sv := minimalSurvey("S-INV-0001", "key-inv", u, clk.Now())
			tc.edit(&sv)
			if _, err := s.CreateSurvey(t.Context(), sv, time.Time{}); !errors.Is(err, koe.ErrInvalid) {
				t.Errorf("%s: CreateSurvey = %v, want ErrInvalid", tc.name, err)
			}
		}
		if _, err := s.GetSurvey(t.Context(), "S-INV-0001"); !errors.Is(err, koe.ErrNotFound) {
			t.Errorf("GetSurvey after refused creates = %v, want ErrNotFound", err)
		}
		// Nothing refused counted for the fatigue rule.
		mustCreateSurvey(t, s, minimalSurvey("S-INV-0001", "key-inv", u, clk.Now()), time.Time{})
	})

	t.Run("Fatigue", func(t *testing.T) {
		// A user sent any survey at or after notBefore is refused with
		// ErrConflict and nothing stored; other users are unaffected.
		t.Parallel()
		clk := NewClock(t0)
		open := newStore(t)
		s := open(t, clk.Now)
		a, b := user("sv-fat-a"), user("sv-fat-b")
		mustCreateSurvey(t, s, minimalSurvey("S-FAT-A1", "key-fat-a1", a, t0), t0.Add(-30*day))
		later := t0.Add(10 * day)
		for _, tc := range []struct {
			name      string
			sv        koe.Survey
			notBefore time.Time
			ok        bool
		}{
			{"inside the window", minimalSurvey("S-FAT-A2", "key-fat-a2", a, later), later.Add(-30 * day), false},
			{"other touchpoint counts", func() koe.Survey {
				sv := minimalSurvey("S-FAT-A3", "key-fat-a3", a, later)
				sv.Touchpoint = koe.TouchpointRenewal
				return sv
			}(), later.Add(-30 * day), false},
			{"notBefore equal to the last send", minimalSurvey("S-FAT-A4", "key-fat-a4", a, later), t0, false},
			{"zero notBefore refuses anyone already sent one", minimalSurvey("S-FAT-A5", "key-fat-a5", a, later), time.Time{}, false},
			{"other user", minimalSurvey("S-FAT-B1", "key-fat-b1", b, later), later.Add(-30 * day), true},
			{"one nanosecond after the last send", minimalSurvey("S-FAT-A6", "key-fat-a6", a, later), t0.Add(time.Nanosecond), true},
			{"now the newer send counts", minimalSurvey("S-FAT-A7", "key-fat-a7", a, later.Add(day)), t0.Add(time.Nanosecond), false},
		} {
			got, err := open(t, clk.Now).CreateSurvey(t.Context(), tc.sv, tc.notBefore)
			if tc.ok {
				if err != nil {
					t.Fatalf("%s: CreateSurvey = %v, want nil", tc.name, err)
				}
				continue
			}
			if !errors.Is(err, koe.ErrConflict) {
				t.Fatalf("%s: CreateSurvey = %v, want ErrConflict", tc.name, err)
			}
			if !reflect.DeepEqual(got, koe.Survey{}) {
				t.Errorf("%s: CreateSurvey returned %s, want a zero survey", tc.name, fmtSurvey(got))
			}
			if _, err := s.GetSurvey(t.Context(), tc.sv.ID); !errors.Is(err, koe.ErrNotFound) {
				t.Errorf("%s: GetSurvey(refused) = %v, want ErrNotFound", tc.name, err)
			}
		}
		if got := mustSurveys(t, s, koe.SurveyFilter{User: a}); !reflect.DeepEqual(surveyIDs(got), []string{"S-FAT-A1", "S-FAT-A6"}) {
			t.Errorf("Surveys(a) = %v, want [S-FAT-A1 S-FAT-A6]", surveyIDs(got))
		}
		// A refused send did not use up its key.
		mustCreateSurvey(t, s, minimalSurvey("S-FAT-A2", "key-fat-a2", a, later.Add(40*day)), later.Add(10*day))
	})

	t.Run("FatigueLatestNotLastWritten", func(t *testing.T) {
		// The rule follows the user's latest SentAt: a survey stored
		// afterwards with an earlier SentAt does not hide the later one.
		t.Parallel()
		clk := NewClock(t0)
		s := newStore(t)(t, clk.Now)
		u := user("sv-latest")
		late := t0.Add(20 * day)
		mustCreateSurvey(t, s, minimalSurvey("S-LT-0001", "key-lt-1", u, late), time.Time{})
		mustCreateSurvey(t, s, minimalSurvey("S-LT-0002", "key-lt-2", u, t0), late.Add(time.Nanosecond))
		_, err := s.CreateSurvey(t.Context(), minimalSurvey("S-LT-0003", "key-lt-3", u, late.Add(day)), late)
		if !errors.Is(err, koe.ErrConflict) {
			t.Errorf("CreateSurvey(notBefore = latest send) = %v, want ErrConflict", err)
		}
	})

	t.Run("ConcurrentFatigue", func(t *testing.T) {
		// Many handles send one user different surveys at once: exactly
		// one is stored, the others get ErrConflict.
		t.Parallel()
		const n = 8
		clk := NewClock(t0)
		open := newStore(t)
		u := user("sv-race")
		handles := make([]koe.SurveyStore, n)
		for i := range handles {
			handles[i] = open(t, clk.Now)
		}
		var (
			wg              sync.WaitGroup
			mu              sync.Mutex
			wins, conflicts int
			winner          string
			unexpected      []error
			start           = make(chan struct{})
		)
		for i, h := range handles {
			wg.Go(func() {
				sv := minimalSurvey(fmt.Sprintf("S-RACE-%04d", i), fmt.Sprintf("key-race-%d", i), u, clk.Now())
				<-start
				_, err := h.CreateSurvey(t.Context(), sv, clk.Now().Add(-30*day))
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins++
					winner = sv.ID
				case errors.Is(err, koe.ErrConflict):
					conflicts++
				default:
					unexpected = append(unexpected, err)
				}
			})
		}
		close(start)
		wg.Wait()
		if len(unexpected) > 0 {
			t.Fatalf("CreateSurvey errors: %v", unexpected)
		}
		if wins != 1 || conflicts != n-1 {
			t.Fatalf("%d wins, %d conflicts; want 1 and %d", wins, conflicts, n-1)
		}
		if got := mustSurveys(t, handles[0], koe.SurveyFilter{User: u}); !reflect.DeepEqual(surveyIDs(got), []string{winner}) {
			t.Errorf("Surveys(user) = %v, want [%s]", surveyIDs(got), winner)
		}
	})

	t.Run("Update", func(t *testing.T) {
		t.Parallel()
		clk := NewClock(t0)
		open := newStore(t)
		s := open(t, clk.Now)
		u := user("sv-upd")
		v1 := mustCreateSurvey(t, s, minimalSurvey("S-UPD-0001", "key-upd", u, clk.Now()), time.Time{})

		clk.Advance(time.Hour)
		sv := v1
		sv.Status = koe.SurveyAnswered
		sv.Score, sv.Satisfaction = ptr(3), ptr(2)
		sv.Comment = "連絡が遅かった"
		sv.VoiceID, sv.CaseRef = "V-UPD-1", "C-UPD-1"
		sv.AnsweredAt = clk.Now()
		sv.Version = 1
		v2 := mustUpdateSurvey(t, s, sv)
		want := sv
		want.Version = 2
		if !reflect.DeepEqual(normSurvey(v2), normSurvey(want)) {
			t.Errorf("UpdateSurvey returned\n%s\nwant\n%s", fmtSurvey(v2), fmtSurvey(want))
		}
		if got := mustGetSurvey(t, open(t, clk.Now), sv.ID); !reflect.DeepEqual(normSurvey(got), normSurvey(want)) {
			t.Errorf("GetSurvey after update =\n%s\nwant\n%s", fmtSurvey(got), fmtSurvey(want))
		}

		// Pointers can be cleared and the touchpoint moved.
		v3in := v2
		v3in.Satisfaction = nil
		v3in.Touchpoint = koe.TouchpointRenewal
		v3 := mustUpdateSurvey(t, s, v3in)
		if v3.Version != 3 {
			t.Errorf("Version after second update = %d, want 3", v3.Version)
		}
		got := mustGetSurvey(t, s, sv.ID)
		if got.Satisfaction != nil || got.Score == nil || *got.Score != 3 {
			t.Errorf("GetSurvey = %s, want score 3 and no satisfaction", fmtSurvey(got))
		}
		for _, tc := range []struct {
			tp   koe.Touchpoint
			want []string
		}{
			{koe.TouchpointRenewal, []string{sv.ID}},
			{koe.TouchpointClaim, []string{}},
		} {
			if got := mustSurveys(t, s, koe.SurveyFilter{Touchpoint: tc.tp}); !reflect.DeepEqual(surveyIDs(got), tc.want) {
				t.Errorf("Surveys(%s) after moving = %v, want %v", tc.tp, surveyIDs(got), tc.want)
			}
		}

		// Refused updates change nothing.
		for _, tc := range []struct {
			name string
			edit func(sv *koe.Survey)
			want error
		}{
			{"stale", func(sv *koe.Survey) { sv.Version = 2; sv.Comment = "stale" }, koe.ErrConflict},
			{"missing", func(sv *koe.Survey) { sv.ID = "S-UPD-NOPE" }, koe.ErrNotFound},
			{"key changed", func(sv *koe.Survey) { sv.Key = "other" }, koe.ErrInvalid},
			{"user changed", func(sv *koe.Survey) { sv.User = user("sv-upd-other") }, koe.ErrInvalid},
			{"sent time changed", func(sv *koe.Survey) { sv.SentAt = sv.SentAt.Add(time.Nanosecond) }, koe.ErrInvalid},
			{"score out of range", func(sv *koe.Survey) { sv.Score = ptr(12) }, koe.ErrInvalid},
		} {
			in := v3
			in.Comment = "refused"
			tc.edit(&in)
			if _, err := s.UpdateSurvey(t.Context(), in); !errors.Is(err, tc.want) {
				t.Errorf("%s: UpdateSurvey = %v, want %v", tc.name, err, tc.want)
			}
		}
		if got := mustGetSurvey(t, s, sv.ID); !reflect.DeepEqual(normSurvey(got), normSurvey(v3)) {
			t.Errorf("GetSurvey after refused updates =\n%s\nwant\n%s", fmtSurvey(got), fmtSurvey(v3))
		}
	})

	t.Run("ConcurrentUpdaters", func(t *testing.T) {
		// Many handles answer the same version at once: exactly one wins
		// and the stored survey is the winner's.
		t.Parallel()
		const n = 8
		clk := NewClock(t0)
		open := newStore(t)
		sv := mustCreateSurvey(t, open(t, clk.Now), minimalSurvey("S-CU-0001", "key-cu", user("sv-cu"), clk.Now()), time.Time{})
		handles := make([]koe.SurveyStore, n)
		for i := range handles {
			handles[i] = open(t, clk.Now)
		}
		var (
			wg              sync.WaitGroup
			mu              sync.Mutex
			wins, conflicts int
			winner          int
			unexpected      []error
			start           = make(chan struct{})
		)
		for i, h := range handles {
			wg.Go(func() {
				mine := sv
				mine.Status = koe.SurveyAnswered
				mine.Score = ptr(i)
				<-start
				_, err := h.UpdateSurvey(t.Context(), mine)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins++
					winner = i
				case errors.Is(err, koe.ErrConflict):
					conflicts++
				default:
					unexpected = append(unexpected, err)
				}
			})
		}
		close(start)
		wg.Wait()
		if len(unexpected) > 0 {
			t.Fatalf("UpdateSurvey errors: %v", unexpected)
		}
		if wins != 1 || conflicts != n-1 {
			t.Fatalf("%d wins, %d conflicts; want 1 and %d", wins, conflicts, n-1)
		}
		got := mustGetSurvey(t, handles[0], sv.ID)
		if got.Version != 2 || got.Score == nil || *got.Score != winner {
			t.Errorf("stored survey = %s, want version 2 with the winner's score %d", fmtSurvey(got), winner)
		}
	})

	t.Run("Filters", func(t *testing.T) {
		t.Parallel()
		clk := NewClock(t0)
		open := newStore(t)
		s := open(t, clk.Now)
		a, b := user("sv-f-a"), user("sv-f-b")
		at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
		mk := func(id string, u koe.UserID, tp koe.Touchpoint, sent time.Time) {
			sv := minimalSurvey(id, "key-"+id, u, sent)
			sv.Touchpoint = tp
			mustCreateSurvey(t, s, sv, t0.Add(1000*day)) // after every send: no budget
		}
		// Created out of order; S-F-2 and S-F-3 share a SentAt.
		mk("S-F-5", b, koe.TouchpointRenewal, at(4))
		mk("S-F-3", a, koe.TouchpointRenewal, at(2))
		mk("S-F-1", a, koe.TouchpointClaim, at(0))
		mk("S-F-2", b, koe.TouchpointClaim, at(2))
		mk("S-F-4", a, koe.TouchpointClaim, at(3))
		for _, tc := range []struct {
			name string
			f    koe.SurveyFilter
			want []string
		}{
			{"all", koe.SurveyFilter{}, []string{"S-F-1", "S-F-2", "S-F-3", "S-F-4", "S-F-5"}},
			{"from inclusive", koe.SurveyFilter{From: at(2)}, []string{"S-F-2", "S-F-3", "S-F-4", "S-F-5"}},
			{"to exclusive", koe.SurveyFilter{To: at(2)}, []string{"S-F-1"}},
			{"from and to", koe.SurveyFilter{From: at(2), To: at(4)}, []string{"S-F-2", "S-F-3", "S-F-4"}},
			{"to one nanosecond past", koe.SurveyFilter{From: at(3), To: at(4).Add(time.Nanosecond)}, []string{"S-F-4", "S-F-5"}},
			{"from one nanosecond late", koe.SurveyFilter{From: at(0).Add(time.Nanosecond), To: at(3)}, []string{"S-F-2", "S-F-3"}},
			{"touchpoint claim", koe.SurveyFilter{Touchpoint: koe.TouchpointClaim}, []string{"S-F-1", "S-F-2", "S-F-4"}},
			{"touchpoint renewal", koe.SurveyFilter{Touchpoint: koe.TouchpointRenewal}, []string{"S-F-3", "S-F-5"}},
			{"user a", koe.SurveyFilter{User: a}, []string{"S-F-1", "S-F-3", "S-F-4"}},
			{"user and touchpoint", koe.SurveyFilter{User: a, Touchpoint: koe.TouchpointClaim}, []string{"S-F-1", "S-F-4"}},
			{"touchpoint and range", koe.SurveyFilter{Touchpoint: koe.TouchpointClaim, From: at(1), To: at(3)}, []string{"S-F-2"}},
			{"user and range", koe.SurveyFilter{User: b, From: at(3)}, []string{"S-F-5"}},
			{"unknown user", koe.SurveyFilter{User: user("sv-f-nobody")}, []string{}},
			{"unknown touchpoint", koe.SurveyFilter{Touchpoint: "onboarding"}, []string{}},
			{"empty range", koe.SurveyFilter{From: at(5)}, []string{}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := open(t, clk.Now).Surveys(t.Context(), tc.f)
				if err != nil {
					t.Fatalf("Surveys = %v", err)
				}
				if got == nil {
					t.Errorf("Surveys returned a nil slice")
				}
				if ids := surveyIDs(got); !reflect.DeepEqual(ids, tc.want) {
					t.Errorf("Surveys = %v, want %v", ids, tc.want)
				}
			})
		}
	})

	t.Run("CancelledContext", func(t *testing.T) {
		t.Parallel()
		clk := NewClock(t0)
		s := newStore(t)(t, clk.Now)
		u := user("sv-ctx")
		sv := mustCreateSurvey(t, s, minimalSurvey("S-CTX-0001", "key-ctx", u, clk.Now()), time.Time{})
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		upd := sv
		upd.Status, upd.Score = koe.SurveyAnswered, ptr(9)
		other := minimalSurvey("S-CTX-0002", "key-ctx-2", user("sv-ctx-2"), clk.Now())
		for _, op := range []struct {
			name string
			do   func() error
		}{
			{"CreateSurvey", func() error { _, err := s.CreateSurvey(ctx, other, time.Time{}); return err }},
			{"GetSurvey", func() error { _, err := s.GetSurvey(ctx, sv.ID); return err }},
			{"UpdateSurvey", func() error { _, err := s.UpdateSurvey(ctx, upd); return err }},
			{"Surveys", func() error { _, err := s.Surveys(ctx, koe.SurveyFilter{}); return err }},
		} {
			if err := op.do(); !errors.Is(err, context.Canceled) {
				t.Errorf("%s(cancelled) = %v, want context.Canceled", op.name, err)
			}
		}
		if got := mustGetSurvey(t, s, sv.ID); !reflect.DeepEqual(normSurvey(got), normSurvey(sv)) {
			t.Errorf("survey after cancelled update = %s, want %s", fmtSurvey(got), fmtSurvey(sv))
		}
		if _, err := s.GetSurvey(t.Context(), other.ID); !errors.Is(err, koe.ErrNotFound) {
			t.Errorf("GetSurvey(cancelled create) = %v, want ErrNotFound", err)
		}
	})
}

func minimalSurvey(id, key string, u koe.UserID, sent time.Time) koe.Survey {
	return koe.Survey{
		ID: id, Key: key, User: u, Touchpoint: koe.TouchpointClaim, Lang: koe.Japanese,
		Status: koe.SurveySent, SentAt: sent, ExpiresAt: sent.Add(7 * day),
	}
}

func fullSurvey(id, key string, u koe.UserID, sent time.Time) koe.Survey {
	sv := minimalSurvey(id, key, u, sent)
	sv.Ref = "AR-20261122-7F3K"
	sv.Status = koe.SurveyAnswered
	sv.Score, sv.Satisfaction = ptr(10), ptr(5)
	sv.Comment = "担当の方がとても親切でした。"
	sv.VoiceID, sv.CaseRef = "V-0001", "C-20261122-AB12"
	sv.AnsweredAt = sent.Add(90*time.Minute + 7)
	return sv
}

// normSurvey makes times comparable with reflect.DeepEqual.
func normSurvey(sv koe.Survey) koe.Survey {
	n := func(t time.Time) time.Time { return t.UTC().Round(0) }
	sv.SentAt, sv.ExpiresAt, sv.AnsweredAt = n(sv.SentAt), n(sv.ExpiresAt), n(sv.AnsweredAt)
	return sv
}

// fmtSurvey shows a survey with its pointers dereferenced.
func fmtSurvey(sv koe.Survey) string {
	p := func(v *int) string {
		if v == nil {
			return "nil"
		}
		return fmt.Sprint(*v)
	}
	score, sat := p(sv.Score), p(sv.Satisfaction)
	sv.Score, sv.Satisfaction = nil, nil
	return fmt.Sprintf("%+v score=%s satisfaction=%s", sv, score, sat)
}

func surveyIDs(ss []koe.Survey) []string {
	out := []string{}
	for _, sv := range ss {
		out = append(out, sv.ID)
	}
	return out
}

func mustCreateSurvey(t *testing.T, s koe.SurveyStore, sv koe.Survey, notBefore time.Time) koe.Survey {
	t.Helper()
	got, err := s.CreateSurvey(t.Context(), sv, notBefore)
	if err != nil {
		t.Fatalf("CreateSurvey(%s) = %v", sv.ID, err)
	}
	if got.Version != 1 {
		t.Fatalf("CreateSurvey(%s) version = %d, want 1", sv.ID, got.Version)
	}
	return got
}

func mustGetSurvey(t *testing.T, s koe.SurveyStore, id string) koe.Survey {
	t.Helper()
	got, err := s.GetSurvey(t.Context(), id)
	if err != nil {
		t.Fatalf("GetSurvey(%s) = %v", id, err)
	}
	return got
}

func mustUpdateSurvey(t *testing.T, s koe.SurveyStore, sv koe.Survey) koe.Survey {
	t.Helper()
	got, err := s.UpdateSurvey(t.Context(), sv)
	if err != nil {
		t.Fatalf("UpdateSurvey(%s) = %v", sv.ID, err)
	}
	if got.Version != sv.Version+1 {
		t.Fatalf("UpdateSurvey(%s) version = %d, want %d", sv.ID, got.Version, sv.Version+1)
	}
	return got
}

func mustSurveys(t *testing.T, s koe.SurveyStore, f koe.SurveyFilter) []koe.Survey {
	t.Helper()
	got, err := s.Surveys(t.Context(), f)
	if err != nil {
		t.Fatalf("Surveys = %v", err)
	}
	return got
}
