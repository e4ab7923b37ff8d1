package accident_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/dialogs"
	"github.com/koehq/koe/dialogs/accident"
	"github.com/koehq/koe/dialogs/catalog"
	"github.com/koehq/koe/internal/fakes"
)

// reports is the shared fake, counting create attempts and failing them
// on demand.
type reports struct {
	*fakes.ReportStore
	creates int
	fail    error
}

func (s *reports) CreateReport(ctx context.Context, r koe.AccidentReport) (koe.AccidentReport, error) {
	s.creates++
	if s.fail != nil {
		return koe.AccidentReport{}, s.fail
	}
	return s.ReportStore.CreateReport(ctx, r)
}

// photos records fetches and fails for ids starting with "bad".
type photos struct {
	mu      sync.Mutex
	fetched []string
}

func (p *photos) FetchPhoto(ctx context.Context, u koe.UserID, id string) (koe.Photo, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fetched = append(p.fetched, id)
	if strings.HasPrefix(id, "bad") {
		return koe.Photo{}, errors.New("content expired")
	}
	return koe.Photo{Path: "photos/" + id + ".jpg", ContentType: "image/jpeg", Size: 10}, nil
}

var at = time.Date(2026, 11, 22, 1, 30, 0, 0, time.UTC) // 10:30 JST, a Sunday

func newRunner(t *testing.T, rnd []byte) (*accident.Runner, *reports, *fakes.Queue, *photos) {
	t.Helper()
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	rs, q, ph := &reports{ReportStore: fakes.NewReportStore()}, fakes.NewQueue(func() time.Time { return at }), &photos{}
	return &accident.Runner{Reports: rs, Queue: q, Photos: ph, Catalog: cat, Now: func() time.Time { return at }, Rand: bytes.NewReader(rnd)}, rs, q, ph
}

func meta(key string) dialogs.EffectMeta {
	return dialogs.EffectMeta{Key: key, MessageID: "m1", User: "line:U1", Lang: koe.Japanese, At: at}
}

func submit() accident.Submit {
	return accident.Submit{
		Report:          koe.AccidentReport{Kind: koe.AccidentMotor, Description: "追突されました", Phone: "+819012345678"},
		PhotoContentIDs: []string{"111", "bad222"},
	}
}

func TestSubmitIsIdempotent(t *testing.T) {
	r, rs, q, ph := newRunner(t, []byte{7, 15, 3, 19, 1, 2, 3, 4})
	first, err := r.RunEffect(context.Background(), meta("m1/0"), submit())
	if err != nil {
		t.Fatal(err)
	}
	again, err := r.RunEffect(context.Background(), meta("m1/0"), submit())
	if err != nil {
		t.Fatal(err)
	}
	if len(rs.All()) != 1 {
		t.Fatalf("%d reports stored, want 1", len(rs.All()))
	}
	rep, err := rs.GetReport(context.Background(), "AR-20261122-7F3K")
	if err != nil {
		t.Fatalf("report under the first drawn reference: %v", err)
	}
	if rep.Key != "m1/0" || rep.User != "line:U1" || rep.Status != koe.ReportReceived || !rep.SubmittedAt.Equal(at) {
		t.Errorf("stored report = %+v", rep)
	}
	wantPhotos := []koe.Photo{{Path: "photos/111.jpg", ContentType: "image/jpeg", Size: 10}, {ContentID: "bad222"}}
	if fmt.Sprint(rep.Photos) != fmt.Sprint(wantPhotos) {
		t.Errorf("photos = %+v, want %+v", rep.Photos, wantPhotos)
	}
	if len(ph.fetched) != 4 {
		t.Errorf("fetched %v, want both photos fetched on each run (the fetcher is idempotent)", ph.fetched)
	}
	if len(q.Enqueued()) != 1 || q.Enqueued()[0].ID != "accident.alert:AR-20261122-7F3K" || q.Enqueued()[0].Kind != accident.JobAlert || q.Enqueued()[0].Ref != "AR-20261122-7F3K" {
		t.Errorf("jobs = %+v, want one alert job", q.Enqueued())
	}
	if fmt.Sprint(first) != fmt.Sprint(again) {
		t.Errorf("re-run answered differently:\n%+v\n%+v", first, again)
	}
	if len(first) != 3 || first[1].Text != "AR-20261122-7F3K" {
		t.Fatalf("replies = %+v, want 3 with the reference alone in the second", first)
	}
	// Sunday 22 November, and Monday 23 November is 勤労感謝の日: the
	// call-back is promised for Tuesday morning.
	if !strings.Contains(first[2].Text, "11月24日(火)の午前中") {
		t.Errorf("next steps = %q, want Tuesday morning (Monday is a public holiday)", first[2].Text)
	}
}

func TestSubmitDrawsAnotherRefOnCollision(t *testing.T) {
	r, rs, q, _ := newRunner(t, []byte{7, 15, 3, 19, 7, 15, 3, 19, 0, 1, 2, 31})
	if _, err := r.RunEffect(context.Background(), meta("a/0"), submit()); err != nil {
		t.Fatal(err)
	}
	replies, err := r.RunEffect(context.Background(), meta("b/0"), submit())
	if err != nil {
		t.Fatal(err)
	}
	if len(rs.All()) != 2 {
		t.Fatalf("%d reports, want 2", len(rs.All()))
	}
	b, err := rs.GetReport(context.Background(), "AR-20261122-012Z")
	if err != nil || b.Key != "b/0" {
		t.Fatalf("second submission under AR-20261122-012Z: %+v, %v", b, err)
	}
	if replies[1].Text != "AR-20261122-012Z" || len(q.Enqueued()) != 2 {
		t.Errorf("reply ref %q, jobs %d; want the new ref and 2 jobs", replies[1].Text, len(q.Enqueued()))
	}
}

