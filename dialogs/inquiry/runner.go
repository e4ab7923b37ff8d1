package inquiry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/dialogs"
	"github.com/koehq/koe/dialogs/catalog"
	"github.com/koehq/koe/dialogs/voices"
	"github.com/koehq/koe/internal/sla"
)

// Runner executes the dialog's effects: AnswerEffect and VerdictEffect
// against FAQLog, EscalateEffect by opening an inquiry case. FAQLog, Cases,
// Queue and Catalog are required; Voices is optional (the question's voice
// then does not set the case's topic and urgency). Safe for concurrent
// use.
type Runner struct {
	FAQLog  koe.FAQLog
	Cases   koe.CaseStore
	Voices  koe.VoiceStore
	Queue   koe.Queue
	Catalog *catalog.Catalog
	// Due computes the case's due times (nil: sla.DueTimes on the default calendar).
	Due func(createdAt time.Time, p koe.Priority) (ackDue, due time.Time)
	// InquiryPhone is the phone desk shown with the reference ("": the
	// catalogue's desk.inquiry_phone).
	InquiryPhone string
	// Now is the clock of the alert job (nil: time.Now).
	Now func() time.Time
	// Rand is the source of case references (nil: crypto/rand.Reader).
	Rand io.Reader
	// Logger (nil: discard). Only keys, references and entry ids are logged.
	Logger *slog.Logger
}

var _ dialogs.EffectRunner = (*Runner)(nil)

// RunEffect runs e, idempotently by meta.Key:
//
//   - AnswerEffect: a koe.FAQAnswer with ID meta.Key (an answer already
//     recorded under the key is kept); no reply.
//   - VerdictEffect: MarkAnswer(Answer, Helpful); an answer that was never
//     recorded is logged and skipped; no reply.
//   - EscalateEffect: an inquiry case (Key meta.Key, reference drawn once;
//     a case created earlier under the key is reused), its alert job
//     "case.alert:<ref>", and every shown answer marked unhelpful with the
//     reference; the reply gives the reference, the due time and how staff
//     will answer.
//
// Other effects are an error wrapping koe.ErrInvalid; store and queue
// errors are returned wrapped (the engine retries the message).
func (r *Runner) RunEffect(ctx context.Context, meta dialogs.EffectMeta, e dialogs.Effect) ([]koe.Reply, error) {
	if r.FAQLog == nil || r.Cases == nil || r.Queue == nil || r.Catalog == nil {
		return nil, fmt.Errorf("inquiry: runner needs FAQLog, Cases, Queue and Catalog: %w", koe.ErrInvalid)
	}
	switch v := e.(type) {
	case AnswerEffect:
		return nil, r.record(ctx, meta, v)
	case VerdictEffect:
		helpful := v.Helpful
		return nil, r.mark(ctx, v.Answer, &helpful, "")
	case EscalateEffect:
		return r.escalate(ctx, meta, v)
	}
	return nil, fmt.Errorf("inquiry: unknown effect %q: %w", e.EffectKind(), koe.ErrInvalid)
}

func (r *Runner) record(ctx context.Context, meta dialogs.EffectMeta, a AnswerEffect) error {
	if a.Entry == "" {
		return fmt.Errorf("inquiry: answer without an entry: %w", koe.ErrInvalid)
	}
	_, err := r.FAQLog.RecordAnswer(ctx, koe.FAQAnswer{
		ID: meta.Key, User: meta.User, Entry: a.Entry, Lang: meta.Lang, Rank: a.Rank, Confidence: a.Confidence, At: meta.At,
	})
	if err != nil && !errors.Is(err, koe.ErrDuplicate) {
		return fmt.Errorf("inquiry: record answer: %w", err)
	}
	return nil
}

func (r *Runner) mark(ctx context.Context, id string, helpful *bool, ref string) error {
	if id == "" {
		return nil
	}
	err := r.FAQLog.MarkAnswer(ctx, id, helpful, ref)
	switch {
	case errors.Is(err, koe.ErrNotFound):
		r.log().WarnContext(ctx, "verdict for an unrecorded faq answer", slog.String("answer", id))
		return nil
	case err != nil:
		return fmt.Errorf("inquiry: mark answer: %w", err)
	}
	return nil
}

