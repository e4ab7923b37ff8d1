package voices

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/classifier"
	"github.com/koehq/koe/dialogs"
	"github.com/koehq/koe/dialogs/catalog"
	"github.com/koehq/koe/internal/sla"
)

// Job kinds this package enqueues.
const (
	JobCaseAlert  = "case.alert"
	JobPraise     = "voice.praise"
	JobRelay      = "case.relay"
	JobHandoffEnd = "case.handoff_end"
)

// Voice sources this package knows besides dialogs.VoiceSourceFreeText and
// dialogs.VoiceSourceFeedback.
const (
	// SourceHandoff marks what a customer wrote to staff during a handoff.
	SourceHandoff = "handoff"
	// SourceAccident is the accident dialog's description (accident.VoiceSource).
	SourceAccident = "accident"
)

// HighConfidence is the sentiment confidence from which a negative
// complaint is given high priority.
const HighConfidence = 0.8

// Sink is the voice pipeline. It implements dialogs.VoiceSink (AddVoice)
// and runs the handoff's effects (RunEffect: dialogs.RelayEffect,
// dialogs.HandoffEndEffect). Classifier, Voices, Cases, Queue and Catalog
// are required. It is safe for concurrent use.
// FAQAnswerer answers a question from the FAQ when it has a confident
// answer (answered false: it has none and said nothing). It is idempotent by
// meta.Key.
type FAQAnswerer interface {
	Answer(ctx context.Context, meta dialogs.EffectMeta, text string) (replies []koe.Reply, answered bool, err error)
}

type Sink struct {
	Classifier classifier.Classifier
	Voices     koe.VoiceStore
	Cases      koe.CaseStore
	Queue      koe.Queue
	Catalog    *catalog.Catalog
	// Due computes a new case's acknowledgement and response due times
	// (the SLA calendar). Nil: sla.DueTimes on the default calendar.
	Due func(createdAt time.Time, p koe.Priority) (ackDue, due time.Time)
	// FAQ, if set, answers a free-text inquiry before an inquiry case is
	// opened (dialogs/inquiry.Answerer); when it answers, no case is opened.
	FAQ FAQAnswerer
	// InquiryPhone is the phone desk shown with inquiry and urgent
	// complaint answers ("": the catalogue's desk.inquiry_phone).
	InquiryPhone string
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// Rand is the source of case references (nil: crypto/rand.Reader).
	Rand io.Reader
	// Logger (nil: discard). Only ids, references, kinds and sources are
	// logged, never the customer's words.
	Logger *slog.Logger
}

var (
	_ dialogs.VoiceSink    = (*Sink)(nil)
	_ dialogs.EffectRunner = (*Sink)(nil)
)