func TestSubmitGivesUpAfterManyCollisions(t *testing.T) {
	r, rs, _, _ := newRunner(t, bytes.Repeat([]byte{1, 2, 3, 4}, 20))
	if _, err := r.RunEffect(context.Background(), meta("a/0"), submit()); err != nil {
		t.Fatal(err)
	}
	_, err := r.RunEffect(context.Background(), meta("b/0"), submit())
	if !errors.Is(err, koe.ErrConflict) {
		t.Errorf("err = %v, want ErrConflict", err)
	}
	if rs.creates != 1+8 {
		t.Errorf("creates = %d, want 9", rs.creates)
	}
}

func TestSubmitStoreErrorIsReturned(t *testing.T) {
	r, rs, q, _ := newRunner(t, []byte{1, 2, 3, 4})
	boom := errors.New("disk full")
	rs.fail = boom
	if _, err := r.RunEffect(context.Background(), meta("a/0"), submit()); !errors.Is(err, boom) {
		t.Errorf("err = %v, want the store's", err)
	}
	if len(q.Enqueued()) != 0 {
		t.Errorf("job enqueued although the report was not stored")
	}
}

func TestStatusShowsOnlyOwnReports(t *testing.T) {
	r, rs, _, _ := newRunner(t, nil)
	for _, rep := range []koe.AccidentReport{
		{Ref: "AR-20261120-AAAA", Key: "k1", User: "line:U1", Kind: koe.AccidentHome, Status: koe.ReportInProgress, SubmittedAt: at},
		{Ref: "AR-20261120-BBBB", Key: "k2", User: "line:U2", Kind: koe.AccidentMotor, Status: koe.ReportReceived, SubmittedAt: at},
	} {
		if _, err := rs.CreateReport(context.Background(), rep); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name, ref, want, notWant string
	}{
		{"all of mine", "", "AR-20261120-AAAA", "AR-20261120-BBBB"},
		{"mine by ref", "AR-20261120-AAAA", "対応中", "BBBB"},
		{"someone else's by ref", "AR-20261120-BBBB", "見つかりませんでした", "受付済み"},
		{"unknown ref", "AR-20261120-CCCC", "見つかりませんでした", "AAAA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			replies, err := r.RunEffect(context.Background(), meta("s/0"), accident.StatusQuery{Ref: tt.ref})
			if err != nil {
				t.Fatal(err)
			}
			got := flatten(replies)
			if !strings.Contains(got, tt.want) || strings.Contains(got, tt.notWant) {
				t.Errorf("replies %s: want %q, not %q", got, tt.want, tt.notWant)
			}
		})
	}
}

func TestUnknownEffect(t *testing.T) {
	r, _, _, _ := newRunner(t, nil)
	if _, err := r.RunEffect(context.Background(), meta("x"), dialogs.VoiceEffect{}); !errors.Is(err, koe.ErrInvalid) {
		t.Errorf("err = %v, want ErrInvalid", err)
	}
}

func TestParseStatusQuery(t *testing.T) {
	tests := []struct {
		in  string
		ref string
		ok  bool
	}{
		{"状況", "", true},
		{" Status ", "", true},
		{"進捗", "", true},
		{"ar-20261122-7f3k", "AR-20261122-7F3K", true},
		{"ＡＲ２０２６１１２２７Ｆ３Ｋの状況", "AR-20261122-7F3K", true},
		{"AR-20261122-7F3K を教えてください", "AR-20261122-7F3K", true},
		{"事故の状況を説明します", "", false},
		{"追突されました", "", false},
		{"AR-2026-7F3K", "", false},
	}
	for _, tt := range tests {
		ref, ok := accident.ParseStatusQuery(tt.in)
		if ref != tt.ref || ok != tt.ok {
			t.Errorf("ParseStatusQuery(%q) = %q, %v; want %q, %v", tt.in, ref, ok, tt.ref, tt.ok)
		}
	}
}

func TestParseParty(t *testing.T) {
	got := accident.ParseParty("vehicle", "佐藤一郎、品川300あ1234、ABC損保")
	want := koe.Party{Kind: "vehicle", Name: "佐藤一郎", Plate: "品川300あ1234", Insurer: "ABC損保"}
	if got != want {
		t.Errorf("ParseParty = %+v, want %+v", got, want)
	}
}

// TestDynamicKeysExist checks the catalogue keys the package builds at run
// time.
func TestDynamicKeysExist(t *testing.T) {
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, s := range []string{"received", "assigned", "in_progress", "done"} {
		keys = append(keys, "accident.status_"+s)
	}
	for _, s := range []string{"motor", "home", "other"} {
		keys = append(keys, "accident.kind_"+s)
	}
	for _, s := range []string{"none", "vehicle", "person", "property"} {
		keys = append(keys, "accident.inv_"+s)
	}
	for _, s := range []string{"vehicle", "person", "property"} {
		keys = append(keys, "accident.ask_details_"+s)
	}
	for _, k := range keys {
		for _, l := range []koe.Lang{koe.Japanese, koe.English} {
			if !cat.Has(l, k) {
				t.Errorf("%s missing in %s", k, l)
			}
		}
	}
}

func flatten(rs []koe.Reply) string {
	var b strings.Builder
	for _, r := range rs {
		b.WriteString(r.Text)
		if r.Card != nil {
			fmt.Fprintf(&b, "%s %+v", r.Card.Title, r.Card.Fields)
		}
	}
	return b.String()
}
