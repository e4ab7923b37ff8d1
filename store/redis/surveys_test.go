package redis_test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/koehq/koe"
	"github.com/koehq/koe/store/redis"
)

// TestSurveysOneSlot creates, updates and lists surveys and records follow
// state, and checks that every survey script names keys of the one slot
// {P:surveys} (the fatigue check is atomic with the create only if the
// user's last-sent time and the survey share a slot), that each follow
// script names one key, and that the keys left behind are where the layout
// says.
func TestSurveysOneSlot(t *testing.T) {
	srv := newServer(t)
	opts, err := goredis.ParseURL(srv.url)
	if err != nil {
		t.Fatal(err)
	}
	client := goredis.NewClient(opts)
	t.Cleanup(func() { client.Close() })
	rec := &scriptRecorder{}
	client.AddHook(rec)
	at := time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)
	s := redis.New(client, redis.Options{Prefix: srv.prefix, Now: func() time.Time { return at }})
	ctx := t.Context()
	for i := range 4 {
		u := koe.NewUserID(koe.ChannelLINE, fmt.Sprintf("U-sv-%d", i))
		sv := koe.Survey{ID: fmt.Sprintf("S-%d", i), Key: fmt.Sprintf("k%d", i), User: u,
			Touchpoint: koe.TouchpointClaim, SentAt: at.Add(time.Duration(i) * time.Minute)}
		sv, err := s.CreateSurvey(ctx, sv, at.Add(-30*24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		sv.Touchpoint = koe.TouchpointRenewal
		if _, err := s.UpdateSurvey(ctx, sv); err != nil {
			t.Fatal(err)
		}
		if err := s.SetFollowing(ctx, u, i%2 == 0, at); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := s.Surveys(ctx, koe.SurveyFilter{Touchpoint: koe.TouchpointRenewal}); err != nil || len(got) != 4 {
		t.Fatalf("Surveys = %d, %v; want 4", len(got), err)
	}

	tag := "{" + srv.prefix + ":surveys}"
	want := keySlot(srv.prefix + ":" + tag + ":all")
	rec.mu.Lock()
	calls := slices.Clone(rec.calls)
	rec.mu.Unlock()
	var surveyCalls, followCalls int
	for _, args := range calls {
		nkeys, err := strconv.Atoi(args[2])
		if err != nil || nkeys < 1 {
			t.Errorf("script call %v: numkeys %q, want at least one key", args[:3], args[2])
			continue
		}
		keys := args[3 : 3+nkeys]
		if strings.HasSuffix(keys[0], ":follow") {
			followCalls++
			if nkeys != 1 {
				t.Errorf("follow script keys %v, want one", keys)
			}
			continue
		}
		surveyCalls++
		for _, k := range keys {
			if keySlot(k) != want {
				t.Errorf("script key %q in slot %d, want %d", k, keySlot(k), want)
			}
		}
	}
	// EVALSHA then EVAL the first time a script runs.
	if surveyCalls < 9 || followCalls < 4 {
		t.Errorf("recorded %d survey and %d follow script calls, want at least 9 and 4", surveyCalls, followCalls)
	}
	keys, err := client.Keys(ctx, srv.prefix+":*").Result()
	if err != nil {
		t.Fatal(err)
	}
	var inTag, follow int
	for _, k := range keys {
		switch {
		case strings.Contains(k, tag) && keySlot(k) == want:
			inTag++
		case strings.HasPrefix(k, srv.prefix+":{u:") && strings.HasSuffix(k, "}:follow"):
			follow++
		default:
			t.Errorf("key %q is outside the survey and follow layout", k)
		}
	}
	// 4 survey hashes, key, last, all, tp, user; one follow hash per user.
	if inTag != 9 || follow != 4 {
		t.Errorf("%d survey keys and %d follow keys, want 9 and 4: %v", inTag, follow, keys)
	}
}
