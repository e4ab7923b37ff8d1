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

// ReportFactory is Factory for a koe.ReportStore alone (a fake, or a
// backend seen through that port). Every call within one test returns a
// store over the same data.
type ReportFactory func(t *testing.T, now func() time.Time) koe.ReportStore

// TestReports runs the koe.ReportStore conformance tests on a backend.
func TestReports(t *testing.T, newBackend func(t *testing.T) Factory, f Features) {
	TestReportStore(t, func(t *testing.T) ReportFactory {
		open := newBackend(t)
		return func(t *testing.T, now func() time.Time) koe.ReportStore { return open(t, now) }
	}, f)
}

// TestReportStore checks koe.ReportStore: create and its idempotency, get,
// the per-user listing, and versioned updates.
//
// Choices the port's comments leave open, which the suite fixes: a report
// must have a Ref, a Key and a valid User (ErrInvalid otherwise, nothing
// stored); every field is stored as given (the store sets only Version);
// ReportsByUser orders by SubmittedAt, newest first, returns an empty slice
// for an unknown user or a limit that is not positive; UpdateReport may not
// change the Key, User or SubmittedAt of a report (ErrInvalid, nothing
// changed). Every method given a cancelled context returns an error that
// wraps context.Canceled.
func TestReportStore(t *testing.T, newStore func(t *testing.T) ReportFactory, f Features) {
	t.Run("CreateGetRoundTrip", func(t *testing.T) {
		// Every field survives, also through a second handle.
		t.Parallel()
		clk := NewClock(t0)
		open := newStore(t)
		s := open(t, clk.Now)
		in := fullReport("AR-20261122-7F3K", "key-full", user("rep-full"), clk.Now())
		in.Version = 7 // ignored: a new report is at version 1
		got, err := s.CreateReport(t.Context(), in)
		if err != nil {
			t.Fatalf("CreateReport = %v", err)
		}
		want := in
		want.Version = 1
		if !reflect.DeepEqual(normReport(got), normReport(want)) {
			t.Errorf("CreateReport returned\n%+v\nwant\n%+v", got, want)
		}
		for name, st := range map[string]koe.ReportStore{"same handle": s, "second handle": open(t, clk.Now)} {
			got, err := st.GetReport(t.Context(), in.Ref)
			if err != nil {
				t.Fatalf("%s: GetReport = %v", name, err)
			}
			if !reflect.DeepEqual(normReport(got), normReport(want)) {
				t.Errorf("%s: GetReport =\n%+v\nwant\n%+v", name, got, want)
			}
		}
	})

	t.Run("MinimalRoundTrip", func(t *testing.T) {
		// Empty optional fields come back empty (nil, not zero structs).
		t.Parallel()
		clk := NewClock(t0)
		s := newStore(t)(t, clk.Now)
		in := minimalReport("AR-MIN-0001", "key-min", user("rep-min"), clk.Now())
		mustCreateReport(t, s, in)
		got := mustGetReport(t, s, in.Ref)
		in.Version = 1
		if !reflect.DeepEqual(normReport(got), normReport(in)) {
			t.Errorf("GetReport =\n%+v\nwant\n%+v", got, in)
		}
	})

	t.Run("GetMissing", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)(t, NewClock(t0).Now)
		if _, err := s.GetReport(t.Context(), "AR-NOPE"); !errors.Is(err, koe.ErrNotFound) {
			t.Errorf("GetReport(missing) = %v, want ErrNotFound", err)
		}
	})

	t.Run("DuplicateKey", func(t *testing.T) {
		// A retried submission (same Key, maybe another Ref and content)
		// yields the stored report and ErrDuplicate; nothing changes.
		t.Parallel()
		clk := NewClock(t0)
		open := newStore(t)
		s := open(t, clk.Now)
		u := user("rep-dup")
		first := mustCreateReport(t, s, minimalReport("AR-DUP-0001", "key-dup", u, clk.Now()))
		clk.Advance(time.Minute)
		for _, tc := range []struct {
			name string
			r    koe.AccidentReport
		}{
			{"same report again", minimalReport("AR-DUP-0001", "key-dup", u, t0)},
			{"new ref, other content", func() koe.AccidentReport {
				r := minimalReport("AR-DUP-0002", "key-dup", u, clk.Now())
				r.Description = "retried with other words"
				return r
			}()},
		} {
			got, err := open(t, clk.Now).CreateReport(t.Context(), tc.r)
			if !errors.Is(err, koe.ErrDuplicate) {
				t.Fatalf("%s: CreateReport = %v, want ErrDuplicate", tc.name, err)
			}
			if !reflect.DeepEqual(normReport(got), normReport(first)) {
				t.Errorf("%s: CreateReport returned\n%+v\nwant the stored\n%+v", tc.name, got, first)
			}
		}
		if _, err := s.GetReport(t.Context(), "AR-DUP-0002"); !errors.Is(err, koe.ErrNotFound) {
			t.Errorf("GetReport(ref of the refused retry) = %v, want ErrNotFound", err)
		}
		if got := mustReportsByUser(t, s, u, 10); len(got) != 1 {
			t.Errorf("ReportsByUser = %d reports, want 1", len(got))
		}
	})

	t.Run("DuplicateRef", func(t *testing.T) {
		// A Ref used by another Key: ErrDuplicate and a zero report; the
		// stored report is untouched and the new Key stays free.
		t.Parallel()
		clk := NewClock(t0)
		s := newStore(t)(t, clk.Now)
		first := mustCreateReport(t, s, minimalReport("AR-REF-0001", "key-ref-a", user("rep-ref-a"), clk.Now()))
		clash := minimalReport("AR-REF-0001", "key-ref-b", user("rep-ref-b"), clk.Now())
		clash.Description = "someone else"
		got, err := s.CreateReport(t.Context(), clash)
		if !errors.Is(err, koe.ErrDuplicate) {
			t.Fatalf("CreateReport(taken ref) = %v, want ErrDuplicate", err)
		}
		if !reflect.DeepEqual(got, koe.AccidentReport{}) {
			t.Errorf("CreateReport(taken ref) returned %+v, want a zero report", got)
		}
		if got := mustGetReport(t, s, first.Ref); !reflect.DeepEqual(normReport(got), normReport(first)) {
			t.Errorf("stored report changed:\n%+v\nwant\n%+v", got, first)
		}
		if got := mustReportsByUser(t, s, user("rep-ref-b"), 10); len(got) != 0 {
			t.Errorf("ReportsByUser(refused user) = %d reports, want 0", len(got))
		}
		// The refused Key was not taken: it can be used with a fresh Ref.
		clash.Ref = "AR-REF-0002"
		mustCreateReport(t, s, clash)
	})

	t.Run("Invalid", func(t *testing.T) {
		t.Parallel()
		clk := NewClock(t0)
		s := newStore(t)(t, clk.Now)
		u := user("rep-invalid")
		for _, tc := range []struct {
			name string
			edit func(r *koe.AccidentReport)
		}{
			{"no ref", func(r *koe.AccidentReport) { r.Ref = "" }},
			{"no key", func(r *koe.AccidentReport) { r.Key = "" }},
			{"no user", func(r *koe.AccidentReport) { r.User = "" }},
			{"user without channel", func(r *koe.AccidentReport) { r.User = "U1" }},
		} {
			r := minimalReport("AR-INV-0001", "key-inv", u, clk.Now())
			tc.edit(&r)
			if _, err := s.CreateReport(t.Context(), r); !errors.Is(err, koe.ErrInvalid) {
				t.Errorf("%s: CreateReport = %v, want ErrInvalid", tc.name, err)
			}
		}
		if _, err := s.GetReport(t.Context(), "AR-INV-0001"); !errors.Is(err, koe.ErrNotFound) {
			t.Errorf("GetReport after refused creates = %v, want ErrNotFound", err)
		}
		mustCreateReport(t, s, minimalReport("AR-INV-0001", "key-inv", u, clk.Now()))
	})

	t.Run("ByUserNewestFirst", func(t *testing.T) {
		t.Parallel()
		clk := NewClock(t0)
		open := newStore(t)
		s := open(t, clk.Now)
		u, v := user("rep-list-u"), user("rep-list-v")
		// Created out of order of SubmittedAt: the listing sorts by it.
		at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
		for _, r := range []koe.AccidentReport{
			minimalReport("AR-L-2", "k-l-2", u, at(2)),
			minimalReport("AR-L-1", "k-l-1", u, at(1)),
			minimalReport("AR-L-V", "k-l-v", v, at(3)),
			minimalReport("AR-L-4", "k-l-4", u, at(4)),
			minimalReport("AR-L-3", "k-l-3", u, at(3)),
		} {
			mustCreateReport(t, s, r)
		}
		s2 := open(t, clk.Now)
		for _, tc := range []struct {
			user  koe.UserID
			limit int
			want  []string
		}{
			{u, 10, []string{"AR-L-4", "AR-L-3", "AR-L-2", "AR-L-1"}},
			{u, 4, []string{"AR-L-4", "AR-L-3", "AR-L-2", "AR-L-1"}},
			{u, 2, []string{"AR-L-4", "AR-L-3"}},
			{u, 1, []string{"AR-L-4"}},
			{u, 0, nil},
			{u, -1, nil},
			{v, 10, []string{"AR-L-V"}},
			{user("rep-list-nobody"), 10, nil},
		} {
			got := mustReportsByUser(t, s2, tc.user, tc.limit)
			if refs := reportRefs(got); !reflect.DeepEqual(refs, tc.want) {
				t.Errorf("ReportsByUser(%s, %d) = %v, want %v", tc.user.Local(), tc.limit, refs, tc.want)
			}
			for _, r := range got {
				if r.User != tc.user || r.Version != 1 || r.Description == "" {
					t.Errorf("ReportsByUser(%s): report %s has user %s, version %d, description %q",
						tc.user.Local(), r.Ref, r.User.Local(), r.Version, r.Description)
				}
			}
		}
	})

	t.Run("Update", func(t *testing.T) {
		t.Parallel()
		clk := NewClock(t0)
		open := newStore(t)
		s := open(t, clk.Now)
		u := user("rep-upd")
		v1 := mustCreateReport(t, s, fullReport("AR-UPD-0001", "key-upd", u, clk.Now()))

		clk.Advance(time.Minute)
		r := v1
		r.Status = koe.ReportAssigned
		r.Assignee = "佐藤"
		r.UpdatedAt = clk.Now()
		r.History = append(r.History[:len(r.History):len(r.History)], koe.StatusChange{
			From: koe.ReportReceived, To: koe.ReportAssigned, By: "U0STAFF", At: clk.Now(), Key: "act-2",
		})
		r.Alert = &koe.AlertRef{Channel: "C0NEW", TS: "1763800000.000200"}
		r.Photos = nil
		v2, err := s.UpdateReport(t.Context(), r)
		if err != nil {
			t.Fatalf("UpdateReport = %v", err)
		}
		want := r
		want.Version = 2
		if !reflect.DeepEqual(normReport(v2), normReport(want)) {
			t.Errorf("UpdateReport returned\n%+v\nwant\n%+v", v2, want)
		}
		if got := mustGetReport(t, open(t, clk.Now), r.Ref); !reflect.DeepEqual(normReport(got), normReport(want)) {
			t.Errorf("GetReport after update =\n%+v\nwant\n%+v", got, want)
		}
		if got := mustReportsByUser(t, s, u, 10); len(got) != 1 || got[0].Version != 2 || got[0].Status != koe.ReportAssigned {
			t.Errorf("ReportsByUser after update = %+v, want the one report at version 2", got)
		}

		// Stale: the version-1 copy is refused and changes nothing.
		stale := v1
		stale.Status = koe.ReportDone
		if _, err := s.UpdateReport(t.Context(), stale); !errors.Is(err, koe.ErrConflict) {
			t.Errorf("UpdateReport(stale) = %v, want ErrConflict", err)
		}
		ahead := v2
		ahead.Version = 5
		if _, err := s.UpdateReport(t.Context(), ahead); !errors.Is(err, koe.ErrConflict) {
			t.Errorf("UpdateReport(version from the future) = %v, want ErrConflict", err)
		}
		// Identity fields cannot change.
		for _, tc := range []struct {
			name string
			edit func(r *koe.AccidentReport)
		}{
			{"key", func(r *koe.AccidentReport) { r.Key = "other-key" }},
			{"user", func(r *koe.AccidentReport) { r.User = user("rep-upd-other") }},
			{"submitted at", func(r *koe.AccidentReport) { r.SubmittedAt = r.SubmittedAt.Add(time.Nanosecond) }},
		} {
			bad := v2
			bad.Status = koe.ReportDone
			tc.edit(&bad)
			if _, err := s.UpdateReport(t.Context(), bad); !errors.Is(err, koe.ErrInvalid) {
				t.Errorf("UpdateReport(changed %s) = %v, want ErrInvalid", tc.name, err)
			}
		}
		if got := mustGetReport(t, s, r.Ref); !reflect.DeepEqual(normReport(got), normReport(want)) {
			t.Errorf("GetReport after refused updates =\n%+v\nwant\n%+v", got, want)
		}

		missing := v2
		missing.Ref, missing.Key = "AR-UPD-NONE", "key-upd-none"
		if _, err := s.UpdateReport(t.Context(), missing); !errors.Is(err, koe.ErrNotFound) {
			t.Errorf("UpdateReport(missing) = %v, want ErrNotFound", err)
		}
		if _, err := s.GetReport(t.Context(), missing.Ref); !errors.Is(err, koe.ErrNotFound) {
			t.Errorf("GetReport after UpdateReport(missing) = %v, want ErrNotFound (update does not create)", err)
		}
	})

	t.Run("ConcurrentUpdaters", func(t *testing.T) {
		// Many handles update the same version at once: exactly one wins,
		// the others get ErrConflict, and the stored report is the winner's.
		t.Parallel()
		const n = 8
		clk := NewClock(t0)
		open := newStore(t)
		r := mustCreateReport(t, open(t, clk.Now), minimalReport("AR-CC-0001", "key-cc", user("rep-cc"), clk.Now()))
		handles := make([]koe.ReportStore, n)
		for i := range handles {
			handles[i] = open(t, clk.Now)
		}
		var (
			wg              sync.WaitGroup
			mu              sync.Mutex
			wins, conflicts int
			winner          string
			start           = make(chan struct{})
			unexpected      []error
		)
		for i, h := range handles {
			wg.Go(func() {
				mine := r
				mine.Assignee = fmt.Sprintf("staff-%d", i)
				mine.Status = koe.ReportAssigned
				<-start
				_, err := h.UpdateReport(t.Context(), mine)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins++
					winner = mine.Assignee
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
			t.Fatalf("UpdateReport errors: %v", unexpected)
		}
		if wins != 1 || conflicts != n-1 {
			t.Fatalf("%d wins, %d conflicts; want 1 and %d", wins, conflicts, n-1)
		}
		got := mustGetReport(t, handles[0], r.Ref)
		if got.Version != 2 || got.Assignee != winner {
			t.Errorf("stored version %d by %q, want version 2 by the winner %q", got.Version, got.Assignee, winner)
		}
	})

	t.Run("ConcurrentCreateSameKey", func(t *testing.T) {
		// Simultaneous retries of one submission with different Refs:
		// exactly one report is stored and every caller gets it.
		t.Parallel()
		const n = 8
		clk := NewClock(t0)
		open := newStore(t)
		u := user("rep-ccreate")
		handles := make([]koe.ReportStore, n)
		for i := range handles {
			handles[i] = open(t, clk.Now)
		}
		refs := make([]string, n)
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, h := range handles {
			wg.Go(func() {
				<-start
				got, err := h.CreateReport(t.Context(), minimalReport(fmt.Sprintf("AR-CK-%d", i), "key-ccreate", u, clk.Now()))
				refs[i], errs[i] = got.Ref, err
			})
		}
		close(start)
		wg.Wait()
		created := 0
		for i, err := range errs {
			switch {
			case err == nil:
				created++
			case errors.Is(err, koe.ErrDuplicate):
			default:
				t.Errorf("CreateReport %d = %v", i, err)
			}
			if refs[i] != refs[0] || refs[i] == "" {
				t.Errorf("CreateReport %d returned ref %q, others %q", i, refs[i], refs[0])
			}
		}
		if created != 1 {
			t.Errorf("%d creates succeeded, want 1", created)
		}
		if got := mustReportsByUser(t, handles[0], u, 10); len(got) != 1 {
			t.Errorf("ReportsByUser = %v, want one report", reportRefs(got))
		}
	})

	t.Run("CancelledContext", func(t *testing.T) {
		t.Parallel()
		clk := NewClock(t0)
		s := newStore(t)(t, clk.Now)
		u := user("rep-ctx")
		r := mustCreateReport(t, s, minimalReport("AR-CTX-0001", "key-ctx", u, clk.Now()))
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		upd := r
		upd.Status = koe.ReportDone
		for _, op := range []struct {
			name string
			do   func() error
		}{
			{"CreateReport", func() error {
				_, err := s.CreateReport(ctx, minimalReport("AR-CTX-0002", "key-ctx-2", u, clk.Now()))
				return err
			}},
			{"GetReport", func() error { _, err := s.GetReport(ctx, r.Ref); return err }},
			{"ReportsByUser", func() error { _, err := s.ReportsByUser(ctx, u, 10); return err }},
			{"UpdateReport", func() error { _, err := s.UpdateReport(ctx, upd); return err }},
		} {
			if err := op.do(); !errors.Is(err, context.Canceled) {
				t.Errorf("%s(cancelled) = %v, want context.Canceled", op.name, err)
			}
		}
		// Nothing was written.
		if got := mustGetReport(t, s, r.Ref); got.Version != 1 || got.Status != koe.ReportReceived {
			t.Errorf("after cancelled update: version %d status %s, want 1 received", got.Version, got.Status)
		}
		if _, err := s.GetReport(t.Context(), "AR-CTX-0002"); !errors.Is(err, koe.ErrNotFound) {
			t.Errorf("after cancelled create: GetReport = %v, want ErrNotFound", err)
		}
	})
}

// minimalReport has only what every report has.
func minimalReport(ref, key string, u koe.UserID, now time.Time) koe.AccidentReport {
	return koe.AccidentReport{
		Ref:         ref,
		Key:         key,
		User:        u,
		Lang:        koe.Japanese,
		Kind:        koe.AccidentOther,
		OccurredAt:  now.Add(-time.Hour),
		Description: "description of " + ref,
		Status:      koe.ReportReceived,
		SubmittedAt: now,
		UpdatedAt:   now,
	}
}

// fullReport sets every field.
func fullReport(ref, key string, u koe.UserID, now time.Time) koe.AccidentReport {
	return koe.AccidentReport{
		Ref:            ref,
		Key:            key,
		User:           u,
		Lang:           koe.English,
		Urgent:         true,
		Kind:           koe.AccidentMotor,
		PolicyNumber:   "1234567890",
		Name:           "山田 太郎",
		OccurredAt:     now.Add(-90 * time.Minute),
		OccurredText:   "2026年11月22日 8:00頃",
		Location:       &koe.Location{Title: "交差点", Address: "東京都千代田区丸の内1-1", Latitude: 35.681236, Longitude: 139.767125},
		Place:          "丸の内の交差点",
		Description:    "信号待ちで後ろから追突されました。\n相手は逃げていません。",
		Involved:       []koe.Party{{Kind: "vehicle", Name: "鈴木", Plate: "品川 300 あ 12-34", Insurer: "Other Ins"}, {Kind: "property"}},
		PoliceNotified: "yes",
		Injuries:       "首が痛い",
		Photos: []koe.Photo{
			{Path: "photos/AR-1/1.jpg", ContentType: "image/jpeg", Size: 123456},
			{Path: "photos/AR-1/2.png", ContentType: "image/png", Size: 7},
		},
		Phone:    "+819012345678",
		CallTime: "午後",
		Status:   koe.ReportReceived,
		Assignee: "",
		History: []koe.StatusChange{
			{From: "", To: koe.ReportReceived, By: "customer", At: now, Note: "submitted", Key: "act-1"},
		},
		Alert:       &koe.AlertRef{Channel: "C0ACCIDENTS", TS: "1763800000.000100"},
		SubmittedAt: now,
		UpdatedAt:   now.Add(time.Second),
	}
}

// normReport makes times comparable with reflect.DeepEqual.
func normReport(r koe.AccidentReport) koe.AccidentReport {
	n := func(t time.Time) time.Time { return t.UTC().Round(0) }
	r.OccurredAt, r.SubmittedAt, r.UpdatedAt = n(r.OccurredAt), n(r.SubmittedAt), n(r.UpdatedAt)
	if r.History != nil {
		h := make([]koe.StatusChange, len(r.History))
		for i, c := range r.History {
			c.At = n(c.At)
			h[i] = c
		}
		r.History = h
	}
	return r
}

func reportRefs(rs []koe.AccidentReport) []string {
	var refs []string
	for _, r := range rs {
		refs = append(refs, r.Ref)
	}
	return refs
}

func mustCreateReport(t *testing.T, s koe.ReportStore, r koe.AccidentReport) koe.AccidentReport {
	t.Helper()
	got, err := s.CreateReport(t.Context(), r)
	if err != nil {
		t.Fatalf("CreateReport(%s) = %v", r.Ref, err)
	}
	if got.Version != 1 || got.Ref != r.Ref {
		t.Fatalf("CreateReport(%s) returned ref %s version %d, want version 1", r.Ref, got.Ref, got.Version)
	}
	return got
}

func mustGetReport(t *testing.T, s koe.ReportStore, ref string) koe.AccidentReport {
	t.Helper()
	got, err := s.GetReport(t.Context(), ref)
	if err != nil {
		t.Fatalf("GetReport(%s) = %v", ref, err)
	}
	return got
}

func mustReportsByUser(t *testing.T, s koe.ReportStore, u koe.UserID, limit int) []koe.AccidentReport {
	t.Helper()
	got, err := s.ReportsByUser(t.Context(), u, limit)
	if err != nil {
		t.Fatalf("ReportsByUser(%d) = %v", limit, err)
	}
	if got == nil {
		t.Fatalf("ReportsByUser(%d) = nil slice, want non-nil", limit)
	}
	return got
}
