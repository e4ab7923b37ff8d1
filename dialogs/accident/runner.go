package accident

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/dialogs"
	"github.com/koehq/koe/dialogs/catalog"
	"github.com/koehq/koe/dialogs/jpinput"
	"github.com/koehq/koe/internal/bizcal"
)

// PhotoFetcher stores a customer's picture under the data directory.
// FetchPhoto must be idempotent by contentID (fetching it again returns
// the same Photo without a second copy), safe for concurrent use, and
// return an error wrapping ctx.Err() when ctx is done.
type PhotoFetcher interface {
	FetchPhoto(ctx context.Context, user koe.UserID, contentID string) (koe.Photo, error)
}

// Runner executes the accident dialog's effects (Submit, StatusQuery); it
// implements dialogs.EffectRunner. Reports, Queue and Catalog are
// required. It is safe for concurrent use.
type Runner struct {
	Reports koe.ReportStore
	Queue   koe.Queue
	// Photos fetches pictures; nil keeps them as content ids only
	// (koe.Photo with ContentID and no Path).
	Photos  PhotoFetcher
	Catalog *catalog.Catalog
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// Rand is the source of reference numbers (nil: crypto/rand.Reader).
	Rand io.Reader
	// Calendar holds the desk's business hours and holidays, for the
	// call-back promised in the confirmation (nil: bizcal.Default()).
	Calendar *bizcal.Calendar
	// Logger (nil: discard). Only references, kinds and counts are logged.
	Logger *slog.Logger
}

var _ dialogs.EffectRunner = (*Runner)(nil)

// maxRefAttempts bounds the search for an unused reference. With 32^4
// references a day, a collision is rare and eight in a row means something
// else is wrong.
const maxRefAttempts = 8

// RunEffect runs a Submit or a StatusQuery; any other effect is an error
// wrapping koe.ErrInvalid.
//
// Submit: fetches the photos (a failed fetch keeps the content id, so a
// report is never lost for a picture), creates the report with a fresh
// reference (AR-YYYYMMDD-XXXX, the date in Asia/Tokyo; a reference another
// submission holds is replaced by another), or, when meta.Key was already
// submitted, takes the stored report; then enqueues the alert job
// (JobAlert, idempotent by its ID) and returns the confirmation replies
// built from the stored report, so a re-run answers the same reference and
// the same times. A store or queue error is returned wrapped, after which
// the engine retries the whole message; nothing is half-done that a retry
// would duplicate.
//
// StatusQuery: answers with the status of meta.User's reports, never
// another user's (a reference of someone else's report reads as unknown).
func (r *Runner) RunEffect(ctx context.Context, meta dialogs.EffectMeta, e dialogs.Effect) ([]koe.Reply, error) {
	if r.Reports == nil || r.Catalog == nil {
		return nil, fmt.Errorf("accident: runner needs Reports and Catalog: %w", koe.ErrInvalid)
	}
	switch v := e.(type) {
	case Submit:
		return r.submit(ctx, meta, v)
	case StatusQuery:
		return r.status(ctx, meta, v)
	}
	return nil, fmt.Errorf("accident: unknown effect %q: %w", e.EffectKind(), koe.ErrInvalid)
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Runner) log() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (r *Runner) submit(ctx context.Context, meta dialogs.EffectMeta, s Submit) ([]koe.Reply, error) {
	if r.Queue == nil {
		return nil, fmt.Errorf("accident: runner needs Queue: %w", koe.ErrInvalid)
	}
	now := r.now()
	rep := s.Report
	rep.Key, rep.User, rep.Lang = meta.Key, meta.User, meta.Lang
	rep.Status = koe.ReportReceived
	rep.SubmittedAt, rep.UpdatedAt = now, now
	rep.Version = 0
	rep.History = nil
	rep.Photos = nil
	for _, id := range s.PhotoContentIDs {
		p, err := r.fetch(ctx, meta.User, id)
		if err != nil {
			return nil, err
		}
		rep.Photos = append(rep.Photos, p)
	}
	stored, err := r.create(ctx, rep, now)
	if err != nil {
		return nil, err
	}
	job := koe.Job{ID: JobAlert + ":" + stored.Ref, Kind: JobAlert, Ref: stored.Ref, Created: now}
	if _, err := r.Queue.Enqueue(ctx, job); err != nil {
		return nil, fmt.Errorf("accident: enqueue alert %s: %w", stored.Ref, err)
	}
	r.log().InfoContext(ctx, "accident report filed", slog.Any("report", stored))
	return r.confirmation(meta.Lang, stored), nil
}

// fetch stores one picture, or keeps its content id when it cannot.
func (r *Runner) fetch(ctx context.Context, user koe.UserID, id string) (koe.Photo, error) {
	unfetched := koe.Photo{ContentID: id}
	if r.Photos == nil {
		return unfetched, nil
	}
	p, err := r.Photos.FetchPhoto(ctx, user, id)
	if err == nil {
		return p, nil
	}
	if ctx.Err() != nil {
		return koe.Photo{}, fmt.Errorf("accident: fetch photo: %w", ctx.Err())
	}
	r.log().WarnContext(ctx, "photo not fetched; keeping its content id", slog.Any("err", err))
	return unfetched, nil
}

