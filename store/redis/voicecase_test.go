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

// TestVoiceCaseScriptsStayInOneSlot runs every voice and case operation and
// checks that each script call names keys of one Cluster slot (its KEYS and
// every argument that is a key or key prefix of the store, such as the case
// key prefix the listing script completes), and that every key left is in
// the voices' or the cases' slot.
func TestVoiceCaseScriptsStayInOneSlot(t *testing.T) {
	srv := newServer(t)
	opts, err := goredis.ParseURL(srv.url)
	if err != nil {
		t.Fatal(err)
	}
	client := goredis.NewClient(opts)
	t.Cleanup(func() { client.Close() })
	rec := &scriptRecorder{}
	client.AddHook(rec)
	now := time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)
	s := redis.New(client, redis.Options{Prefix: srv.prefix, Now: func() time.Time { return now }})
	ctx := t.Context()

	for i := range 6 {
		u := koe.NewUserID(koe.ChannelLINE, fmt.Sprintf("U-slot-%d", i))
		v := koe.Voice{ID: fmt.Sprintf("v%d", i), User: u, Kind: koe.VoiceComplaint, Text: "x", At: now.Add(time.Duration(i) * time.Second)}
		if _, err := s.AddVoice(ctx, v); err != nil {
			t.Fatal(err)
		}
		c, err := s.CreateCase(ctx, koe.Case{Ref: fmt.Sprintf("C-%d", i), Key: v.ID, User: u, Status: koe.CaseReceived, Type: koe.CaseComplaint, CreatedAt: v.At})
		if err != nil {
			t.Fatal(err)
		}
		c.Status = koe.CaseAcknowledged
		c.Alert = &koe.AlertRef{Channel: "C0", TS: strconv.Itoa(i)}
		if _, err := s.UpdateCase(ctx, c); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateCase(ctx, koe.Case{Ref: "C-other", Key: v.ID, User: u}); err == nil {
			t.Fatal("duplicate CreateCase succeeded")
		}
	}
	for _, f := range []koe.VoiceFilter{{}, {Kind: koe.VoiceComplaint, From: now, Limit: 2}} {
		if vs, err := s.Voices(ctx, f); err != nil || len(vs) == 0 {
			t.Fatalf("Voices(%+v) = %d, %v", f, len(vs), err)
		}
	}
	for _, f := range []koe.CaseFilter{{}, {Status: koe.CaseAcknowledged}, {Type: koe.CaseComplaint, Limit: 1}, {User: koe.NewUserID(koe.ChannelLINE, "U-slot-1")}} {
		if cs, err := s.Cases(ctx, f); err != nil || len(cs) == 0 {
			t.Fatalf("Cases(%+v) = %d, %v", f, len(cs), err)
		}
	}
	if _, err := s.CaseByAlert(ctx, "C0", "3"); err != nil {
		t.Fatal(err)
	}

	rec.mu.Lock()
	calls := slices.Clone(rec.calls)
	rec.mu.Unlock()
	if len(calls) < 20 {
		t.Fatalf("recorded %d script calls, want the workload's", len(calls))
	}
	for _, args := range calls {
		nkeys, err := strconv.Atoi(args[2])
		if err != nil || nkeys < 1 {
			t.Errorf("script call %v: numkeys %q, want at least one key", args[:3], args[2])
			continue
		}
		named := slices.Clone(args[3 : 3+nkeys])
		for _, a := range args[3+nkeys:] {
			if strings.HasPrefix(a, srv.prefix+":") {
				named = append(named, a)
			}
		}
		for _, k := range named[1:] {
			if keySlot(k) != keySlot(named[0]) {
				t.Errorf("one script call names keys in slots %d and %d: %q, %q", keySlot(named[0]), keySlot(k), named[0], k)
			}
		}
	}
	keys, err := client.Keys(ctx, srv.prefix+":*").Result()
	if err != nil {
		t.Fatal(err)
	}
	slots := map[int]string{
		keySlot("{" + srv.prefix + ":voices}"): "voices",
		keySlot("{" + srv.prefix + ":cases}"):  "cases",
	}
	seen := map[string]bool{}
	for _, k := range keys {
		name, ok := slots[keySlot(k)]
		if !ok {
			t.Errorf("key %q is in neither the voices' nor the cases' slot", k)
		}
		seen[name] = true
	}
	if !seen["voices"] || !seen["cases"] {
		t.Errorf("keys %v: want keys in both slots", keys)
	}
}

// TestCaseIndexesFollowUpdates checks the layout behind the filters: after
// a case moves through statuses and alerts, each index holds it exactly
// once, under its current values.
func TestCaseIndexesFollowUpdates(t *testing.T) {
	srv := newServer(t)
	opts, err := goredis.ParseURL(srv.url)
	if err != nil {
		t.Fatal(err)
	}
	client := goredis.NewClient(opts)
	t.Cleanup(func() { client.Close() })
	now := time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)
	s := redis.New(client, redis.Options{Prefix: srv.prefix, Now: func() time.Time { return now }})
	ctx := t.Context()
	u := koe.NewUserID(koe.ChannelLINE, "U-idx")
	c, err := s.CreateCase(ctx, koe.Case{Ref: "C-IDX", Key: "k", User: u, Status: koe.CaseReceived, Type: koe.CaseInquiry, CreatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	for i, st := range []koe.CaseStatus{koe.CaseAcknowledged, koe.CaseEscalated, koe.CaseClosed} {
		c.Status, c.Type = st, koe.CaseComplaint
		c.Alert = &koe.AlertRef{Channel: "C0", TS: strconv.Itoa(i)}
		if c, err = s.UpdateCase(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	tag := srv.prefix + ":{" + srv.prefix + ":cases}"
	for _, tc := range []struct {
		key  string
		want []string
	}{
		{tag + ":status", []string{"closed\x00"}},
		{tag + ":type", []string{"complaint\x00"}},
		{tag + ":user", []string{string(u) + "\x00"}},
		{tag + ":all", []string{""}},
	} {
		ms, err := client.ZRange(ctx, tc.key, 0, -1).Result()
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != len(tc.want) || !strings.HasPrefix(ms[0], tc.want[0]) || !strings.HasSuffix(ms[0], ":C-IDX") {
			t.Errorf("%s = %q, want one member %q…:C-IDX", tc.key, ms, tc.want[0])
		}
	}
	alerts, err := client.HGetAll(ctx, tag+":alert").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 1 || alerts["C0\x002"] != "C-IDX" {
		t.Errorf("alert map = %q, want only the current alert", alerts)
	}
}
