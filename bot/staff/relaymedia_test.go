package staff_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/bot"
	"github.com/koehq/koe/bot/followup"
	"github.com/koehq/koe/bot/staff"
	"github.com/koehq/koe/internal/fakeslack"
)

// pngBytes starts like a PNG picture.
var pngBytes = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR-fake-picture")

// fakePhotos is a staff.PhotoFetcher that keeps pictures under dir as
// bot.PhotoFetcher does, or fails with err.
type fakePhotos struct {
	dir string

	mu    sync.Mutex
	err   error
	calls []string // user + " " + content id
}

func (f *fakePhotos) FetchPhoto(ctx context.Context, user koe.UserID, contentID string) (koe.Photo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, string(user)+" "+contentID)
	if f.err != nil {
		return koe.Photo{}, f.err
	}
	rel := path.Join("photos", user.Hash(), "p1.jpg")
	full := filepath.Join(f.dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(full), 0o750); err != nil {
		return koe.Photo{}, err
	}
	if err := os.WriteFile(full, pngBytes, 0o640); err != nil {
		return koe.Photo{}, err
	}
	return koe.Photo{Path: rel, ContentID: contentID, ContentType: "image/jpeg", Size: int64(len(pngBytes))}, nil
}

func (f *fakePhotos) fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

// contentID is the LINE message id of the customer's picture; it must not
// show up in anything staff see.
const contentID = "593021847561234"

func imageJob(ref string) koe.Job {
	return koe.Job{ID: "case.relay:ev-11/0", Kind: staff.JobCaseRelay, Ref: ref, Created: t0.Add(2 * time.Minute),
		Attrs: map[string]string{"message": "ev-11/0", "kind": "image", "content": contentID}}
}

// mediaRig is a case in handoff whose alert is posted, with photos kept
// under a temporary data dir.
func mediaRig(t *testing.T, photos staff.PhotoFetcher, dir string) (*caseRig, koe.Case) {
	t.Helper()
	r := newCaseRigWith(t, func(cfg *staff.CasesConfig) {
		cfg.Photos = photos
		cfg.DataDir = dir
	})
	c := sampleComplaint()
	c.Handoff = true
	return r, r.alerted(t, c)
}

func handleAt(r *caseRig, attempt int, job koe.Job) error {
	return r.cs.Handlers()[job.Kind].HandleJob(followup.WithAttempt(context.Background(), attempt), job)
}

// completedUploads returns the uploads shared in the thread of ts.
func completedUploads(fake *fakeslack.Server, ts string) []fakeslack.Upload {
	var out []fakeslack.Upload
	for _, u := range fake.Uploads() {
		if u.Completed && u.ThreadTS == ts {
			out = append(out, u)
		}
	}
	return out
}

// checkNoPersonalData: the user id and the content id appear nowhere in s.
func checkNoPersonalData(t *testing.T, what, s string) {
	t.Helper()
	for _, secret := range []string{"Ucustomer", contentID} {
		if strings.Contains(s, secret) {
			t.Errorf("%s %q contains %q", what, s, secret)
		}
	}
}