func (r *Runner) escalate(ctx context.Context, meta dialogs.EffectMeta, e EscalateEffect) ([]koe.Reply, error) {
	if strings.TrimSpace(e.Question) == "" {
		return nil, fmt.Errorf("inquiry: escalation without a question: %w", koe.ErrInvalid)
	}
	c := koe.Case{
		Key: meta.Key, Type: koe.CaseInquiry, Kind: koe.VoiceInquiry, Topic: koe.TopicOther, Priority: koe.PriorityNormal,
		User: meta.User, Lang: meta.Lang, VoiceID: e.Voice, Summary: r.summary(e), Status: koe.CaseReceived,
		CreatedAt: meta.At, UpdatedAt: meta.At,
	}
	if r.Voices != nil && e.Voice != "" {
		v, err := r.Voices.GetVoice(ctx, e.Voice)
		switch {
		case err == nil:
			c.Topic, c.Urgency = v.Topic, v.Urgency
			if v.Kind == koe.VoiceConsultation {
				c.Kind = v.Kind
			}
			c.Priority = voices.Priority(koe.CaseInquiry, v.Urgency, v.Sentiment, v.Confidence)
		case errors.Is(err, koe.ErrNotFound):
			c.VoiceID = ""
		default:
			return nil, fmt.Errorf("inquiry: get voice: %w", err)
		}
	}
	due := r.Due
	if due == nil {
		due = sla.DueTimes(nil, nil)
	}
	c.AckDueAt, c.DueAt = due(meta.At, c.Priority)
	c, err := r.create(ctx, c)
	if err != nil {
		return nil, err
	}
	job := koe.Job{ID: JobCaseAlert + ":" + c.Ref, Kind: JobCaseAlert, Ref: c.Ref, Created: r.now()}
	if _, err := r.Queue.Enqueue(ctx, job); err != nil {
		return nil, fmt.Errorf("inquiry: enqueue alert %s: %w", c.Ref, err)
	}
	unhelpful := false
	for _, id := range e.Answers {
		if err := r.mark(ctx, id, &unhelpful, c.Ref); err != nil {
			return nil, err
		}
	}
	r.log().InfoContext(ctx, "inquiry case opened", slog.Any("case", c))
	t := func(key string, args ...string) string { return r.Catalog.Text(meta.Lang, key, args...) }
	phone := r.InquiryPhone
	if phone == "" {
		phone = t("desk.inquiry_phone")
	}
	key := "inquiry.case_line"
	if e.Channel == ChannelPhone {
		key = "inquiry.case_phone"
	}
	return []koe.Reply{{Text: t(key, "ref", c.Ref, "due", voices.FormatDue(meta.Lang, c.DueAt), "phone", phone, "callback", e.Phone)}}, nil
}

// summary is what staff read: the question and how to answer it, in
// Japanese (the staff's language).
func (r *Runner) summary(e EscalateEffect) string {
	ch := r.Catalog.Text(koe.Japanese, "inquiry.summary_line")
	if e.Channel == ChannelPhone {
		ch = r.Catalog.Text(koe.Japanese, "inquiry.summary_phone", "phone", e.Phone)
	}
	return strings.TrimSpace(e.Question) + "\n\n" + ch
}

// maxRefAttempts bounds the search for an unused reference.
const maxRefAttempts = 8

// create stores c under a fresh reference, or returns the case created
// earlier under c.Key.
func (r *Runner) create(ctx context.Context, c koe.Case) (koe.Case, error) {
	for range maxRefAttempts {
		ref, err := koe.NewRef(koe.RefCase, c.CreatedAt, r.Rand)
		if err != nil {
			return koe.Case{}, fmt.Errorf("inquiry: %w", err)
		}
		c.Ref = ref
		stored, err := r.Cases.CreateCase(ctx, c)
		switch {
		case err == nil:
			return stored, nil
		case errors.Is(err, koe.ErrDuplicate) && stored.Ref != "" && stored.Key == c.Key:
			return stored, nil
		case errors.Is(err, koe.ErrDuplicate):
			continue // the reference is taken: draw another
		default:
			return koe.Case{}, fmt.Errorf("inquiry: create case: %w", err)
		}
	}
	return koe.Case{}, fmt.Errorf("inquiry: no free case reference after %d attempts: %w", maxRefAttempts, koe.ErrConflict)
}

// crockford is Crockford's base32 alphabet (no I, L, O, U).
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

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
