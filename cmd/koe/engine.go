package main

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/bot"
	"github.com/koehq/koe/classifier"
	"github.com/koehq/koe/dialogs"
	"github.com/koehq/koe/dialogs/accident"
	"github.com/koehq/koe/dialogs/catalog"
	"github.com/koehq/koe/dialogs/faq"
	"github.com/koehq/koe/dialogs/inquiry"
	"github.com/koehq/koe/dialogs/survey"
	"github.com/koehq/koe/dialogs/voices"
)

// engineDeps is what the dialog engine is built from; koe serve and
// koe chat differ only in channels and queue.
type engineDeps struct {
	store   koe.Store
	queue   koe.Queue // the store's, possibly wrapped to wake the worker
	senders map[koe.Channel]koe.Sender
	content map[koe.Channel]bot.ContentGetter
	catalog *catalog.Catalog
	due     func(createdAt time.Time, p koe.Priority) (ackDue, due time.Time)
	log     *slog.Logger
}

// newEngine wires the dialogs (menu, feedback, accident report, inquiry
// with the FAQ, NPS survey), the voice pipeline (classify, store, answer from the FAQ
// or open cases) and the status query.
func newEngine(cfg Config, d engineDeps) (*dialogs.Engine, error) {
	clf, err := newClassifier(cfg, d.log)
	if err != nil {
		return nil, err
	}
	reports := &accident.Runner{
		Reports:  d.store,
		Queue:    d.queue,
		Photos:   &bot.PhotoFetcher{DataDir: cfg.DataDir, Channels: d.content},
		Catalog:  d.catalog,
		Calendar: cfg.Calendar,
		Logger:   d.log,
	}
	base, err := faq.Default()
	if err != nil {
		return nil, fmt.Errorf("faq: %w", err)
	}
	kb := base.With(map[string]string{"inquiry_phone": cfg.InquiryPhone, "accident_phone": cfg.AccidentPhone})
	inquiries := &inquiry.Runner{
		FAQLog: d.store, Cases: d.store, Voices: d.store, Queue: d.queue, Catalog: d.catalog,
		Due: d.due, InquiryPhone: cfg.InquiryPhone, Logger: d.log,
	}
	sink := &voices.Sink{
		FAQ:          &inquiry.Answerer{KB: kb, Threshold: faq.Threshold, FAQLog: d.store, Catalog: d.catalog},
		Classifier:   clf,
		Voices:       d.store,
		Cases:        d.store,
		Queue:        d.queue,
		Catalog:      d.catalog,
		Due:          d.due,
		InquiryPhone: cfg.InquiryPhone,
		Logger:       d.log,
	}
	surveys := &survey.Runner{
		Surveys: d.store, Voices: sink, Cases: d.store, Queue: d.queue, Catalog: d.catalog, Due: d.due, Logger: d.log,
	}
	status := &voices.Status{Cases: d.store, Reports: reports, Catalog: d.catalog}
	return dialogs.NewEngine(dialogs.Config{
		Sessions:         d.store,
		Senders:          d.senders,
		Logger:           d.log,
		DefaultLang:      cfg.Lang,
		IdleTimeout:      cfg.SessionIdle,
		SessionRetention: cfg.SessionRetention,
		Catalog:          d.catalog,
		Dialogs:          []*dialogs.Dialog{accident.Dialog(), inquiry.Dialog(kb, faq.Threshold), survey.Dialog()},
		Interrupt:        inquiry.Interrupt(kb, faq.Threshold),
		Commands:         []dialogs.Command{voices.StatusCommand(), survey.LateAnswerCommand()},
		StaffActions:     map[string]func(*dialogs.Turn){survey.StaffAction: survey.Start},
		Voices:           sink,
		Effects: dialogs.Runners{
			accident.KindSubmit:     reports,
			accident.KindStatus:     status,
			voices.KindCaseStatus:   status,
			dialogs.KindRelay:       sink,
			dialogs.KindHandoffEnd:  sink,
			inquiry.KindAnswer:      inquiries,
			inquiry.KindVerdict:     inquiries,
			inquiry.KindEscalate:    inquiries,
			survey.KindScore:        surveys,
			survey.KindSatisfaction: surveys,
			survey.KindComment:      surveys,
		},
		AccidentPhone: cfg.AccidentPhone,
		InquiryPhone:  cfg.InquiryPhone,
	})
}

// newClassifier returns the classifier KOE_CLASSIFIER names: the embedded
// model, or an OpenAI-compatible server with the embedded model as fallback.
func newClassifier(cfg Config, log *slog.Logger) (classifier.Classifier, error) {
	env := map[string]string{
		"KOE_CLASSIFIER":  cfg.Classifier,
		"OPENAI_API_KEY":  cfg.OpenAIAPIKey,
		"OPENAI_BASE_URL": cfg.OpenAIBaseURL,
		"OPENAI_MODEL":    cfg.OpenAIModel,
	}
	c, err := classifier.FromEnv(func(k string) string { return env[k] }, log)
	if err != nil {
		return nil, fmt.Errorf("classifier: %w", err)
	}
	return c, nil
}
