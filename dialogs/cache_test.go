package dialogs_test

import (
	"context"
	"testing"

	"github.com/koehq/koe"
	"github.com/koehq/koe/dialogs"
)

// TestReplicasShareOneConversation runs a conversation whose messages
// alternate between two engines (two replicas) on one session store. Each
// engine's session cache is stale half of the time; the version check must
// catch that, so the dialog advances exactly as on one engine and the voice
// is recorded once, with the right text.
func TestReplicasShareOneConversation(t *testing.T) {
	a := newRig(t, nil)
	b, err := dialogs.NewEngine(dialogs.Config{
		Sessions: a.store, Senders: map[koe.Channel]koe.Sender{koe.ChannelLINE: a.sender},
		Now: a.clk.Now, NewRetryKey: counter("retry-b-"), Voices: a.voices,
	})
	if err != nil {
		t.Fatal(err)
	}
	engines := []*dialogs.Engine{a.eng, b}
	msgs := []koe.Message{
		text("m1", "メニュー"),
		postback("m2", "menu:feedback"),
		text("m3", "最初の下書き"),
		postback("m4", "feedback:edit"),
		text("m5", "窓口の方がとても親切でした"),
		postback("m6", "feedback:send"),
	}
	for i, m := range msgs {
		if err := engines[i%2].Handle(context.Background(), m); err != nil {
			t.Fatalf("Handle(%s) on engine %d: %v", m.ID, i%2, err)
		}
	}
	// Each engine saw the session change behind its back: stale hints.
	s := a.session(t)
	if s.Dialog != "" {
		t.Errorf("dialog %q still running, want the feedback dialog finished", s.Dialog)
	}
	if got := len(a.sender.Sent()); got != len(msgs) {
		t.Errorf("%d outbounds sent, want one per message (%d)", got, len(msgs))
	}
	a.voices.mu.Lock()
	defer a.voices.mu.Unlock()
	if len(a.voices.voices) != 1 || a.voices.voices[0].Voice.Text != "窓口の方がとても親切でした" {
		t.Fatalf("voices = %+v, want exactly the edited comment once", a.voices.voices)
	}
	// Redelivering the last message to the other engine resends, changes nothing.
	before := a.session(t).Version
	if err := engines[0].Handle(context.Background(), msgs[5]); err != nil {
		t.Fatal(err)
	}
	if after := a.session(t).Version; after != before {
		t.Errorf("redelivery changed the session version %d → %d", before, after)
	}
	if len(a.voices.voices) != 1 {
		t.Errorf("redelivery recorded the voice again")
	}
}

// TestCacheSavesStoreReads: on one engine, consecutive messages of a user
// are stepped on the cached session without reading the store again.
func TestCacheSavesStoreReads(t *testing.T) {
	for _, tt := range []struct {
		name      string
		cacheSize int
		wantLoads int
	}{{"cache on", 0, 1}, {"cache off", -1, 4}} {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, func(c *dialogs.Config) { c.SessionCacheSize = tt.cacheSize })
			r.handle(t, text("m1", "メニュー"), text("m2", "ヘルプ"), text("m3", "こんにちは"), text("m4", "メニュー"))
			if got := r.store.Loads(); got != tt.wantLoads {
				t.Errorf("store loads = %d, want %d", got, tt.wantLoads)
			}
		})
	}
}