// AddVoice classifies v.Text, stores it as a koe.Voice with ID meta.Key and
// acts on its kind:
//
//   - complaint, from any source but the accident dialog and a handoff: a
//     case (CaseComplaint, priority urgent when the text has an urgency
//     signal, high when its sentiment is negative with confidence ≥
//     HighConfidence, else normal; due times from Due) and its alert job
//     are stored, then the answer is an apology with the reference and the
//     time by which staff will be in touch (and the phone desk when urgent).
//   - inquiry or consultation written outside a dialog (free_text): an
//     inquiry case (CaseInquiry) and its alert job; the answer says staff
//     will answer on LINE, with the reference.
//   - praise from free text or the feedback dialog: a voice.praise job, so
//     staff see it; free text is thanked warmly.
//   - request from free text: thanked; it will be passed on.
//
// A voice whose effect names a case already open (v.CaseRef) is linked to
// it and opens no case, so it gets no answer unless it is free text.
//
// Voices from dialogs that are not complaints get no answer: the dialog
// thanks the customer itself. An accident description opens no case (the
// accident report is followed up) and gets no answer; handoff texts are
// recorded through RunEffect, not here.
//
// Idempotent by meta.Key: the voice stored first under the key decides
// (its kind and the case reference drawn for it), the case is created
// under the voice id as its Key and jobs are keyed by reference or voice
// id, so running a key again stores nothing new and answers the same
// reference and due time. Everything is stored and enqueued before the
// answer is returned. A classifier, store or queue error is returned
// wrapped (the engine then retries the whole message); the classifier
// failing stores nothing. An empty text is not a voice: nothing is stored
// and nil is returned.
func (s *Sink) AddVoice(ctx context.Context, meta dialogs.EffectMeta, v dialogs.VoiceEffect) ([]koe.Reply, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if strings.TrimSpace(v.Text) == "" {
		return nil, nil
	}
	res, err := s.Classifier.Classify(ctx, v.Text)
	switch {
	case errors.Is(err, classifier.ErrEmptyText):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("voices: classify: %w", err)
	}
	voice := newVoice(meta, v.Source, v.Text, res)
	if s.FAQ != nil && voice.Kind == koe.VoiceInquiry && caseType(voice) == koe.CaseInquiry {
		// A question typed outside any dialog: the FAQ first, a person only
		// when it has no confident answer.
		replies, answered, err := s.FAQ.Answer(ctx, meta, v.Text)
		if err != nil {
			return nil, fmt.Errorf("voices: faq: %w", err)
		}
		if answered {
			if _, err := s.store(ctx, voice); err != nil {
				return nil, err
			}
			return replies, nil
		}
	}
	linked := v.CaseRef != "" // the voice belongs to a case already open
	if linked {
		voice.CaseRef = v.CaseRef
	} else if caseType(voice) != "" {
		ref, err := s.freeRef(ctx, voice.At)
		if err != nil {
			return nil, err
		}
		voice.CaseRef = ref
	}
	voice, err = s.store(ctx, voice)
	if err != nil {
		return nil, err
	}
	log, va := s.log(), slog.Any("voice", voice) // formatted only if logged
	now := s.now()
	var c koe.Case
	if typ := caseType(voice); typ != "" && !linked {
		c, err = s.openCase(ctx, meta, voice, typ, res)
		if err != nil {
			return nil, err
		}
		job := koe.Job{ID: JobCaseAlert + ":" + c.Ref, Kind: JobCaseAlert, Ref: c.Ref, Created: now}
		if _, err := s.Queue.Enqueue(ctx, job); err != nil {
			return nil, fmt.Errorf("voices: enqueue alert %s: %w", c.Ref, err)
		}
		log.InfoContext(ctx, "case opened", va, slog.Any("case", c))
	}
	if voice.Kind == koe.VoicePraise && (voice.Source == dialogs.VoiceSourceFreeText || voice.Source == dialogs.VoiceSourceFeedback) {
		job := koe.Job{ID: JobPraise + ":" + voice.ID, Kind: JobPraise, Created: now,
			Attrs: map[string]string{"voice": voice.ID, "at": voice.At.UTC().Format(time.RFC3339Nano)}}
		if _, err := s.Queue.Enqueue(ctx, job); err != nil {
			return nil, fmt.Errorf("voices: enqueue praise: %w", err)
		}
	}
	log.DebugContext(ctx, "voice recorded", va)
	return s.answer(meta.Lang, voice, c), nil
}

func (s *Sink) check() error {
	if s.Classifier == nil || s.Voices == nil || s.Cases == nil || s.Queue == nil || s.Catalog == nil {
		return fmt.Errorf("voices: sink needs Classifier, Voices, Cases, Queue and Catalog: %w", koe.ErrInvalid)
	}
	return nil
}

func newVoice(meta dialogs.EffectMeta, source, text string, res classifier.Result) koe.Voice {
	return koe.Voice{
		ID:         meta.Key,
		User:       meta.User,
		Source:     source,
		Text:       text,
		Kind:       koe.VoiceKind(res.Kind),
		Topic:      koe.Topic(res.Topic),
		Sentiment:  res.Sentiment,
		Urgency:    res.Urgency,
		Confidence: res.Confidence,
		Model:      res.Model,
		At:         meta.At,
	}
}

// store adds the voice, or returns the one stored earlier under its id.
func (s *Sink) store(ctx context.Context, v koe.Voice) (koe.Voice, error) {
	stored, err := s.Voices.AddVoice(ctx, v)
	switch {
	case err == nil:
		return stored, nil
	case errors.Is(err, koe.ErrDuplicate) && stored.ID == v.ID:
		s.log().InfoContext(ctx, "voice already recorded; using it", slog.String("voice", v.ID))
		return stored, nil
	}
	return koe.Voice{}, fmt.Errorf("voices: store voice: %w", err)
}

// caseType says which case a voice opens ("" for none).
func caseType(v koe.Voice) koe.CaseType {
	switch {
	case v.Source == SourceAccident || v.Source == SourceHandoff:
		return ""
	case v.Kind == koe.VoiceComplaint:
		return koe.CaseComplaint
	case (v.Kind == koe.VoiceInquiry || v.Kind == koe.VoiceConsultation) && v.Source == dialogs.VoiceSourceFreeText:
		return koe.CaseInquiry
	}
	return ""
}

// Priority follows the urgency of the customer's words: urgent with an
// urgency signal, high for a complaint whose sentiment is negative with
// confidence ≥ HighConfidence, else normal.
func Priority(typ koe.CaseType, urgency []string, sentiment string, sentimentConfidence float64) koe.Priority {
	switch {
	case len(urgency) > 0:
		return koe.PriorityUrgent
	case typ == koe.CaseComplaint && sentiment == classifier.SentimentNegative && sentimentConfidence >= HighConfidence:
		return koe.PriorityHigh
	}
	return koe.PriorityNormal
}

