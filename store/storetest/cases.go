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

// CaseFactory is Factory for a koe.CaseStore alone (a fake, or a backend
// seen through that port). Every call within one test returns a store over
// the same data.
type CaseFactory func(t *testing.T, now func() time.Time) koe.CaseStore

// TestCases runs the koe.CaseStore conformance tests on a backend.
func TestCases(t *testing.T, newBackend func(t *testing.T) Factory, f Features) {
	TestCaseStore(t, func(t *testing.T) CaseFactory {
		open := newBackend(t)
		return func(t *testing.T, now func() time.Time) koe.CaseStore { return open(t, now) }
	}, f)
}

// TestCaseStore checks koe.CaseStore: create and its idempotency, get,
// versioned updates, the filtered listing and the lookup by Slack alert.
//
// Choices the port's comments leave open, which the suite fixes: a case
// must have a Ref, a Key and a valid User (ErrInvalid otherwise, nothing
// stored); every field is stored as given, times to the nanosecond (the
// store sets only Version; an empty Urgency or History may come back nil);
// UpdateCase may not change the Key, User or CreatedAt of a case
// (ErrInvalid, nothing changed); Cases orders by CreatedAt, newest first,
// ties by Ref descending, returns an empty non-nil slice when nothing
// matches and refuses a negative Limit with ErrInvalid; CaseByAlert follows
// the case's current Alert (an alert replaced by an update no longer finds
// it). Every method given a cancelled context returns an error that wraps
// context.Canceled.
func TestCaseStore(t *testing.T, newStore func(t *testing.T) CaseFactory, f Features) {
	t.Run("CreateGetRoundTrip", func(t *testing.T) {
		// Every field survives, also through a second handle; empty
		// optional fields come back empty.
		t.Parallel()
		clk := NewClock(t0)
		open := newStore(t)
		s := open(t, clk.Now)
		full := fullCase("C-20261122-7F3K", "key-full", user("case-full"), clk.Now())
		full.Version = 7 // ignored: a new case is at version 1
		minimal := minimalCase("C-MIN-0001", "key-min", user("case-min"), clk.Now())
		for _, in := range []koe.Case{full, minimal} {
			got, err := s.CreateCase(t.Context(), in)
			if err != nil {
				t.Fatalf("CreateCase(%s) = %v", in.Ref, err)
			}
			want := in
			want.Version = 1
			if !reflect.DeepEqual(normCase(got), normCase(want)) {
				t.Errorf("CreateCase returned\n%+v\nwant\n%+v", got, want)
			}
			for name, st := range map[string]koe.CaseStore{"same handle": s, "second handle": open(t, clk.Now)} {
				got := mustGetCase(t, st, in.Ref)
				if !reflect.DeepEqual(normCase(got), normCase(want)) {
					t.Errorf("%s: GetCase =\n%+v\nwant\n%+v", name, got, want)
				}
			}
		}
	})

	t.Run("GetMissing", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)(t, NewClock(t0).Now)
		if _, err := s.GetCase(t.Context(), "C-NOPE"); !errors.Is(err, koe.ErrNotFound) {
			t.Errorf("GetCase(missing) = %v, want ErrNotFound", err)
		}
	})

	t.Run("DuplicateKey", func(t *testing.T) {
		// A retried creation (same Key, maybe another Ref and content)
		// yields the stored case and ErrDuplicate; nothing changes.
		t.Parallel()
		clk := NewClock(t0)
		open := newStore(t)
		s := open(t, clk.Now)
		u := user("case-dup")
		first := mustCreateCase(t, s, fullCase("C-DUP-0001", "key-dup", u, clk.Now()))
		clk.Advance(time.Minute)
		for _, tc := range []struct {
			name string
			c    koe.Case
		}{
			{"same case again", fullCase("C-DUP-0001", "key-dup", u, t0)},
			{"new ref, other content", func() koe.Case {
				c := minimalCase("C-DUP-0002", "key-dup", u, clk.Now())
				c.Summary = "retried with other words"
				return c
			}()},
		} {
			got, err := open(t, clk.Now).CreateCase(t.Context(), tc.c)
			if !errors.Is(err, koe.ErrDuplicate) {
				t.Fatalf("%s: CreateCase = %v, want ErrDuplicate", tc.name, err)
			}
			if !reflect.DeepEqual(normCase(got), normCase(first)) {
				t.Errorf("%s: CreateCase returned\n%+v\nwant the stored\n%+v", tc.name, got, first)
			}
		}
		if _, err := s.GetCase(t.Context(), "C-DUP-0002"); !errors.Is(err, koe.ErrNotFound) {
			t.Errorf("GetCase(ref of the refused retry) = %v, want ErrNotFound", err)
		}
		if got := mustCases(t, s, koe.CaseFilter{User: u}); len(got) != 1 {
			t.Errorf("Cases(user) = %v, want one case", caseRefs(got))
		}
	})

	t.Run("DuplicateRef", func(t *testing.T) {
		// A Ref used by another Key: ErrDuplicate and a zero case; the
		// stored case is untouched and the new Key stays free.
		t.Parallel()
		clk := NewClock(t0)
		s := newStore(t)(t, clk.Now)
		first := mustCreateCase(t, s, minimalCase("C-REF-0001", "key-ref-a", user("case-ref-a"), clk.Now()))
		clash := minimalCase("C-REF-0001", "key-ref-b", user("case-ref-b"), clk.Now())
		clash.Summary = "someone else"
		got, err := s.CreateCase(t.Context(), clash)
		if !errors.Is(err, koe.ErrDuplicate) {
			t.Fatalf("CreateCase(taken ref) = %v, want ErrDuplicate", err)
		}
		if !reflect.DeepEqual(got, koe.Case{}) {
			t.Errorf("CreateCase(taken ref) returned %+v, want a zero case", got)
		}
		if got := mustGetCase(t, s, first.Ref); !reflect.DeepEqual(normCase(got), normCase(first)) {
			t.Errorf("stored case changed:\n%+v\nwant\n%+v", got, first)
		}
		if got := mustCases(t, s, koe.CaseFilter{User: user("case-ref-b")}); len(got) != 0 {
			t.Errorf("Cases(refused user) = %v, want none", caseRefs(got))
		}
		clash.Ref = "C-REF-0002"
		mustCreateCase(t, s, clash)
	})

	t.Run("Invalid", func(t *testing.T) {
		t.Parallel()
		clk := NewClock(t0)
		s := newStore(t)(t, clk.Now)
		u := user("case-invalid")
		for _, tc := range []struct {
			name string
			edit func(c *koe.Case)
		}{
			{"no ref", func(c *koe.Case) { c.Ref = "" }},
			{"no key", func(c *koe.Case) { c.Key = "" }},
			{"no user", func(c *koe.Case) { c.User = "" }},
			{"user without channel", func(c *koe.Case) { c.User = "U1" }},
		} {
			c := minimalCase("C-INV-0001", "key-inv", u, clk.Now())
			tc.edit(&c)
			if _, err := s.CreateCase(t.Context(), c); !errors.Is(err, koe.ErrInvalid) {
				t.Errorf("%s: CreateCase = %v, want ErrInvalid", tc.name, err)
			}
		}
		if _, err := s.GetCase(t.Context(), "C-INV-0001"); !errors.Is(err, koe.ErrNotFound) {
			t.Errorf("GetCase after refused creates = %v, want ErrNotFound", err)
		}
		if _, err := s.Cases(t.Context(), koe.CaseFilter{Limit: -1}); !errors.Is(err, koe.ErrInvalid) {
			t.Errorf("Cases(Limit -1) = %v, want ErrInvalid", err)
		}
		mustCreateCase(t, s, minimalCase("C-INV-0001", "key-inv", u, clk.Now()))
	})

	t.Run("Update", func(t *testing.T) {
		t.Parallel()
		clk := NewClock(t0)
		open := newStore(t)
		s := open(t, clk.Now)
		u := user("case-upd")
		v1 := mustCreateCase(t, s, fullCase("C-UPD-0001", "key-upd", u, clk.Now()))

		clk.Advance(time.Minute)
		c := v1
		c.Status = koe.CaseClosed
		c.Assignee = "佐藤"
		c.RootCause = "説明不足"
		c.Action = "再説明し、手順書を改訂"
		c.Handoff = false
		c.Score = nil
		c.Urgency = nil
		c.UpdatedAt = clk.Now()
		c.History = append(c.History[:len(c.History):len(c.History)], koe.CaseChange{
			From: koe.CaseAcknowledged, To: koe.CaseClosed, By: "U0STAFF", At: clk.Now(), Note: "closed", Key: "act-3",
		})
		c.Alert = &koe.AlertRef{Channel: "C0NEW", TS: "1763800000.000200"}
		v2, err := s.UpdateCase(t.Context(), c)
		if err != nil {
			t.Fatalf("UpdateCase = %v", err)
		}
		want := c
		want.Version = 2
		if !reflect.DeepEqual(normCase(v2), normCase(want)) {
			t.Errorf("UpdateCase returned\n%+v\nwant\n%+v", v2, want)
		}
		if got := mustGetCase(t, open(t, clk.Now), c.Ref); !reflect.DeepEqual(normCase(got), normCase(want)) {
			t.Errorf("GetCase after update =\n%+v\nwant\n%+v", got, want)
		}

		stale := v1
		stale.Status = koe.CaseEscalated
		if _, err := s.UpdateCase(t.Context(), stale); !errors.Is(err, koe.ErrConflict) {
			t.Errorf("UpdateCase(stale) = %v, want ErrConflict", err)
		}
		ahead := v2
		ahead.Version = 5
		if _, err := s.UpdateCase(t.Context(), ahead); !errors.Is(err, koe.ErrConflict) {
			t.Errorf("UpdateCase(version from the future) = %v, want ErrConflict", err)
		}
		for _, tc := range []struct {
			name string
			edit func(c *koe.Case)
		}{
			{"key", func(c *koe.Case) { c.Key = "other-key" }},
			{"user", func(c *koe.Case) { c.User = user("case-upd-other") }},
			{"created at", func(c *koe.Case) { c.CreatedAt = c.CreatedAt.Add(time.Nanosecond) }},
		} {
			bad := v2
			bad.Status = koe.CaseEscalated
			tc.edit(&bad)
			if _, err := s.UpdateCase(t.Context(), bad); !errors.Is(err, koe.ErrInvalid) {
				t.Errorf("UpdateCase(changed %s) = %v, want ErrInvalid", tc.name, err)
			}
		}
		if got := mustGetCase(t, s, c.Ref); !reflect.DeepEqual(normCase(got), normCase(want)) {
			t.Errorf("GetCase after refused updates =\n%+v\nwant\n%+v", got, want)
		}
		if got := mustCases(t, s, koe.CaseFilter{Status: koe.CaseEscalated}); len(got) != 0 {
			t.Errorf("Cases(escalated) after refused updates = %v, want none", caseRefs(got))
		}

		missing := v2
		missing.Ref, missing.Key = "C-UPD-NONE", "key-upd-none"
		if _, err := s.UpdateCase(t.Context(), missing); !errors.Is(err, koe.ErrNotFound) {
			t.Errorf("UpdateCase(missing) = %v, want ErrNotFound", err)
		}
		if _, err := s.GetCase(t.Context(), missing.Ref); !errors.Is(err, koe.ErrNotFound) {
			t.Errorf("GetCase after UpdateCase(missing) = %v, want ErrNotFound (update does not create)", err)
		}
	})

	t.Run("Filter", func(t *testing.T) {
		// Filters by status, type and user, newest first by CreatedAt; the
		// status filter follows updates.
		t.Parallel()
		clk := NewClock(t0)
		open := newStore(t)
		s := open(t, clk.Now)
		u, v := user("case-list-u"), user("case-list-v")
		at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
		mk := func(ref string, usr koe.UserID, typ koe.CaseType, st koe.CaseStatus, created time.Time) koe.Case {
			c := minimalCase(ref, "key-"+ref, usr, created)
			c.Type, c.Status = typ, st
			return c
		}
		// Created out of order of CreatedAt; C-3a and C-3b share an instant.
		for _, c := range []koe.Case{
			mk("C-2", u, koe.CaseComplaint, koe.CaseReceived, at(2)),
			mk("C-0", v, koe.CaseInquiry, koe.CaseReceived, at(0)),
			mk("C-3b", u, koe.CaseInquiry, koe.CaseAssigned, at(3)),
			mk("C-4", v, koe.CaseComplaint, koe.CaseClosed, at(4)),
			mk("C-1", u, koe.CaseComplaint, koe.CaseReceived, at(1)),
			mk("C-3a", v, koe.CaseComplaint, koe.CaseReceived, at(3)),
		} {
			mustCreateCase(t, s, c)
		}
		s2 := open(t, clk.Now)
		check := func(when string, tests []struct {
			name string
			f    koe.CaseFilter
			want []string
		}) {
			t.Helper()
			for _, tc := range tests {
				got := mustCases(t, s2, tc.f)
				if refs := caseRefs(got); !reflect.DeepEqual(refs, tc.want) {
					t.Errorf("%s: %s: Cases = %v, want %v", when, tc.name, refs, tc.want)
				}
				for _, c := range got {
					if c.Version < 1 || c.Summary == "" || (tc.f.Status != "" && c.Status != tc.f.Status) {
						t.Errorf("%s: %s: case %s at version %d, status %s, summary %q", when, tc.name, c.Ref, c.Version, c.Status, c.Summary)
					}
				}
			}
		}
		check("before updates", []struct {
			name string
			f    koe.CaseFilter
			want []string
		}{
			{"all", koe.CaseFilter{}, []string{"C-4", "C-3b", "C-3a", "C-2", "C-1", "C-0"}},
			{"status", koe.CaseFilter{Status: koe.CaseReceived}, []string{"C-3a", "C-2", "C-1", "C-0"}},
			{"status nobody has", koe.CaseFilter{Status: koe.CaseEscalated}, nil},
			{"type", koe.CaseFilter{Type: koe.CaseInquiry}, []string{"C-3b", "C-0"}},
			{"user", koe.CaseFilter{User: u}, []string{"C-3b", "C-2", "C-1"}},
			{"unknown user", koe.CaseFilter{User: user("case-list-nobody")}, nil},
			{"status and type", koe.CaseFilter{Status: koe.CaseReceived, Type: koe.CaseComplaint}, []string{"C-3a", "C-2", "C-1"}},
			{"status, type and user", koe.CaseFilter{Status: koe.CaseReceived, Type: koe.CaseComplaint, User: v}, []string{"C-3a"}},
			{"limit", koe.CaseFilter{Limit: 2}, []string{"C-4", "C-3b"}},
			{"limit with status", koe.CaseFilter{Status: koe.CaseReceived, Limit: 3}, []string{"C-3a", "C-2", "C-1"}},
			{"limit above count", koe.CaseFilter{User: u, Limit: 10}, []string{"C-3b", "C-2", "C-1"}},
		})
		// Moving cases between statuses moves them between the lists.
		for _, ref := range []string{"C-2", "C-0"} {
			c := mustGetCase(t, s, ref)
			c.Status = koe.CaseEscalated
			if _, err := s.UpdateCase(t.Context(), c); err != nil {
				t.Fatalf("UpdateCase(%s) = %v", ref, err)
			}
		}
		check("after updates", []struct {
			name string
			f    koe.CaseFilter
			want []string
		}{
			{"all", koe.CaseFilter{}, []string{"C-4", "C-3b", "C-3a", "C-2", "C-1", "C-0"}},
			{"old status", koe.CaseFilter{Status: koe.CaseReceived}, []string{"C-3a", "C-1"}},
			{"new status", koe.CaseFilter{Status: koe.CaseEscalated}, []string{"C-2", "C-0"}},
			{"new status and user", koe.CaseFilter{Status: koe.CaseEscalated, User: v}, []string{"C-0"}},
		})
	})

	t.Run("CaseByAlert", func(t *testing.T) {
		t.Parallel()
		clk := NewClock(t0)
		open := newStore(t)
		s := open(t, clk.Now)
		a := mustCreateCase(t, s, minimalCase("C-AL-A", "key-al-a", user("case-al-a"), clk.Now()))
		b := minimalCase("C-AL-B", "key-al-b", user("case-al-b"), clk.Now())
		b.Alert = &koe.AlertRef{Channel: "C0COMP", TS: "1763800000.000900"}
		b = mustCreateCase(t, s, b)
		first := koe.AlertRef{Channel: "C0COMP", TS: "1763800000.000100"}
		second := koe.AlertRef{Channel: "C0ESC", TS: "1763800000.000100"}
		notFound := func(when string, ref koe.AlertRef) {
			t.Helper()
			if _, err := s.CaseByAlert(t.Context(), ref.Channel, ref.TS); !errors.Is(err, koe.ErrNotFound) {
				t.Errorf("%s: CaseByAlert(%v) = %v, want ErrNotFound", when, ref, err)
			}
		}
		found := func(when string, ref koe.AlertRef, want koe.Case) {
			t.Helper()
			for name, st := range map[string]koe.CaseStore{"same handle": s, "second handle": open(t, clk.Now)} {
				got, err := st.CaseByAlert(t.Context(), ref.Channel, ref.TS)
				if err != nil {
					t.Errorf("%s: %s: CaseByAlert(%v) = %v", when, name, ref, err)
					continue
				}
				if !reflect.DeepEqual(normCase(got), normCase(want)) {
					t.Errorf("%s: %s: CaseByAlert(%v) =\n%+v\nwant\n%+v", when, name, ref, got, want)
				}
			}
		}
		notFound("before any alert", first)
		found("created with an alert", *b.Alert, b)
		a.Alert = &first
		a = mustUpdateCase(t, s, a)
		found("after the alert is set", first, a)
		notFound("same ts, other channel", koe.AlertRef{Channel: "C0OTHER", TS: first.TS})
		notFound("same channel, other ts", koe.AlertRef{Channel: first.Channel, TS: "1763800000.000101"})
		notFound("empty", koe.AlertRef{})
		// Other updates keep it findable, with the new content.
		a.Status = koe.CaseAcknowledged
		a = mustUpdateCase(t, s, a)
		found("after another update", first, a)
		// A moved alert is found only where it is now.
		a.Alert = &second
		a = mustUpdateCase(t, s, a)
		found("after the alert moved", second, a)
		notFound("the old alert after it moved", first)
		a.Alert = nil
		a = mustUpdateCase(t, s, a)
		notFound("after the alert was removed", second)
		found("the other case's alert", *b.Alert, b)
	})

	t.Run("ConcurrentUpdaters", func(t *testing.T) {
		// Many handles update the same version at once: exactly one wins,
		// the others get ErrConflict, and the stored case is the winner's.
		t.Parallel()
		const n = 8
		clk := NewClock(t0)
		open := newStore(t)
		c := mustCreateCase(t, open(t, clk.Now), minimalCase("C-CC-0001", "key-cc", user("case-cc"), clk.Now()))
		handles := make([]koe.CaseStore, n)
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
				mine := c
				mine.Assignee = fmt.Sprintf("staff-%d", i)
				mine.Status = koe.CaseAssigned
				mine.Alert = &koe.AlertRef{Channel: "C0CC", TS: fmt.Sprintf("1763800000.%06d", i)}
				<-start
				_, err := h.UpdateCase(t.Context(), mine)
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
			t.Fatalf("UpdateCase errors: %v", unexpected)
		}
		if wins != 1 || conflicts != n-1 {
			t.Fatalf("%d wins, %d conflicts; want 1 and %d", wins, conflicts, n-1)
		}
		got := mustGetCase(t, handles[0], c.Ref)
		if got.Version != 2 || got.Assignee != winner {
			t.Errorf("stored version %d by %q, want version 2 by the winner %q", got.Version, got.Assignee, winner)
		}
		// Only the winner's alert finds the case; the status index holds it once.
		for i := range n {
			_, err := handles[0].CaseByAlert(t.Context(), "C0CC", fmt.Sprintf("1763800000.%06d", i))
			if isWinner := fmt.Sprintf("staff-%d", i) == winner; isWinner != (err == nil) {
				t.Errorf("CaseByAlert(alert of staff-%d) = %v (winner %s)", i, err, winner)
			}
		}
		if got := mustCases(t, handles[0], koe.CaseFilter{Status: koe.CaseAssigned}); !reflect.DeepEqual(caseRefs(got), []string{c.Ref}) {
			t.Errorf("Cases(assigned) = %v, want [%s]", caseRefs(got), c.Ref)
		}
		if got := mustCases(t, handles[0], koe.CaseFilter{Status: koe.CaseReceived}); len(got) != 0 {
			t.Errorf("Cases(received) = %v, want none", caseRefs(got))
		}
	})

	t.Run("ConcurrentCreateSameKey", func(t *testing.T) {
		// Simultaneous retries of one creation with different Refs: exactly
		// one case is stored and every caller gets it.
		t.Parallel()
		const n = 8
		clk := NewClock(t0)
		open := newStore(t)
		u := user("case-ccreate")
		handles := make([]koe.CaseStore, n)
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
				got, err := h.CreateCase(t.Context(), minimalCase(fmt.Sprintf("C-CK-%d", i), "key-ccreate", u, clk.Now()))
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
				t.Errorf("CreateCase %d = %v", i, err)
			}
			if refs[i] != refs[0] || refs[i] == "" {
				t.Errorf("CreateCase %d returned ref %q, others %q", i, refs[i], refs[0])
			}
		}
		if created != 1 {
			t.Errorf("%d creates succeeded, want 1", created)
		}
		if got := mustCases(t, handles[0], koe.CaseFilter{User: u}); len(got) != 1 {
			t.Errorf("Cases(user) = %v, want one case", caseRefs(got))
		}
	})

	t.Run("CancelledContext", func(t *testing.T) {
		t.Parallel()
		clk := NewClock(t0)
		s := newStore(t)(t, clk.Now)
		u := user("case-ctx")
		c := mustCreateCase(t, s, minimalCase("C-CTX-0001", "key-ctx", u, clk.Now()))
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		upd := c
		upd.Status = koe.CaseClosed
		upd.Alert = &koe.AlertRef{Channel: "C0CTX", TS: "1.2"}
		for _, op := range []struct {
			name string
			do   func() error
		}{
			{"CreateCase", func() error {
				_, err := s.CreateCase(ctx, minimalCase("C-CTX-0002", "key-ctx-2", u, clk.Now()))
				return err
			}},
			{"GetCase", func() error { _, err := s.GetCase(ctx, c.Ref); return err }},
			{"UpdateCase", func() error { _, err := s.UpdateCase(ctx, upd); return err }},
			{"Cases", func() error { _, err := s.Cases(ctx, koe.CaseFilter{}); return err }},
			{"CaseByAlert", func() error { _, err := s.CaseByAlert(ctx, "C0CTX", "1.2"); return err }},
		} {
			if err := op.do(); !errors.Is(err, context.Canceled) {
				t.Errorf("%s(cancelled) = %v, want context.Canceled", op.name, err)
			}
		}
		if got := mustGetCase(t, s, c.Ref); got.Version != 1 || got.Status != koe.CaseReceived {
			t.Errorf("after cancelled update: version %d status %s, want 1 received", got.Version, got.Status)
		}
		if _, err := s.GetCase(t.Context(), "C-CTX-0002"); !errors.Is(err, koe.ErrNotFound) {
			t.Errorf("after cancelled create: GetCase = %v, want ErrNotFound", err)
		}
	})
}

