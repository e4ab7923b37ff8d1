package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/koehq/koe"
	"github.com/koehq/koe/bot"
	"github.com/koehq/koe/bot/console"
	"github.com/koehq/koe/bot/followup"
	"github.com/koehq/koe/bot/line"
	"github.com/koehq/koe/bot/slack"
	"github.com/koehq/koe/bot/staff"
	"github.com/koehq/koe/dialogs/catalog"
	"github.com/koehq/koe/internal/sla"
	"github.com/koehq/koe/store/redis"
	"github.com/koehq/koe/store/sqlite"
)

func runServe(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("serve", "serve [-addr :8080] [-store sqlite:PATH|redis://…|redis+cluster://…]", e)
	addr := fs.String("addr", "", "listen address (overrides KOE_ADDR)")
	store := fs.String("store", "", "store (overrides KOE_STORE)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(e.getenv)
	if err != nil {
		return err
	}
	if *addr != "" {
		cfg.Addr = *addr
	}
	if *store != "" {
		cfg.Store = *store
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	log := newLogger(cfg, e.stderr)
	a, err := startApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	log.Info("koe serving", "addr", a.Addr().String(), "version", version)
	<-ctx.Done()
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	return a.Shutdown(sctx)
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// app is a running service: HTTP server, dispatcher, follow-up worker and
// store.
type app struct {
	log        *slog.Logger
	store      koe.Store
	dispatcher *bot.Dispatcher
	worker     *followup.Worker
	server     *http.Server
	listener   net.Listener
	metrics    *bot.Metrics
	closers    []func() error // closed after the workers stop

	stopWork  context.CancelFunc
	workDone  sync.WaitGroup
	serveDone chan struct{}
}

// startApp opens the store, wires channels, dialogs, dispatcher and
// follow-up worker, and starts serving on cfg.Addr. It returns once the
// listener is bound.
func startApp(ctx context.Context, cfg Config, log *slog.Logger) (*app, error) {
	store, err := openStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	a := &app{log: log, store: store}
	if err := a.wire(ctx, cfg); err != nil {
		store.Close()
		return nil, err
	}
	return a, nil
}

func (a *app) wire(ctx context.Context, cfg Config) error {
	log := a.log
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := bot.NewMetrics(reg)
	a.metrics = metrics
	bot.RegisterInboxDepth(reg, a.store)
	owner := ownerName()

	cat, err := catalog.Default()
	if err != nil {
		return err
	}
	// Jobs enqueued in this process wake the worker at once; other
	// replicas' jobs are found by its poll.
	queue := &wakingQueue{Queue: a.store, wake: func() { a.worker.Notify() }}

	senders := map[koe.Channel]koe.Sender{}
	content := map[koe.Channel]bot.ContentGetter{}
	routes := map[string]http.Handler{}
	if cfg.LINEChannelSecret != "" {
		client, err := line.NewClient(line.ClientConfig{
			AccessToken:    cfg.LINEAccessToken,
			APIBaseURL:     cfg.LINEAPIBaseURL,
			DataAPIBaseURL: cfg.LINEDataBaseURL,
			Logger:         log,
			Registerer:     reg,
		})
		if err != nil {
			return fmt.Errorf("line client: %w", err)
		}
		senders[koe.ChannelLINE] = client
		content[koe.ChannelLINE] = client
		hook, err := line.NewWebhook(line.WebhookConfig{
			ChannelSecret: cfg.LINEChannelSecret,
			Inbox:         a.store,
			MaxBodyBytes:  cfg.WebhookMaxBytes,
			Logger:        log,
			Notify:        func() { a.dispatcher.Notify() },
		})
		if err != nil {
			return fmt.Errorf("line webhook: %w", err)
		}
		routes["/webhooks/line"] = bot.CountRequests(metrics, "/webhooks/line", hook)
		log.Info("channel enabled", "channel", "line")
	} else {
		log.Warn("channel disabled: LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN are not set", "channel", "line")
	}

	if cfg.Console != console.AccessOff {
		web, err := console.NewWeb(console.WebConfig{
			Inbox: a.store, Notify: func() { a.dispatcher.Notify() }, Access: cfg.Console, Logger: log,
			DataDir: cfg.DataDir,
		})
		if err != nil {
			return fmt.Errorf("console: %w", err)
		}
		senders[koe.ChannelConsole] = web
		maps.Copy(routes, web.Routes())
		log.Info("channel enabled", "channel", "console", "url", "/console", "access", string(cfg.Console))
	}

	handlers := map[string]followup.Handler{}
	surveys := &bot.SurveySender{
		Surveys: a.store, Follow: a.store,
		Inbox:   &wakingInbox{Inbox: a.store, wake: func() { a.dispatcher.Notify() }},
		Fatigue: cfg.Survey.Fatigue, Expiry: cfg.Survey.Expiry, Logger: log, Registerer: reg,
	}
	handlers[bot.SurveyJobKind] = surveys
	maps.Copy(routes, bot.NewSurveyAPI(bot.SurveyAPIConfig{Token: cfg.AdminToken, Sender: surveys, Surveys: a.store, Logger: log}))
	if cfg.SlackBotToken != "" {
		if err := a.wireSlack(cfg, reg, routes, handlers, queue, senders, content, cat); err != nil {
			return err
		}
	} else {
		log.Warn("channel disabled: SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN are not set", "channel", "slack")
	}
	for _, kind := range []string{staff.JobAccidentAlert, staff.JobCaseAlert} {
		if _, ok := handlers[kind]; !ok {
			// Keep alerts queued (retrying) rather than losing them until Slack is set up.
			handlers[kind] = followup.HandlerFunc(func(context.Context, koe.Job) error {
				return errors.New("slack alerts are not configured (SLACK_BOT_TOKEN, SLACK_CHANNEL_*)")
			})
		}
	}

	if cfg.AccidentPhone == "" || cfg.InquiryPhone == "" {
		log.Warn("KOE_ACCIDENT_PHONE or KOE_INQUIRY_PHONE is not set: customers are shown the catalogue's placeholder number")
	}
	engine, err := newEngine(cfg, engineDeps{
		store: a.store, queue: queue, senders: senders, content: content, catalog: cat, due: sla.DueTimes(cfg.Calendar, nil), log: log,
	})
	if err != nil {
		return fmt.Errorf("dialogs: %w", err)
	}
	a.dispatcher, err = bot.NewDispatcher(bot.DispatcherConfig{
		Inbox:         a.store,
		Handler:       &bot.FollowTracker{Next: engine, Follow: a.store},
		Owner:         owner,
		Workers:       cfg.Workers,
		LeaseTTL:      cfg.LeaseTTL,
		HandleTimeout: cfg.HandleTimeout,
		Loading: func(ctx context.Context, user koe.UserID) {
			if li, ok := senders[user.Channel()].(koe.LoadingIndicator); ok {
				if err := li.ShowLoading(ctx, user, 20*time.Second); err != nil {
					log.Debug("loading indicator failed", "err", err)
				}
			}
		},
		Metrics: metrics,
		Logger:  log,
	})
	if err != nil {
		return err
	}
	a.worker, err = followup.New(followup.Config{
		Queue: a.store, Handlers: handlers, Consumer: owner, Registerer: reg, Logger: log,
		Timeout: cfg.HandleTimeout, LeaseTTL: cfg.LeaseTTL,
	})
	if err != nil {
		return err
	}
	maps.Copy(routes, bot.NewAPI(bot.APIConfig{Token: cfg.AdminToken, Reports: a.store, Logger: log}))
	maps.Copy(routes, bot.NewReportAPI(bot.ReportAPIConfig{
		Token: cfg.AdminToken, Cases: a.store, Voices: a.store, PoliciesInForce: cfg.PoliciesInForce, Logger: log,
	}))
	maps.Copy(routes, bot.NewFAQReportAPI(bot.FAQReportConfig{Token: cfg.AdminToken, Log: a.store, Logger: log}))
	reg.MustRegister(bot.NewDeflectionCollector(a.store, 30*24*time.Hour))
	if cfg.AdminToken == "" {
		log.Warn("admin API disabled: KOE_ADMIN_TOKEN is not set")
	}

	handler := bot.NewServer(bot.ServerConfig{
		Ready:    a.ready,
		Gatherer: reg,
		Logger:   log,
		Routes:   routes,
	})
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	a.listener = ln
	a.server = &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       90 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	a.serveDone = make(chan struct{})
	go func() {
		defer close(a.serveDone)
		if err := a.server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server stopped", "err", err)
		}
	}()
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a.stopWork = cancel
	a.workDone.Go(func() { a.dispatcher.Run(wctx) })
	a.workDone.Go(func() { a.worker.Run(wctx) })
	return nil
}

// wireSlack sets up the Slack client, the staff side of accident reports
// and cases (their job handlers), and the Slack webhooks.
func (a *app) wireSlack(cfg Config, reg prometheus.Registerer, routes map[string]http.Handler,
	handlers map[string]followup.Handler, queue koe.Queue, senders map[koe.Channel]koe.Sender,
	content map[koe.Channel]bot.ContentGetter, cat *catalog.Catalog) error {
	log := a.log
	sc, err := slack.NewClient(slack.ClientConfig{
		BotToken: cfg.SlackBotToken, APIURL: cfg.SlackAPIURL, Logger: log, Registerer: reg,
	})
	if err != nil {
		return fmt.Errorf("slack client: %w", err)
	}
	var sla *staff.SLA
	if cfg.SlackChannelEscalations != "" {
		sla, err = staff.NewSLA(staff.SLAConfig{
			Cases: a.store, Queue: queue, Slack: sc, Calendar: cfg.Calendar,
			EscalationChannel: cfg.SlackChannelEscalations, Logger: log,
		})
		if err != nil {
			return err
		}
		maps.Copy(handlers, sla.Handlers())
	} else {
		log.Warn("SLACK_CHANNEL_ESCALATIONS is not set: no SLA reminders or escalations")
	}
	if cfg.SlackChannelPraise != "" {
		praise, err := staff.NewPraise(staff.PraiseConfig{Voices: a.store, Slack: sc, Channel: cfg.SlackChannelPraise, Logger: log})
		if err != nil {
			return err
		}
		maps.Copy(handlers, praise.Handlers())
	}
	var (
		onAccident func(context.Context, slack.Action) error
		cases      *staff.Cases
	)
	if cfg.SlackChannelAccidents != "" {
		acc, err := staff.NewAccidents(staff.AccidentsConfig{
			Reports: a.store, Queue: queue, Slack: sc, Channel: cfg.SlackChannelAccidents,
			Senders: senders, Catalog: cat, DataDir: cfg.DataDir, Logger: log,
			// A closed report asks the customer for 事故対応NPS after KOE_SURVEY_DELAY.
			Closed: func(r koe.AccidentReport, at time.Time) []koe.Job {
				return []koe.Job{bot.SurveyJob(r.User, koe.TouchpointClaim, r.Ref, r.Lang, at.Add(cfg.Survey.Delay))}
			},
		})
		if err != nil {
			return err
		}
		maps.Copy(handlers, acc.Handlers())
		onAccident = acc.OnAction
	} else {
		log.Warn("SLACK_CHANNEL_ACCIDENTS is not set: accident reports are kept but not alerted")
	}
	channels := map[koe.CaseType]string{}
	if cfg.SlackChannelComplaints != "" {
		channels[koe.CaseComplaint] = cfg.SlackChannelComplaints
	}
	if cfg.SlackChannelInquiries != "" {
		channels[koe.CaseInquiry] = cfg.SlackChannelInquiries
	}
	if len(channels) > 0 {
		corrections, err := staff.OpenCorrections(cfg.DataDir)
		if err != nil {
			return err
		}
		a.closers = append(a.closers, corrections.Close)
		cases, err = staff.NewCases(staff.CasesConfig{
			Cases: a.store, Voices: a.store, Queue: queue, Slack: sc, Channels: channels,
			Inbox:       &wakingInbox{Inbox: a.store, wake: func() { a.dispatcher.Notify() }},
			Photos:      &bot.PhotoFetcher{DataDir: cfg.DataDir, Channels: content}, // pictures sent during a handoff
			DataDir:     cfg.DataDir,
			Corrections: corrections, Logger: log,
		})
		if err != nil {
			return err
		}
		maps.Copy(handlers, cases.Handlers())
		// Once a case is alerted, its reminder and escalation are scheduled
		// (idempotent: the jobs are keyed by the case reference).
		if alert := handlers[staff.JobCaseAlert]; sla != nil {
			handlers[staff.JobCaseAlert] = followup.HandlerFunc(func(ctx context.Context, job koe.Job) error {
				if err := alert.HandleJob(ctx, job); err != nil {
					return err
				}
				c, err := a.store.GetCase(ctx, job.Ref)
				if err != nil {
					return fmt.Errorf("schedule SLA of %s: %w", job.Ref, err)
				}
				return sla.Schedule(ctx, c)
			})
		}
	} else {
		log.Warn("SLACK_CHANNEL_COMPLAINTS and SLACK_CHANNEL_INQUIRIES are not set: cases are kept but not alerted")
	}
	routes["/webhooks/slack/interactions"] = bot.CountRequests(a.metrics, "/webhooks/slack/interactions",
		slack.NewInteractionsHandler(slack.InteractionsConfig{
			SigningSecret: cfg.SlackSigningSecret, Logger: log,
			OnAction: func(ctx context.Context, act slack.Action) error {
				switch {
				case strings.HasPrefix(act.ActionID, "accident.") && onAccident != nil:
					return onAccident(ctx, act)
				case strings.HasPrefix(act.ActionID, "case.") && cases != nil:
					return cases.OnAction(ctx, act)
				}
				return nil // not ours, or not enabled: acknowledge and ignore
			},
			OnSubmit: func(ctx context.Context, sub slack.Submission) error {
				if strings.HasPrefix(sub.CallbackID, "case.") && cases != nil {
					return cases.OnSubmit(ctx, sub)
				}
				return nil
			},
		}))
	routes["/webhooks/slack/commands"] = bot.CountRequests(a.metrics, "/webhooks/slack/commands",
		slack.NewCommandsHandler(slack.CommandsConfig{
			SigningSecret: cfg.SlackSigningSecret, Logger: log,
			OnCommand: (&staff.Lookup{Reports: a.store, Cases: a.store}).OnCommand,
		}))
	routes["/webhooks/slack/events"] = bot.CountRequests(a.metrics, "/webhooks/slack/events",
		slack.NewEventsHandler(slack.EventsConfig{
			SigningSecret: cfg.SlackSigningSecret, Logger: log,
			OnThreadReply: func(ctx context.Context, r slack.ThreadReply) error {
				if cases == nil {
					return nil
				}
				return cases.OnThreadReply(ctx, r)
			},
		}))
	log.Info("channel enabled", "channel", "slack")
	return nil
}

// wakingInbox wakes the dispatcher after staff messages are appended.
type wakingInbox struct {
	koe.Inbox
	wake func()
}

func (q *wakingInbox) Append(ctx context.Context, msgs ...koe.Message) (int, error) {
	n, err := q.Inbox.Append(ctx, msgs...)
	if n > 0 {
		q.wake()
	}
	return n, err
}

// wakingQueue wakes the follow-up worker after every enqueue.
type wakingQueue struct {
	koe.Queue
	wake func()
}

func (q *wakingQueue) Enqueue(ctx context.Context, jobs ...koe.Job) (int, error) {
	n, err := q.Queue.Enqueue(ctx, jobs...)
	if n > 0 {
		q.wake()
	}
	return n, err
}

// Addr is the address the service listens on.
func (a *app) Addr() net.Addr { return a.listener.Addr() }

// ready is /readyz: the store answers and the dispatcher runs.
func (a *app) ready(ctx context.Context) error {
	if err := a.store.Ping(ctx); err != nil {
		return errors.New("store unreachable")
	}
	if !a.dispatcher.Running() || !a.worker.Running() {
		return errors.New("workers not running")
	}
	return nil
}

// Shutdown stops accepting requests and lets those in flight finish, then
// lets the dispatcher and worker finish what they are processing, then flushes and
// closes the store. Events still in the inbox wait for the next start.
func (a *app) Shutdown(ctx context.Context) error {
	var errs []error
	if err := a.server.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("http shutdown: %w", err))
	}
	<-a.serveDone
	a.stopWork()
	workDone := make(chan struct{})
	go func() { a.workDone.Wait(); close(workDone) }()
	select {
	case <-workDone:
	case <-ctx.Done():
		errs = append(errs, errors.New("workers did not finish in time"))
	}
	for _, c := range a.closers {
		if err := c(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := a.store.Close(); err != nil {
		errs = append(errs, fmt.Errorf("store close: %w", err))
	}
	return errors.Join(errs...)
}

// openStore opens the backend KOE_STORE names.
func openStore(ctx context.Context, cfg Config, log *slog.Logger) (koe.Store, error) {
	kind, target, err := storeKind(cfg.Store)
	if err != nil {
		return nil, &ConfigError{"KOE_STORE", err.Error()}
	}
	switch kind {
	case "redis":
		s, err := redis.Open(ctx, target, redis.Options{Prefix: cfg.RedisPrefix, Shards: cfg.RedisShards, Logger: log})
		if err != nil {
			return nil, fmt.Errorf("open redis store: %w", err)
		}
		log.Info("store opened", "store", "redis")
		return s, nil
	default:
		s, err := sqlite.Open(ctx, target, sqlite.Options{Logger: log})
		if err != nil {
			return nil, fmt.Errorf("open sqlite store %s: %w", target, err)
		}
		log.Info("store opened", "store", "sqlite", "path", target)
		return s, nil
	}
}

// ownerName identifies this process in inbox leases.
func ownerName() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}