// maxRefAttempts bounds the search for an unused reference (see
// accident.Runner).
const maxRefAttempts = 8

// openCase creates the voice's case under voice.CaseRef, or returns the
// case created earlier for the voice. If the reference was taken by
// another case in the meantime (two customers drawing the same one at the
// same moment), the case gets a fresh reference; the voice keeps the one
// drawn for it, and the case's VoiceID still links them.
func (s *Sink) openCase(ctx context.Context, meta dialogs.EffectMeta, v koe.Voice, typ koe.CaseType, res classifier.Result) (koe.Case, error) {
	// The stored voice keeps only the lowest confidence; the sentiment's own
	// is known when this run's classification agrees with it.
	sentConf := v.Confidence
	if res.Sentiment == v.Sentiment {
		sentConf = res.SentimentConfidence
	}
	p := Priority(typ, v.Urgency, v.Sentiment, sentConf)
	due := s.Due
	if due == nil {
		due = sla.DueTimes(nil, nil)
	}
	ackDue, respondDue := due(v.At, p)
	c := koe.Case{
		Ref: v.CaseRef, Key: v.ID, Type: typ, Kind: v.Kind, Topic: v.Topic, Priority: p, Urgency: v.Urgency,
		User: v.User, Lang: meta.Lang, VoiceID: v.ID, Summary: v.Text, Status: koe.CaseReceived,
		AckDueAt: ackDue, DueAt: respondDue, CreatedAt: v.At, UpdatedAt: v.At,
	}
	if c.Ref == "" {
		ref, err := s.freeRef(ctx, v.At)
		if err != nil {
			return koe.Case{}, err
		}
		c.Ref = ref
	}
	for range maxRefAttempts {
		stored, err := s.Cases.CreateCase(ctx, c)
		switch {
		case err == nil:
			return stored, nil
		case errors.Is(err, koe.ErrDuplicate) && stored.Ref != "" && stored.Key == c.Key:
			return stored, nil // opened before: same case, same reference
		case errors.Is(err, koe.ErrDuplicate):
			s.log().WarnContext(ctx, "case reference taken after the voice was stored; drawing another", slog.String("voice", v.ID))
			ref, err := s.newRef(v.At)
			if err != nil {
				return koe.Case{}, err
			}
			c.Ref = ref
		default:
			return koe.Case{}, fmt.Errorf("voices: create case: %w", err)
		}
	}
	return koe.Case{}, fmt.Errorf("voices: no free case reference after %d attempts: %w", maxRefAttempts, koe.ErrConflict)
}

// freeRef draws a reference no stored case uses.
func (s *Sink) freeRef(ctx context.Context, at time.Time) (string, error) {
	for range maxRefAttempts {
		ref, err := s.newRef(at)
		if err != nil {
			return "", err
		}
		_, err = s.Cases.GetCase(ctx, ref)
		switch {
		case errors.Is(err, koe.ErrNotFound):
			return ref, nil
		case err != nil:
			return "", fmt.Errorf("voices: check case reference: %w", err)
		}
	}
	return "", fmt.Errorf("voices: no free case reference after %d attempts: %w", maxRefAttempts, koe.ErrConflict)
}

// newRef draws C-YYYYMMDD-XXXX (koe.NewRef).
func (s *Sink) newRef(at time.Time) (string, error) {
	ref, err := koe.NewRef(koe.RefCase, at, s.Rand)
	if err != nil {
		return "", fmt.Errorf("voices: %w", err)
	}
	return ref, nil
}

// answer is what the customer is told about a recorded voice (nil: nothing).
func (s *Sink) answer(lang koe.Lang, v koe.Voice, c koe.Case) []koe.Reply {
	t := func(key string, args ...string) string { return s.Catalog.Text(lang, key, args...) }
	phone := s.InquiryPhone
	if phone == "" {
		phone = t("desk.inquiry_phone")
	}
	if c.Ref != "" {
		due := FormatDue(lang, c.DueAt)
		switch c.Type {
		case koe.CaseComplaint:
			text := t("voice.complaint", "ref", c.Ref, "due", due)
			if c.Priority == koe.PriorityUrgent {
				text += "\n\n" + t("voice.complaint_urgent", "phone", phone)
			}
			return []koe.Reply{{Text: text}}
		case koe.CaseInquiry:
			key := "voice.inquiry"
			if v.Kind == koe.VoiceConsultation {
				key = "voice.consultation"
			}
			return []koe.Reply{{Text: t(key, "ref", c.Ref, "due", due, "phone", phone)}}
		}
	}
	if v.Source != dialogs.VoiceSourceFreeText {
		return nil
	}
	switch v.Kind {
	case koe.VoicePraise:
		return []koe.Reply{{Text: t("voice.praise")}}
	case koe.VoiceRequest:
		return []koe.Reply{{Text: t("voice.request")}}
	}
	return nil
}