// minimalCase has only what every case has.
func minimalCase(ref, key string, u koe.UserID, now time.Time) koe.Case {
	return koe.Case{
		Ref:       ref,
		Key:       key,
		Type:      koe.CaseComplaint,
		Kind:      koe.VoiceComplaint,
		Topic:     koe.TopicOther,
		Priority:  koe.PriorityNormal,
		User:      u,
		Lang:      koe.Japanese,
		Summary:   "summary of " + ref,
		Status:    koe.CaseReceived,
		AckDueAt:  now.Add(time.Hour),
		DueAt:     now.Add(24 * time.Hour),
		CreatedAt: now,
		UpdatedAt: now,
	}
}

// fullCase sets every field.
func fullCase(ref, key string, u koe.UserID, now time.Time) koe.Case {
	score := 2
	return koe.Case{
		Ref:      ref,
		Key:      key,
		Type:     koe.CaseComplaint,
		Kind:     koe.VoiceComplaint,
		Topic:    koe.TopicClaims,
		Priority: koe.PriorityUrgent,
		Urgency:  []string{"injury", "legal"},
		User:     u,
		Lang:     koe.English,
		VoiceID:  "voice-" + key,
		Summary:  "保険金の支払いが遅い。\n担当者から連絡がない 😠",
		Score:    &score,
		Status:   koe.CaseAcknowledged,
		Assignee: "U0STAFF",
		History: []koe.CaseChange{
			{From: "", To: koe.CaseReceived, By: "customer", At: now, Key: "act-1"},
			{From: koe.CaseReceived, To: koe.CaseAcknowledged, By: "U0STAFF", At: now.Add(time.Second), Note: "受付確認", Key: "act-2"},
		},
		RootCause: "cause",
		Action:    "action",
		AckDueAt:  now.Add(30 * time.Minute),
		DueAt:     now.Add(26 * time.Hour),
		Alert:     &koe.AlertRef{Channel: "C0COMPLAINTS", TS: "1763800000.000100"},
		Handoff:   true,
		CreatedAt: now,
		UpdatedAt: now.Add(time.Second),
	}
}

