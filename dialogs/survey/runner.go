package survey

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/dialogs"
	"github.com/koehq/koe/dialogs/catalog"
	"github.com/koehq/koe/dialogs/voices"
	"github.com/koehq/koe/internal/sla"
)

// JobCaseAlert is the job that posts a case's Slack alert
// (voices.JobCaseAlert); its ID is JobCaseAlert + ":" + the reference.
const JobCaseAlert = voices.JobCaseAlert

// Runner executes the survey's effects (Score, Satisfaction, Comment); it
// implements dialogs.EffectRunner. Surveys, Voices, Cases, Queue and
// Catalog are required. It is safe for concurrent use.
type Runner struct {
	Surveys koe.SurveyStore
	// Voices classifies and keeps comments (voices.Sink, without FAQ): a
	// comment is a dialogs.VoiceEffect with Source VoiceSource, linked to
	// the survey's case when it has one.
	Voices  dialogs.VoiceSink
	Cases   koe.CaseStore
	Queue   koe.Queue
	Catalog *catalog.Catalog
	// Due computes a detractor case's due times (nil: sla.DueTimes on the default calendar).
	Due func(createdAt time.Time, p koe.Priority) (ackDue, due time.Time)
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// Rand is the source of case references (nil: crypto/rand.Reader).
	Rand io.Reader
	// Logger (nil: discard). Only survey ids, case references and
	// statuses are logged, never scores with users or comments.
	Logger *slog.Logger
}

var _ dialogs.EffectRunner = (*Runner)(nil)

// maxAttempts bounds retries of a stale survey or case write, and the
// search for a free case reference.
const maxAttempts = 8

// errUnknown marks a survey that does not exist or is not meta.User's.
var errUnknown = errors.New("survey: unknown survey")

// RunEffect runs Score, Satisfaction and Comment; any other effect is an
// error wrapping koe.ErrInvalid. Store, sink and queue errors are returned
// wrapped (the engine retries the whole message). Every effect is
// idempotent by meta.Key and by the survey's state, and only the user the
// survey was sent to can answer it (another user's id reads as closed).
//
// Score: a survey without a score records it (Status answered,
// AnsweredAt meta.At; compare-and-swap, reloaded on a conflict) and
// answers nothing (the dialog goes on). A survey with the same score
// already is treated as this answer run again: nothing is written and
// nothing said. A survey with another score answers
// survey.already_answered and counts nothing; a survey past ExpiresAt (or
// marked expired) answers survey.closed and counts nothing. A detractor's
// score (0–6) opens exactly one case for the survey: a complaint with Key
// "survey:<id>", Score set, its alert job (JobCaseAlert:<ref>) enqueued
// after the case and the survey's CaseRef are stored.
//
// Comment: hands the text to Voices (voice id meta.Key); a complaint opens
// a case there unless the survey already has one (the voice is linked to
// it). The case a comment opened gets the score and becomes the survey's
// case. The survey keeps Comment and VoiceID. The sink's answer (an
// apology with the reference for a complaint) is returned.
//
// Satisfaction: recorded once (a later level is ignored); answers nothing.
func (r *Runner) RunEffect(ctx context.Context, meta dialogs.EffectMeta, e dialogs.Effect) ([]koe.Reply, error) {
	if r.Surveys == nil || r.Voices == nil || r.Cases == nil || r.Queue == nil || r.Catalog == nil {
		return nil, fmt.Errorf("survey: runner needs Surveys, Voices, Cases, Queue and Catalog: %w", koe.ErrInvalid)
	}
	switch v := e.(type) {
	case Score:
		return r.score(ctx, meta, v)
	case Satisfaction:
		return nil, r.satisfaction(ctx, meta, v)
	case Comment:
		return r.comment(ctx, meta, v)
	}
	return nil, fmt.Errorf("survey: unknown effect %q: %w", e.EffectKind(), koe.ErrInvalid)
}

func (r *Runner) text(lang koe.Lang, key string) []koe.Reply {
	return []koe.Reply{{Text: r.Catalog.Text(lang, key)}}
}

// get returns meta.User's survey id, or errUnknown.
func (r *Runner) get(ctx context.Context, meta dialogs.EffectMeta, id string) (koe.Survey, error) {
	s, err := r.Surveys.GetSurvey(ctx, id)
	switch {
	case errors.Is(err, koe.ErrNotFound) || (err == nil && s.User != meta.User):
		return koe.Survey{}, errUnknown
	case err != nil:
		return koe.Survey{}, fmt.Errorf("survey: get %s: %w", id, err)
	}
	return s, nil
}