// RunEffect runs the handoff's effects; any other effect is an error
// wrapping koe.ErrInvalid. Neither answers the customer (the engine does).
//
// dialogs.RelayEffect: a text (or a shared location, as text) is
// classified and stored as a voice (Source SourceHandoff, ID meta.Key; no
// case is opened), then a case.relay job for the case is enqueued whose
// Attrs carry the voice id, never the words; an image or a sticker is
// enqueued with its content id or sticker ids. dialogs.HandoffEndEffect:
// a case.handoff_end job with Attrs "by". Idempotent by meta.Key and the
// message id; errors are returned wrapped (the message is retried).
func (s *Sink) RunEffect(ctx context.Context, meta dialogs.EffectMeta, e dialogs.Effect) ([]koe.Reply, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	switch v := e.(type) {
	case dialogs.RelayEffect:
		return nil, s.relay(ctx, meta, v)
	case dialogs.HandoffEndEffect:
		if v.CaseRef == "" {
			return nil, fmt.Errorf("voices: handoff end without a case: %w", koe.ErrInvalid)
		}
		job := koe.Job{ID: JobHandoffEnd + ":" + meta.MessageID, Kind: JobHandoffEnd, Ref: v.CaseRef, Created: s.now(),
			Attrs: map[string]string{"by": v.By, "message": meta.MessageID}}
		if _, err := s.Queue.Enqueue(ctx, job); err != nil {
			return nil, fmt.Errorf("voices: enqueue handoff end %s: %w", v.CaseRef, err)
		}
		s.log().InfoContext(ctx, "handoff ended", slog.String("ref", v.CaseRef), slog.String("by", v.By))
		return nil, nil
	}
	return nil, fmt.Errorf("voices: unknown effect %q: %w", e.EffectKind(), koe.ErrInvalid)
}

func (s *Sink) relay(ctx context.Context, meta dialogs.EffectMeta, r dialogs.RelayEffect) error {
	if r.CaseRef == "" {
		return fmt.Errorf("voices: relay without a case: %w", koe.ErrInvalid)
	}
	attrs := map[string]string{"message": meta.MessageID, "kind": string(r.Kind)}
	text := r.Text
	if r.Location != nil {
		text = locationText(*r.Location)
	}
	switch {
	case strings.TrimSpace(text) != "":
		res, err := s.Classifier.Classify(ctx, text)
		if err != nil {
			return fmt.Errorf("voices: classify: %w", err)
		}
		v, err := s.store(ctx, newVoice(meta, SourceHandoff, text, res))
		if err != nil {
			return err
		}
		attrs["voice"] = v.ID
		attrs["at"] = v.At.UTC().Format(time.RFC3339Nano)
	case r.Image != nil:
		id := r.Image.ContentID
		if id == "" && r.Image.Path != "" {
			id = koe.LocalContentPrefix + r.Image.Path
		}
		attrs["content"] = id
	case r.Sticker != nil:
		attrs["package"] = r.Sticker.PackageID
		attrs["sticker"] = r.Sticker.StickerID
		if len(r.Sticker.Keywords) > 0 {
			attrs["keywords"] = strings.Join(r.Sticker.Keywords, ",")
		}
	default:
		return fmt.Errorf("voices: relay of an empty %q message: %w", r.Kind, koe.ErrInvalid)
	}
	job := koe.Job{ID: JobRelay + ":" + meta.MessageID, Kind: JobRelay, Ref: r.CaseRef, Attrs: attrs, Created: s.now()}
	if _, err := s.Queue.Enqueue(ctx, job); err != nil {
		return fmt.Errorf("voices: enqueue relay %s: %w", r.CaseRef, err)
	}
	s.log().DebugContext(ctx, "message relayed to staff", slog.String("ref", r.CaseRef), slog.String("kind", string(r.Kind)))
	return nil
}

// locationText renders a shared location for staff.
func locationText(l koe.Location) string {
	var parts []string
	for _, p := range []string{l.Title, l.Address} {
		if p = strings.TrimSpace(p); p != "" {
			parts = append(parts, p)
		}
	}
	parts = append(parts, "("+strconv.FormatFloat(l.Latitude, 'f', 6, 64)+", "+strconv.FormatFloat(l.Longitude, 'f', 6, 64)+")")
	return strings.Join(parts, "\n")
}

func (s *Sink) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Sink) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}