// normCase makes times comparable with reflect.DeepEqual and empty slices
// nil.
func normCase(c koe.Case) koe.Case {
	n := func(t time.Time) time.Time { return t.UTC().Round(0) }
	c.AckDueAt, c.DueAt, c.CreatedAt, c.UpdatedAt = n(c.AckDueAt), n(c.DueAt), n(c.CreatedAt), n(c.UpdatedAt)
	if len(c.Urgency) == 0 {
		c.Urgency = nil
	}
	if len(c.History) == 0 {
		c.History = nil
	} else {
		h := make([]koe.CaseChange, len(c.History))
		for i, ch := range c.History {
			ch.At = n(ch.At)
			h[i] = ch
		}
		c.History = h
	}
	return c
}

func caseRefs(cs []koe.Case) []string {
	var refs []string
	for _, c := range cs {
		refs = append(refs, c.Ref)
	}
	return refs
}

func mustCreateCase(t *testing.T, s koe.CaseStore, c koe.Case) koe.Case {
	t.Helper()
	got, err := s.CreateCase(t.Context(), c)
	if err != nil {
		t.Fatalf("CreateCase(%s) = %v", c.Ref, err)
	}
	if got.Version != 1 || got.Ref != c.Ref {
		t.Fatalf("CreateCase(%s) returned ref %s version %d, want version 1", c.Ref, got.Ref, got.Version)
	}
	return got
}

func mustGetCase(t *testing.T, s koe.CaseStore, ref string) koe.Case {
	t.Helper()
	got, err := s.GetCase(t.Context(), ref)
	if err != nil {
		t.Fatalf("GetCase(%s) = %v", ref, err)
	}
	return got
}

func mustUpdateCase(t *testing.T, s koe.CaseStore, c koe.Case) koe.Case {
	t.Helper()
	got, err := s.UpdateCase(t.Context(), c)
	if err != nil {
		t.Fatalf("UpdateCase(%s) = %v", c.Ref, err)
	}
	if got.Version != c.Version+1 {
		t.Fatalf("UpdateCase(%s) returned version %d, want %d", c.Ref, got.Version, c.Version+1)
	}
	return got
}

func mustCases(t *testing.T, s koe.CaseStore, f koe.CaseFilter) []koe.Case {
	t.Helper()
	got, err := s.Cases(t.Context(), f)
	if err != nil {
		t.Fatalf("Cases(%+v) = %v", f, err)
	}
	if got == nil {
		t.Fatalf("Cases(%+v) = nil slice, want non-nil", f)
	}
	return got
}