// update loads survey id and stores change(s) with compare-and-swap,
// reloading on a conflict. change reports false when there is nothing to
// write.
func (r *Runner) update(ctx context.Context, meta dialogs.EffectMeta, id string, change func(s *koe.Survey) bool) (koe.Survey, error) {
	for range maxAttempts {
		s, err := r.get(ctx, meta, id)
		if err != nil {
			return koe.Survey{}, err
		}
		if !change(&s) {
			return s, nil
		}
		saved, err := r.Surveys.UpdateSurvey(ctx, s)
		switch {
		case err == nil:
			return saved, nil
		case errors.Is(err, koe.ErrConflict):
			continue
		default:
			return koe.Survey{}, fmt.Errorf("survey: update %s: %w", id, err)
		}
	}
	return koe.Survey{}, fmt.Errorf("survey: update %s: still stale after %d attempts: %w", id, maxAttempts, koe.ErrConflict)
}

func (r *Runner) score(ctx context.Context, meta dialogs.EffectMeta, e Score) ([]koe.Reply, error) {
	if e.Score < 0 || e.Score > 10 {
		return nil, fmt.Errorf("survey: score %d out of range: %w", e.Score, koe.ErrInvalid)
	}
	var answer string // catalogue key of the answer, "" for none
	s, err := r.update(ctx, meta, e.Survey, func(s *koe.Survey) bool {
		switch {
		case s.Score != nil && *s.Score == e.Score:
			answer = "" // recorded before, by this answer or an identical one
			return false
		case s.Score != nil:
			answer = "survey.already_answered"
			return false
		case s.Status == koe.SurveyExpired || (!s.ExpiresAt.IsZero() && !meta.At.Before(s.ExpiresAt)):
			answer = "survey.closed"
			return false
		}
		answer = ""
		n := e.Score
		s.Score, s.Status, s.AnsweredAt = &n, koe.SurveyAnswered, meta.At
		return true
	})
	switch {
	case errors.Is(err, errUnknown):
		return r.text(meta.Lang, "survey.closed"), nil
	case err != nil:
		return nil, err
	case answer != "":
		r.log().InfoContext(ctx, "survey answer not counted", slog.Any("survey", s), slog.String("why", answer))
		return r.text(meta.Lang, answer), nil
	}
	r.log().InfoContext(ctx, "survey answered", slog.Any("survey", s), slog.String("band", string(BandOf(e.Score))))
	if BandOf(e.Score) == Detractor {
		if err := r.openCase(ctx, meta, s); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// openCase makes sure the detractor survey s has its one case, linked to
// the survey, with the alert queued.
func (r *Runner) openCase(ctx context.Context, meta dialogs.EffectMeta, s koe.Survey) error {
	ref := s.CaseRef
	if ref == "" {
		c, err := r.createCase(ctx, meta, s)
		if err != nil {
			return err
		}
		ref = c.Ref
		s, err = r.update(ctx, meta, s.ID, func(s *koe.Survey) bool {
			if s.CaseRef != "" {
				ref = s.CaseRef // linked meanwhile (never another one)
				return false
			}
			s.CaseRef = ref
			return true
		})
		if err != nil {
			return err
		}
		r.log().InfoContext(ctx, "detractor case opened", slog.Any("survey", s), slog.String("case", ref))
	}
	job := koe.Job{ID: JobCaseAlert + ":" + ref, Kind: JobCaseAlert, Ref: ref, Created: r.now()}
	if _, err := r.Queue.Enqueue(ctx, job); err != nil {
		return fmt.Errorf("survey: enqueue alert %s: %w", ref, err)
	}
	return nil
}

// caseKey is the idempotency key of a survey's detractor case.
func caseKey(id string) string { return "survey:" + id }

// createCase stores the detractor case of s under a free reference, or
// returns the one stored earlier under its key.
func (r *Runner) createCase(ctx context.Context, meta dialogs.EffectMeta, s koe.Survey) (koe.Case, error) {
	due := r.Due
	if due == nil {
		due = sla.DueTimes(nil, nil)
	}
	at := s.AnsweredAt
	if at.IsZero() {
		at = meta.At
	}
	ackDue, respondDue := due(at, koe.PriorityNormal)
	score := *s.Score
	c := koe.Case{
		Key: caseKey(s.ID), Type: koe.CaseComplaint, Kind: koe.VoiceComplaint, Topic: topic(s.Touchpoint),
		Priority: koe.PriorityNormal, User: s.User, Lang: meta.Lang, Score: &score,
		Summary: r.Catalog.Text(koe.Japanese, "survey.case_summary", "score", strconv.Itoa(score),
			"touchpoint", touchpointName(r.Catalog, koe.Japanese, s.Touchpoint), "survey", s.ID),
		Status: koe.CaseReceived, AckDueAt: ackDue, DueAt: respondDue, CreatedAt: at, UpdatedAt: at,
	}
	for range maxAttempts {
		ref, err := koe.NewRef(koe.RefCase, at, r.Rand)
		if err != nil {
			return koe.Case{}, fmt.Errorf("survey: %w", err)
		}
		c.Ref = ref
		stored, err := r.Cases.CreateCase(ctx, c)
		switch {
		case err == nil:
			return stored, nil
		case errors.Is(err, koe.ErrDuplicate) && stored.Ref != "" && stored.Key == c.Key:
			return stored, nil // opened before: the same case
		case errors.Is(err, koe.ErrDuplicate):
			continue // reference taken: draw another
		default:
			return koe.Case{}, fmt.Errorf("survey: create case: %w", err)
		}
	}
	return koe.Case{}, fmt.Errorf("survey: no free case reference after %d attempts: %w", maxAttempts, koe.ErrConflict)
}

func topic(tp koe.Touchpoint) koe.Topic {
	switch tp {
	case koe.TouchpointClaim:
		return koe.TopicClaims
	case koe.TouchpointRenewal:
		return koe.TopicPolicyAdmin
	}
	return koe.TopicOther
}

func touchpointName(cat *catalog.Catalog, lang koe.Lang, tp koe.Touchpoint) string {
	key := "survey.touchpoint_" + string(tp)
	if cat.Has(lang, key) {
		return cat.Text(lang, key)
	}
	return cat.Text(lang, "survey.touchpoint_other")
}

func (r *Runner) satisfaction(ctx context.Context, meta dialogs.EffectMeta, e Satisfaction) error {
	if e.Level < 1 || e.Level > 5 {
		return fmt.Errorf("survey: satisfaction %d out of range: %w", e.Level, koe.ErrInvalid)
	}
	_, err := r.update(ctx, meta, e.Survey, func(s *koe.Survey) bool {
		if s.Satisfaction != nil {
			return false
		}
		n := e.Level
		s.Satisfaction = &n
		return true
	})
	if errors.Is(err, errUnknown) {
		return nil
	}
	return err
}

func (r *Runner) comment(ctx context.Context, meta dialogs.EffectMeta, e Comment) ([]koe.Reply, error) {
	s, err := r.get(ctx, meta, e.Survey)
	switch {
	case errors.Is(err, errUnknown):
		return nil, nil
	case err != nil:
		return nil, err
	}
	replies, err := r.Voices.AddVoice(ctx, meta, dialogs.VoiceEffect{Text: e.Text, Source: VoiceSource, CaseRef: s.CaseRef})
	if err != nil {
		return nil, fmt.Errorf("survey: comment voice: %w", err)
	}
	ref := s.CaseRef
	if ref == "" {
		ref, err = r.caseOfVoice(ctx, meta, s)
		if err != nil {
			return nil, err
		}
	}
	_, err = r.update(ctx, meta, e.Survey, func(s *koe.Survey) bool {
		if s.VoiceID == meta.Key && s.Comment == e.Text && (ref == "" || s.CaseRef != "") {
			return false
		}
		if s.VoiceID != "" && s.VoiceID != meta.Key {
			return false // one comment per survey: the first stays
		}
		s.Comment, s.VoiceID = e.Text, meta.Key
		if s.CaseRef == "" {
			s.CaseRef = ref
		}
		return true
	})
	if err != nil && !errors.Is(err, errUnknown) {
		return nil, err
	}
	return replies, nil
}

// caseOfVoice finds the case the comment's voice (id meta.Key) opened, if
// any, and gives it the survey's score. It returns the case's reference
// ("" for none).
func (r *Runner) caseOfVoice(ctx context.Context, meta dialogs.EffectMeta, s koe.Survey) (string, error) {
	cs, err := r.Cases.Cases(ctx, koe.CaseFilter{User: meta.User})
	if err != nil {
		return "", fmt.Errorf("survey: find comment case: %w", err)
	}
	for _, c := range cs {
		if c.Key != meta.Key {
			continue
		}
		for range maxAttempts {
			if c.Score != nil || s.Score == nil {
				return c.Ref, nil
			}
			n := *s.Score
			c.Score = &n
			_, err := r.Cases.UpdateCase(ctx, c)
			switch {
			case err == nil:
				return c.Ref, nil
			case errors.Is(err, koe.ErrConflict):
				if c, err = r.Cases.GetCase(ctx, c.Ref); err != nil {
					return "", fmt.Errorf("survey: reload case: %w", err)
				}
			default:
				return "", fmt.Errorf("survey: score case: %w", err)
			}
		}
		return "", fmt.Errorf("survey: score case: still stale: %w", koe.ErrConflict)
	}
	return "", nil
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