// TestRelayPhoto: a picture the customer sends during a handoff is
// uploaded to the alert's thread with a keyed note, once; a repeated
// delivery, also after the note's answer was lost, uploads and posts
// nothing more.
func TestRelayPhoto(t *testing.T) {
	t.Run("delivered again", func(t *testing.T) {
		dir := t.TempDir()
		photos := &fakePhotos{dir: dir}
		r, c := mediaRig(t, photos, dir)
		job := imageJob(c.Ref)
		for attempt := 1; attempt <= 2; attempt++ {
			if err := handleAt(r, attempt, job); err != nil {
				t.Fatalf("attempt %d: %v", attempt, err)
			}
		}
		ups := completedUploads(r.slack, c.Alert.TS)
		if len(ups) != 1 {
			t.Fatalf("%d uploads in the thread after two deliveries, want 1", len(ups))
		}
		u := ups[0]
		if u.Channel != c.Alert.Channel || !bytes.Equal(u.Data, pngBytes) {
			t.Errorf("upload to %s with %d bytes, want the picture in %s", u.Channel, len(u.Data), c.Alert.Channel)
		}
		if !strings.HasPrefix(u.Filename, c.Ref+"-photo-") || !strings.HasSuffix(u.Filename, ".jpg") {
			t.Errorf("filename = %q, want %s-photo-….jpg", u.Filename, c.Ref)
		}
		if !strings.Contains(u.Title, c.Ref) || !strings.Contains(u.Title, "写真") {
			t.Errorf("title = %q, want the case and 写真", u.Title)
		}
		checkNoPersonalData(t, "filename", u.Filename)
		checkNoPersonalData(t, "title", u.Title)
		posts := threadPosts(r.slack, c.Alert.TS)
		if len(posts) != 1 {
			t.Fatalf("%d notes in the thread after two deliveries, want 1", len(posts))
		}
		if body := unJSON(posts[0].Blocks); !strings.Contains(body, "（写真）") {
			t.Errorf("note lacks （写真）: %s", body)
		}
		checkKey(t, posts[0], c.Ref, job)
		checkNoPersonalData(t, "metadata", string(posts[0].Metadata))
		if len(photos.calls) != 1 || photos.calls[0] != string(c.User)+" "+contentID {
			t.Errorf("fetches = %q, want one of the case's user and the content id", photos.calls)
		}
	})

	t.Run("note's answer lost", func(t *testing.T) {
		dir := t.TempDir()
		r, c := mediaRig(t, &fakePhotos{dir: dir}, dir)
		job := imageJob(c.Ref)
		r.slack.LoseNextAnswers("chat.postMessage", 1)
		if err := handleAt(r, 1, job); err == nil {
			t.Fatal("a note whose answer was lost succeeded; the job would not be retried")
		}
		if err := handleAt(r, 2, job); err != nil {
			t.Fatalf("second delivery: %v", err)
		}
		if ups := completedUploads(r.slack, c.Alert.TS); len(ups) != 1 {
			t.Errorf("%d uploads, want 1: the note found stands for the upload", len(ups))
		}
		if posts := threadPosts(r.slack, c.Alert.TS); len(posts) != 1 {
			t.Errorf("%d notes, want 1", len(posts))
		}
	})

	// The documented window: the note failed after the upload. The
	// picture is uploaded again rather than lost; the note is posted once.
	t.Run("note failed after the upload", func(t *testing.T) {
		dir := t.TempDir()
		r, c := mediaRig(t, &fakePhotos{dir: dir}, dir)
		job := imageJob(c.Ref)
		r.slack.FailNextOn("chat.postMessage", 1, http.StatusServiceUnavailable, "")
		if err := handleAt(r, 1, job); err == nil {
			t.Fatal("a failed note succeeded; the job would not be retried")
		}
		if err := handleAt(r, 2, job); err != nil {
			t.Fatalf("second delivery: %v", err)
		}
		if ups := completedUploads(r.slack, c.Alert.TS); len(ups) == 0 {
			t.Error("no upload: the picture was lost")
		}
		if posts := threadPosts(r.slack, c.Alert.TS); len(posts) != 1 {
			t.Errorf("%d notes, want 1", len(posts))
		}
	})

	t.Run("upload failed", func(t *testing.T) {
		dir := t.TempDir()
		r, c := mediaRig(t, &fakePhotos{dir: dir}, dir)
		job := imageJob(c.Ref)
		r.slack.FailNextOn("files.getUploadURLExternal", 1, http.StatusInternalServerError, "")
		err := handleAt(r, 1, job)
		if err == nil || errors.Is(err, koe.ErrInvalid) {
			t.Fatalf("upload failed with a 500: err = %v, want a retryable error", err)
		}
		if posts := threadPosts(r.slack, c.Alert.TS); len(posts) != 0 {
			t.Fatalf("%d notes before the picture was uploaded, want 0", len(posts))
		}
		if err := handleAt(r, 2, job); err != nil {
			t.Fatalf("second delivery: %v", err)
		}
		if ups, posts := completedUploads(r.slack, c.Alert.TS), threadPosts(r.slack, c.Alert.TS); len(ups) != 1 || len(posts) != 1 {
			t.Errorf("%d uploads and %d notes after the retry, want 1 and 1", len(ups), len(posts))
		}
	})
}