// create stores rep under a fresh reference, or returns the report stored
// earlier under rep.Key.
func (r *Runner) create(ctx context.Context, rep koe.AccidentReport, now time.Time) (koe.AccidentReport, error) {
	for range maxRefAttempts {
		ref, err := r.newRef(now)
		if err != nil {
			return koe.AccidentReport{}, err
		}
		rep.Ref = ref
		stored, err := r.Reports.CreateReport(ctx, rep)
		switch {
		case err == nil:
			return stored, nil
		case errors.Is(err, koe.ErrDuplicate) && stored.Ref != "" && stored.Key == rep.Key:
			return stored, nil // submitted before: same report, same reference
		case errors.Is(err, koe.ErrDuplicate):
			r.log().InfoContext(ctx, "accident reference taken; drawing another")
			continue
		default:
			return koe.AccidentReport{}, fmt.Errorf("accident: create report: %w", err)
		}
	}
	return koe.AccidentReport{}, fmt.Errorf("accident: no free reference after %d attempts: %w", maxRefAttempts, koe.ErrConflict)
}

// newRef draws AR-YYYYMMDD-XXXX (koe.NewRef).
func (r *Runner) newRef(now time.Time) (string, error) {
	ref, err := koe.NewRef(koe.RefAccident, now, r.Rand)
	if err != nil {
		return "", fmt.Errorf("accident: %w", err)
	}
	return ref, nil
}

// callbackWithin is how soon a call-back is promised during business hours.
const callbackWithin = time.Hour

func (r *Runner) confirmation(lang koe.Lang, rep koe.AccidentReport) []koe.Reply {
	t := func(key string, args ...string) string { return r.Catalog.Text(lang, key, args...) }
	replies := []koe.Reply{
		{Text: t("accident.done")},
		{Text: rep.Ref},
	}
	cal := r.Calendar
	if cal == nil {
		cal = bizcal.Default()
	}
	var next string
	at := rep.SubmittedAt.In(jpinput.Tokyo())
	if cal.IsOpen(at) {
		next = t("accident.next_within", "by", at.Add(callbackWithin).Format("15:04"))
	} else {
		// The morning of the next business day (today, before opening).
		next = t("accident.next_after_hours", "day", formatDay(lang, cal.Next(at).In(jpinput.Tokyo())))
	}
	if rep.Urgent {
		next = t("accident.next_urgent") + "\n" + next
	}
	replies = append(replies, koe.Reply{Text: next + "\n\n" + t("accident.next_status")})
	return replies
}

func formatDay(lang koe.Lang, t time.Time) string {
	if lang == koe.English {
		return t.Format("Mon 2 Jan")
	}
	wd := [...]string{"日", "月", "火", "水", "木", "金", "土"}[t.Weekday()]
	return fmt.Sprintf("%d月%d日(%s)", int(t.Month()), t.Day(), wd)
}

func formatDateTime(lang koe.Lang, t time.Time) string {
	t = t.In(jpinput.Tokyo())
	if lang == koe.English {
		return t.Format("2 Jan 2006 15:04")
	}
	return fmt.Sprintf("%d年%d月%d日 %s", t.Year(), int(t.Month()), t.Day(), t.Format("15:04"))
}

// statusLimit is how many reports a status query lists.
const statusLimit = 5

func (r *Runner) status(ctx context.Context, meta dialogs.EffectMeta, q StatusQuery) ([]koe.Reply, error) {
	t := func(key string, args ...string) string { return r.Catalog.Text(meta.Lang, key, args...) }
	var reps []koe.AccidentReport
	if q.Ref != "" {
		rep, err := r.Reports.GetReport(ctx, q.Ref)
		switch {
		case errors.Is(err, koe.ErrNotFound) || (err == nil && rep.User != meta.User):
			return []koe.Reply{{Text: t("accident.status_not_found", "ref", q.Ref)}}, nil
		case err != nil:
			return nil, fmt.Errorf("accident: status: %w", err)
		}
		reps = []koe.AccidentReport{rep}
	} else {
		var err error
		reps, err = r.Reports.ReportsByUser(ctx, meta.User, statusLimit)
		if err != nil {
			return nil, fmt.Errorf("accident: status: %w", err)
		}
		if len(reps) == 0 {
			return []koe.Reply{{Text: t("accident.status_none")}}, nil
		}
	}
	title := t("accident.status_title")
	card := &koe.Card{AltText: title, Title: title, Note: t("accident.status_note")}
	for _, rep := range reps {
		if rep.User != meta.User {
			continue // never another customer's report
		}
		value := t("accident.status_line",
			"status", t("accident.status_"+statusKey(rep.Status)),
			"kind", t("accident.kind_"+kindKey(rep.Kind)),
			"at", formatDateTime(meta.Lang, rep.SubmittedAt))
		card.Fields = append(card.Fields, koe.CardField{Label: rep.Ref, Value: value})
	}
	if len(card.Fields) == 0 {
		return []koe.Reply{{Text: t("accident.status_none")}}, nil
	}
	return []koe.Reply{{Card: card}}, nil
}

func statusKey(s koe.ReportStatus) string {
	switch s {
	case koe.ReportAssigned, koe.ReportInProgress, koe.ReportDone:
		return string(s)
	}
	return string(koe.ReportReceived)
}

func kindKey(k koe.AccidentKind) string {
	switch k {
	case koe.AccidentMotor, koe.AccidentHome:
		return string(k)
	}
	return string(koe.AccidentOther)
}
