package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/koehq/koe"
	"github.com/koehq/koe/internal/fakes"
)

// svClock is a settable fake clock.
type svClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *svClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *svClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type senderRig struct {
	sender  *SurveySender
	surveys *fakes.SurveyStore
	follow  *fakes.FollowStore
	inbox   *fakes.Appender
	clock   *svClock
	reg     *prometheus.Registry
	logs    *bytes.Buffer
}

func newSurveyRig(t *testing.T) *senderRig {
	t.Helper()
	r := &senderRig{
		surveys: fakes.NewSurveyStore(), follow: fakes.NewFollowStore(), inbox: &fakes.Appender{},
		clock: &svClock{t: jst(2026, 11, 22, 10, 0, 0)}, reg: prometheus.NewRegistry(), logs: &bytes.Buffer{},
	}
	r.sender = &SurveySender{
		Surveys: r.surveys, Follow: r.follow, Inbox: r.inbox, Now: r.clock.Now,
		Registerer: r.reg, Logger: slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	return r
}

// pushes reads koe_survey_pushes_total{touchpoint=tp} from the registry.
func (r *senderRig) pushes(tp koe.Touchpoint) float64 {
	mfs, err := r.reg.Gather()
	if err != nil {
		panic(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "koe_survey_pushes_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "touchpoint" && l.GetValue() == string(tp) {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

const svUserA = koe.UserID("line:U4af4980629aaaaaaaaaaaaaaaaaaaaaaaa")

func TestSurveySenderSend(t *testing.T) {
	ctx := context.Background()
	r := newSurveyRig(t)
	sv, err := r.sender.Send(ctx, SurveyRequest{User: svUserA, Touchpoint: koe.TouchpointClaim, Ref: "AR-20261120-7F3K", Key: "k1"})
	if err != nil {
		t.Fatal(err)
	}
	now := r.clock.Now()
	if !strings.HasPrefix(sv.ID, "S-20261122-") || len(sv.ID) != len("S-20261122-7F3K") {
		t.Errorf("id = %q, want S-20261122-XXXX", sv.ID)
	}
	if sv.Status != koe.SurveySent || sv.Lang != koe.Japanese || sv.Key != "k1" || sv.Ref != "AR-20261120-7F3K" ||
		!sv.SentAt.Equal(now) || !sv.ExpiresAt.Equal(now.Add(7*24*time.Hour)) || sv.Version != 1 {
		t.Errorf("survey = %+v", sv)
	}
	msgs := r.inbox.Messages()
	if len(msgs) != 1 {
		t.Fatalf("inbox has %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if m.ID != "survey:"+sv.ID || m.User != svUserA || m.Kind != koe.KindStaff || m.Staff == nil ||
		m.Staff.Action != SurveyAction || m.Staff.CaseRef != sv.ID || !m.SentAt.Equal(now) {
		t.Errorf("message = %+v (staff %+v)", m, m.Staff)
	}
	if got := r.pushes(koe.TouchpointClaim); got != 1 {
		t.Errorf("pushes{claim} = %v, want 1", got)
	}
	if strings.Contains(r.logs.String(), string(svUserA)) || strings.Contains(r.logs.String(), svUserA.Local()) {
		t.Errorf("logs contain the user id: %s", r.logs)
	}

	t.Run("same key returns the same survey, one push", func(t *testing.T) {
		r.clock.Add(time.Hour)
		again, err := r.sender.Send(ctx, SurveyRequest{User: svUserA, Touchpoint: koe.TouchpointClaim, Ref: "AR-20261120-7F3K", Key: "k1"})
		if err != nil {
			t.Fatal(err)
		}
		if again.ID != sv.ID {
			t.Errorf("id = %s, want %s", again.ID, sv.ID)
		}
		if n := len(r.inbox.Messages()); n != 1 {
			t.Errorf("inbox has %d messages, want 1", n)
		}
		if got := r.pushes(koe.TouchpointClaim); got != 1 {
			t.Errorf("pushes{claim} = %v, want 1", got)
		}
	})
	t.Run("same key for another touchpoint is invalid", func(t *testing.T) {
		_, err := r.sender.Send(ctx, SurveyRequest{User: svUserA, Touchpoint: koe.TouchpointRenewal, Key: "k1"})
		if !errors.Is(err, koe.ErrInvalid) {
			t.Errorf("err = %v, want ErrInvalid", err)
		}
	})
	t.Run("fatigue across touchpoints", func(t *testing.T) {
		r.clock.Add(29 * 24 * time.Hour)
		_, err := r.sender.Send(ctx, SurveyRequest{User: svUserA, Touchpoint: koe.TouchpointRenewal, Key: "k2"})
		var refused *RefusedError
		if !errors.As(err, &refused) || refused.Reason != RefusedFatigue || !errors.Is(err, koe.ErrConflict) {
			t.Fatalf("err = %v, want RefusedError fatigue wrapping ErrConflict", err)
		}
		if n := len(r.inbox.Messages()); n != 1 {
			t.Errorf("inbox has %d messages, want 1", n)
		}
	})
	t.Run("after the fatigue budget", func(t *testing.T) {
		r.clock.Add(24 * time.Hour) // 30 days and 1 hour after the first
		sv2, err := r.sender.Send(ctx, SurveyRequest{User: svUserA, Touchpoint: koe.TouchpointRenewal, Lang: koe.English, Key: "k3"})
		if err != nil {
			t.Fatal(err)
		}
		if sv2.ID == sv.ID || sv2.Lang != koe.English {
			t.Errorf("survey = %+v", sv2)
		}
		if got := r.pushes(koe.TouchpointRenewal); got != 1 {
			t.Errorf("pushes{renewal} = %v, want 1", got)
		}
	})
	t.Run("unfollowed", func(t *testing.T) {
		u := koe.UserID("line:Ub0000000000000000000000000000001")
		if err := r.follow.SetFollowing(ctx, u, false, r.clock.Now()); err != nil {
			t.Fatal(err)
		}
		_, err := r.sender.Send(ctx, SurveyRequest{User: u, Touchpoint: koe.TouchpointClaim})
		var refused *RefusedError
		if !errors.As(err, &refused) || refused.Reason != RefusedUnfollowed || !errors.Is(err, koe.ErrConflict) {
			t.Fatalf("err = %v, want RefusedError unfollowed", err)
		}
		if st := r.surveys.Stats(); st.Creates != 2 {
			t.Errorf("creates = %d, want 2 (nothing stored for an unfollowed user)", st.Creates)
		}
	})
}

func TestSurveySenderCustomFatigueAndExpiry(t *testing.T) {
	ctx := context.Background()
	r := newSurveyRig(t)
	r.sender.Fatigue, r.sender.Expiry = 24*time.Hour, time.Hour
	sv, err := r.sender.Send(ctx, SurveyRequest{User: svUserA, Touchpoint: koe.TouchpointClaim})
	if err != nil {
		t.Fatal(err)
	}
	if got := sv.ExpiresAt.Sub(sv.SentAt); got != time.Hour {
		t.Errorf("expiry = %v, want 1h", got)
	}
	if sv.Key == "" {
		t.Error("no key drawn for a request without one")
	}
	r.clock.Add(23 * time.Hour)
	if _, err := r.sender.Send(ctx, SurveyRequest{User: svUserA, Touchpoint: koe.TouchpointClaim}); !errors.Is(err, koe.ErrConflict) {
		t.Errorf("after 23h: err = %v, want a fatigue refusal", err)
	}
	r.clock.Add(time.Hour)
	if _, err := r.sender.Send(ctx, SurveyRequest{User: svUserA, Touchpoint: koe.TouchpointClaim}); !errors.Is(err, koe.ErrConflict) {
		t.Errorf("exactly 24h later: err = %v, want a fatigue refusal (the budget includes its bound)", err)
	}
	r.clock.Add(time.Second)
	if _, err := r.sender.Send(ctx, SurveyRequest{User: svUserA, Touchpoint: koe.TouchpointClaim}); err != nil {
		t.Errorf("after 24h: err = %v, want nil", err)
	}
}

// takenIDStore is a SurveyStore whose first create says the id is taken.
type takenIDStore struct {
	*fakes.SurveyStore
	calls int
}

func (s *takenIDStore) CreateSurvey(ctx context.Context, sv koe.Survey, notBefore time.Time) (koe.Survey, error) {
	s.calls++
	if s.calls == 1 {
		return koe.Survey{}, koe.ErrDuplicate
	}
	return s.SurveyStore.CreateSurvey(ctx, sv, notBefore)
}

func TestSurveySenderRedrawsTakenID(t *testing.T) {
	r := newSurveyRig(t)
	st := &takenIDStore{SurveyStore: r.surveys}
	r.sender.Surveys = st
	if _, err := r.sender.Send(context.Background(), SurveyRequest{User: svUserA, Touchpoint: koe.TouchpointClaim}); err != nil {
		t.Fatal(err)
	}
	if st.calls != 2 {
		t.Errorf("creates = %d, want 2", st.calls)
	}
}

func TestSurveySenderAppendFailureRetried(t *testing.T) {
	ctx := context.Background()
	r := newSurveyRig(t)
	r.inbox.Err = errors.New("redis down")
	req := SurveyRequest{User: svUserA, Touchpoint: koe.TouchpointClaim, Key: "k"}
	if _, err := r.sender.Send(ctx, req); err == nil || errors.Is(err, koe.ErrConflict) {
		t.Fatalf("err = %v, want the inbox error", err)
	}
	r.inbox.Err = nil
	sv, err := r.sender.Send(ctx, req)
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if msgs := r.inbox.Messages(); len(msgs) != 1 || msgs[0].Staff.CaseRef != sv.ID {
		t.Errorf("inbox = %+v, want the survey's message", msgs)
	}
	if got := r.pushes(koe.TouchpointClaim); got != 1 {
		t.Errorf("pushes = %v, want 1", got)
	}
}

func TestValidateSurveyRequest(t *testing.T) {
	ok := SurveyRequest{User: svUserA, Touchpoint: koe.TouchpointClaim}
	tests := []struct {
		name string
		mod  func(*SurveyRequest)
		want string // "" valid; else a substring of the error
	}{
		{"valid", func(*SurveyRequest) {}, ""},
		{"renewal in English", func(r *SurveyRequest) { r.Touchpoint, r.Lang = koe.TouchpointRenewal, koe.English }, ""},
		{"no user", func(r *SurveyRequest) { r.User = "" }, "user is required"},
		{"console user", func(r *SurveyRequest) { r.User = "console:alice" }, "LINE user"},
		{"not a LINE id", func(r *SurveyRequest) { r.User = "line:alice" }, "LINE user"},
		{"LINE id with punctuation", func(r *SurveyRequest) { r.User = "line:U12-3" }, "LINE user"},
		{"no touchpoint", func(r *SurveyRequest) { r.Touchpoint = "" }, "touchpoint is required"},
		{"unknown touchpoint", func(r *SurveyRequest) { r.Touchpoint = "purchase" }, "touchpoint: want"},
		{"unknown lang", func(r *SurveyRequest) { r.Lang = "fr" }, "lang"},
		{"long ref", func(r *SurveyRequest) { r.Ref = strings.Repeat("A", 65) }, "ref"},
		{"control in ref", func(r *SurveyRequest) { r.Ref = "AR\n1" }, "ref"},
		{"long key", func(r *SurveyRequest) { r.Key = strings.Repeat("k", 129) }, "key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ok
			tt.mod(&r)
			err := ValidateSurveyRequest(r)
			if tt.want == "" {
				if err != nil {
					t.Errorf("err = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, koe.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want ErrInvalid mentioning %q", err, tt.want)
			}
		})
	}
}

func TestSurveyJob(t *testing.T) {
	ctx := context.Background()
	at := jst(2026, 11, 25, 10, 0, 0)
	job := SurveyJob(svUserA, koe.TouchpointClaim, "AR-20261120-7F3K", koe.Japanese, at)
	if job.ID != "survey.send:AR-20261120-7F3K" || job.Kind != SurveyJobKind || !job.NotBefore.Equal(at) ||
		job.Attrs["user"] != string(svUserA) || job.Attrs["touchpoint"] != "claim" || job.Attrs["ref"] != "AR-20261120-7F3K" || job.Attrs["lang"] != "ja" {
		t.Fatalf("job = %+v", job)
	}

	t.Run("sends once however often delivered", func(t *testing.T) {
		r := newSurveyRig(t)
		for range 2 {
			if err := r.sender.HandleJob(ctx, job); err != nil {
				t.Fatal(err)
			}
		}
		all := r.surveys.All()
		if len(all) != 1 || all[0].Key != job.ID || all[0].Ref != "AR-20261120-7F3K" {
			t.Fatalf("surveys = %+v, want one keyed by the job id", all)
		}
		if n := len(r.inbox.Messages()); n != 1 {
			t.Errorf("inbox has %d messages, want 1", n)
		}
	})
	t.Run("refused is done", func(t *testing.T) {
		r := newSurveyRig(t)
		if _, err := r.sender.Send(ctx, SurveyRequest{User: svUserA, Touchpoint: koe.TouchpointRenewal}); err != nil {
			t.Fatal(err)
		}
		if err := r.sender.HandleJob(ctx, job); err != nil {
			t.Errorf("fatigue: err = %v, want nil (done)", err)
		}
		if !strings.Contains(r.logs.String(), "reason=fatigue") {
			t.Errorf("refusal not logged: %s", r.logs)
		}
		if n := len(r.surveys.All()); n != 1 {
			t.Errorf("surveys = %d, want 1", n)
		}
	})
	t.Run("malformed is invalid", func(t *testing.T) {
		r := newSurveyRig(t)
		bad := SurveyJob("console:x", koe.TouchpointClaim, "AR-1", "", at)
		if err := r.sender.HandleJob(ctx, bad); !errors.Is(err, koe.ErrInvalid) {
			t.Errorf("err = %v, want ErrInvalid", err)
		}
	})
	t.Run("store failure is retried", func(t *testing.T) {
		r := newSurveyRig(t)
		r.inbox.Err = errors.New("down")
		err := r.sender.HandleJob(ctx, job)
		if err == nil || errors.Is(err, koe.ErrInvalid) {
			t.Errorf("err = %v, want a retryable error", err)
		}
	})
}

func newSurveyServer(t *testing.T, cfg SurveyAPIConfig) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	for p, h := range NewSurveyAPI(cfg) {
		mux.Handle(p, h)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func svPost(t *testing.T, srv *httptest.Server, path, token, body string, hdr map[string]string) (int, map[string]json.RawMessage) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("POST %s: body is not a JSON object: %v", path, err)
	}
	return resp.StatusCode, out
}

func svStr(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("%s is not a string", raw)
	}
	return s
}

func TestSurveyAPI(t *testing.T) {
	r := newSurveyRig(t)
	srv := newSurveyServer(t, SurveyAPIConfig{Token: "tok", Sender: r.sender, Surveys: r.surveys, Now: r.clock.Now})
	userB := "line:Ub0000000000000000000000000000002"
	if err := r.follow.SetFollowing(context.Background(), koe.UserID(userB), false, r.clock.Now()); err != nil {
		t.Fatal(err)
	}
	body := `{"user":"` + string(svUserA) + `","touchpoint":"claim","ref":"AR-20261120-7F3K"}`

	t.Run("auth", func(t *testing.T) {
		if code, _ := svPost(t, srv, "/api/v1/surveys", "", body, nil); code != http.StatusUnauthorized {
			t.Errorf("no token: %d, want 401", code)
		}
		if code, _ := svPost(t, srv, "/api/v1/surveys", "wrong", body, nil); code != http.StatusUnauthorized {
			t.Errorf("wrong token: %d, want 401", code)
		}
		off := newSurveyServer(t, SurveyAPIConfig{Sender: r.sender, Surveys: r.surveys})
		if code, _ := svPost(t, off, "/api/v1/surveys", "tok", body, nil); code != http.StatusNotFound {
			t.Errorf("disabled: %d, want 404", code)
		}
		if len(r.surveys.All()) != 0 {
			t.Error("a survey was stored by an unauthorised request")
		}
	})
	t.Run("validation", func(t *testing.T) {
		for name, tc := range map[string]struct{ body, want string }{
			"not JSON":       {`{"user":`, "want a JSON object"},
			"unknown field":  {`{"user":"line:U1","touchpoint":"claim","score":3}`, "want a JSON object"},
			"bad user":       {`{"user":"console:a","touchpoint":"claim"}`, "LINE user"},
			"bad touchpoint": {`{"user":"line:U1","touchpoint":"x"}`, "touchpoint"},
			"bad lang":       {`{"user":"line:U1","touchpoint":"claim","lang":"fr"}`, "lang"},
		} {
			t.Run(name, func(t *testing.T) {
				code, out := svPost(t, srv, "/api/v1/surveys", "tok", tc.body, nil)
				if code != http.StatusBadRequest {
					t.Fatalf("code = %d, want 400", code)
				}
				msg := svStr(t, out["error"])
				if !strings.Contains(msg, tc.want) || strings.Contains(msg, "koe: invalid") {
					t.Errorf("error = %q, want it to mention %q", msg, tc.want)
				}
			})
		}
		if code, _ := svPost(t, srv, "/api/v1/surveys", "tok", `{"user":"`+string(svUserA)+`","touchpoint":"claim","key":"a"}`,
			map[string]string{"Idempotency-Key": "b"}); code != http.StatusBadRequest {
			t.Errorf("differing keys: %d, want 400", code)
		}
	})
	var id string
	t.Run("201", func(t *testing.T) {
		code, out := svPost(t, srv, "/api/v1/surveys", "tok", body, map[string]string{"Idempotency-Key": "req-1"})
		if code != http.StatusCreated {
			t.Fatalf("code = %d (%s), want 201", code, out["error"])
		}
		id = svStr(t, out["id"])
		if !strings.HasPrefix(id, "S-") || svStr(t, out["status"]) != "sent" {
			t.Errorf("answer = %v", out)
		}
		if msgs := r.inbox.Messages(); len(msgs) != 1 || msgs[0].Staff.CaseRef != id {
			t.Errorf("inbox = %+v", msgs)
		}
	})
	t.Run("idempotent key", func(t *testing.T) {
		code, out := svPost(t, srv, "/api/v1/surveys", "tok", body, map[string]string{"Idempotency-Key": "req-1"})
		if code != http.StatusCreated || svStr(t, out["id"]) != id {
			t.Errorf("repeat: %d %v, want 201 with id %s", code, out, id)
		}
		code, out = svPost(t, srv, "/api/v1/surveys", "tok", strings.TrimSuffix(body, "}")+`,"key":"req-1"}`, nil)
		if code != http.StatusCreated || svStr(t, out["id"]) != id {
			t.Errorf("key in body: %d %v, want 201 with id %s", code, out, id)
		}
		if n := len(r.surveys.All()); n != 1 {
			t.Errorf("surveys = %d, want 1", n)
		}
	})
	t.Run("409 fatigue", func(t *testing.T) {
		code, out := svPost(t, srv, "/api/v1/surveys", "tok", `{"user":"`+string(svUserA)+`","touchpoint":"renewal"}`, nil)
		if code != http.StatusConflict || svStr(t, out["reason"]) != "fatigue" || svStr(t, out["error"]) == "" {
			t.Errorf("got %d %v, want 409 reason fatigue", code, out)
		}
	})
	t.Run("409 unfollowed", func(t *testing.T) {
		code, out := svPost(t, srv, "/api/v1/surveys", "tok", `{"user":"`+userB+`","touchpoint":"claim"}`, nil)
		if code != http.StatusConflict || svStr(t, out["reason"]) != "unfollowed" {
			t.Errorf("got %d %v, want 409 reason unfollowed", code, out)
		}
	})
	t.Run("nps report", func(t *testing.T) {
		sv, err := r.surveys.GetSurvey(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		score := 10
		sv.Score, sv.Status, sv.AnsweredAt = &score, koe.SurveyAnswered, r.clock.Now()
		if _, err := r.surveys.UpdateSurvey(context.Background(), sv); err != nil {
			t.Fatal(err)
		}
		code, out := get(t, srv, "/api/v1/reports/nps?from=2026-11-01&to=2026-11-30&touchpoint=claim", "tok")
		if code != http.StatusOK {
			t.Fatalf("code = %d (%s)", code, out["error"])
		}
		var all NPSTouchpoint
		if err := json.Unmarshal(out["all"], &all); err != nil {
			t.Fatal(err)
		}
		if all.Total.Sent != 1 || all.Total.Promoters != 1 || all.Total.Formula != "100.0% − 0.0% = 100.0" || len(all.Months) != 1 {
			t.Errorf("all = %+v", all)
		}
		for q, want := range map[string]int{
			"touchpoint=x":                  400,
			"from=2026-12-01&to=2026-11-01": 400,
			"from=2000-01-01&to=2026-11-01": 400,
			"from=nope":                     400,
			"":                              200,
		} {
			if code, _ := get(t, srv, "/api/v1/reports/nps?"+q, "tok"); code != want {
				t.Errorf("?%s: %d, want %d", q, code, want)
			}
		}
		if code, _ := get(t, srv, "/api/v1/reports/nps", ""); code != http.StatusUnauthorized {
			t.Errorf("no token: %d, want 401", code)
		}
	})
	t.Run("unconfigured", func(t *testing.T) {
		bare := newSurveyServer(t, SurveyAPIConfig{Token: "tok"})
		if code, _ := svPost(t, bare, "/api/v1/surveys", "tok", body, nil); code != http.StatusNotImplemented {
			t.Errorf("POST: %d, want 501", code)
		}
		if code, _ := get(t, bare, "/api/v1/reports/nps", "tok"); code != http.StatusNotImplemented {
			t.Errorf("GET: %d, want 501", code)
		}
	})
}