// TestRelayPhotoUnretrievable: a picture that can never be fetched (LINE
// no longer has it, no source for the channel, no fetcher) becomes a note
// telling staff, once, and the job succeeds; a transient failure fails the
// job, and its retry relays the picture.
func TestRelayPhotoUnretrievable(t *testing.T) {
	tests := []struct {
		name   string
		photos func(dir string) staff.PhotoFetcher
	}{
		{"expired", func(dir string) staff.PhotoFetcher {
			return &fakePhotos{dir: dir, err: fmt.Errorf("photos: fetch: line: content: status 404: %w", koe.ErrNotFound)}
		}},
		{"refused", func(dir string) staff.PhotoFetcher {
			return &fakePhotos{dir: dir, err: fmt.Errorf("photos: no content source for channel \"line\": %w", koe.ErrInvalid)}
		}},
		{"no source (bot.PhotoFetcher)", func(dir string) staff.PhotoFetcher { return &bot.PhotoFetcher{DataDir: dir} }},
		{"no fetcher", func(string) staff.PhotoFetcher { return nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			r, c := mediaRig(t, tt.photos(dir), dir)
			job := imageJob(c.Ref)
			for attempt := 1; attempt <= 2; attempt++ {
				if err := handleAt(r, attempt, job); err != nil {
					t.Fatalf("attempt %d: %v", attempt, err)
				}
			}
			if ups := completedUploads(r.slack, c.Alert.TS); len(ups) != 0 {
				t.Errorf("%d uploads of a picture that could not be fetched", len(ups))
			}
			posts := threadPosts(r.slack, c.Alert.TS)
			if len(posts) != 1 {
				t.Fatalf("%d notes, want 1", len(posts))
			}
			if body := unJSON(posts[0].Blocks); !strings.Contains(body, "取得できませんでした") {
				t.Errorf("note does not say the picture could not be retrieved: %s", body)
			}
			checkKey(t, posts[0], c.Ref, job)
		})
	}

	t.Run("transient", func(t *testing.T) {
		dir := t.TempDir()
		photos := &fakePhotos{dir: dir, err: errors.New("photos: fetch: line: content: status 503 Service Unavailable")}
		r, c := mediaRig(t, photos, dir)
		job := imageJob(c.Ref)
		err := handleAt(r, 1, job)
		if err == nil || errors.Is(err, koe.ErrInvalid) {
			t.Fatalf("fetch failed transiently: err = %v, want a retryable error", err)
		}
		if ups, posts := completedUploads(r.slack, c.Alert.TS), threadPosts(r.slack, c.Alert.TS); len(ups) != 0 || len(posts) != 0 {
			t.Fatalf("%d uploads and %d notes after a transient failure, want none", len(ups), len(posts))
		}
		photos.fail(nil)
		if err := handleAt(r, 2, job); err != nil {
			t.Fatalf("second delivery: %v", err)
		}
		if ups, posts := completedUploads(r.slack, c.Alert.TS), threadPosts(r.slack, c.Alert.TS); len(ups) != 1 || len(posts) != 1 {
			t.Errorf("%d uploads and %d notes after the retry, want 1 and 1", len(ups), len(posts))
		}
	})
}

// TestRelayConsolePhoto: a picture sent from the console (a local file)
// goes through bot.PhotoFetcher, kept under the data dir, to the thread.
func TestRelayConsolePhoto(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(t.TempDir(), "upload.png")
	if err := os.WriteFile(src, pngBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	r, c := mediaRig(t, &bot.PhotoFetcher{DataDir: dir}, dir)
	job := imageJob(c.Ref)
	job.Attrs["content"] = koe.LocalContentPrefix + src
	if err := handleAt(r, 1, job); err != nil {
		t.Fatal(err)
	}
	ups := completedUploads(r.slack, c.Alert.TS)
	if len(ups) != 1 || !bytes.Equal(ups[0].Data, pngBytes) || !strings.HasSuffix(ups[0].Filename, ".png") {
		t.Fatalf("uploads = %+v, want the console's PNG", ups)
	}
	checkNoPersonalData(t, "filename", ups[0].Filename)
	if strings.Contains(ups[0].Filename, "upload") {
		t.Errorf("filename %q shows the local path", ups[0].Filename)
	}
}

// TestRelaySticker: a sticker becomes one keyed note with its keywords, or
// its ids when LINE gave none.
func TestRelaySticker(t *testing.T) {
	tests := []struct {
		name  string
		attrs map[string]string
		want  string
	}{
		{"keywords", map[string]string{"package": "11537", "sticker": "52002734", "keywords": "Happy,Smile"}, "（スタンプ：Happy・Smile）"},
		{"ids", map[string]string{"package": "11537", "sticker": "52002734"}, "（スタンプ：11537/52002734）"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, c := mediaRig(t, nil, "")
			tt.attrs["message"], tt.attrs["kind"] = "ev-12/0", "sticker"
			job := koe.Job{ID: "case.relay:ev-12/0", Kind: staff.JobCaseRelay, Ref: c.Ref, Attrs: tt.attrs}
			for attempt := 1; attempt <= 2; attempt++ {
				if err := handleAt(r, attempt, job); err != nil {
					t.Fatalf("attempt %d: %v", attempt, err)
				}
			}
			posts := threadPosts(r.slack, c.Alert.TS)
			if len(posts) != 1 {
				t.Fatalf("%d posts after two deliveries, want 1", len(posts))
			}
			if body := unJSON(posts[0].Blocks); !strings.Contains(body, "*お客さま*\\n"+tt.want) {
				t.Errorf("sticker note lacks %q: %s", tt.want, body)
			}
			checkKey(t, posts[0], c.Ref, job)
			if n := len(r.slack.Uploads()); n != 0 {
				t.Errorf("%d uploads for a sticker", n)
			}
		})
	}
}

// TestRelayWithoutMessage: a relay job that names no voice, picture or
// sticker is invalid (dead-lettered), not retried forever.
func TestRelayWithoutMessage(t *testing.T) {
	r, c := mediaRig(t, nil, "")
	err := handleAt(r, 1, koe.Job{ID: "case.relay:ev-13/0", Kind: staff.JobCaseRelay, Ref: c.Ref, Attrs: map[string]string{"kind": "audio"}})
	if !errors.Is(err, koe.ErrInvalid) {
		t.Errorf("err = %v, want koe.ErrInvalid", err)
	}
}
