package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/koehq/koe"
	"github.com/koehq/koe/bot"
	"github.com/koehq/koe/bot/line"
	"github.com/koehq/koe/dialogs"
	"github.com/koehq/koe/store/redis"
	"github.com/koehq/koe/store/sqlite"
)

func runServe(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("serve", "serve [-addr :8080] [-store sqlite:PATH|redis://…]", e)
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

// app is a running service: HTTP server, dispatcher and store.
type app struct {
	log        *slog.Logger
	store      koe.Store
	dispatcher *bot.Dispatcher
	server     *http.Server
	listener   net.Listener

	stopDispatch context.CancelFunc
	dispatchDone chan struct{}
	serveDone    chan struct{}
}

// startApp opens the store, wires channels, dialogs and dispatcher, and
// starts serving on cfg.Addr. It returns once the listener is bound.
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
	bot.RegisterInboxDepth(reg, a.store)

	senders := map[koe.Channel]koe.Sender{}
	var lineWebhook http.Handler
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
		lineWebhook = hook
		log.Info("channel enabled", "channel", "line")
	} else {
		log.Warn("channel disabled: LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN are not set", "channel", "line")
	}
	if cfg.SlackSigningSecret == "" || cfg.SlackBotToken == "" {
		log.Warn("channel disabled: SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN are not set", "channel", "slack")
	}

	if cfg.AccidentPhone == "" || cfg.InquiryPhone == "" {
		log.Warn("KOE_ACCIDENT_PHONE or KOE_INQUIRY_PHONE is not set: customers are shown the catalogue's placeholder number")
	}
	engine, err := dialogs.NewEngine(dialogs.Config{
		Sessions:      a.store,
		Senders:       senders,
		Logger:        log,
		DefaultLang:   cfg.Lang,
		IdleTimeout:   cfg.SessionIdle,
		AccidentPhone: cfg.AccidentPhone,
		InquiryPhone:  cfg.InquiryPhone,
	})
	if err != nil {
		return fmt.Errorf("dialogs: %w", err)
	}
	a.dispatcher, err = bot.NewDispatcher(bot.DispatcherConfig{
		Inbox:         a.store,
		Handler:       engine,
		Owner:         ownerName(),
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

	handler := bot.NewServer(bot.ServerConfig{
		LINEWebhook: lineWebhook,
		Ready:       a.ready,
		Gatherer:    reg,
		Metrics:     metrics,
		Logger:      log,
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
	dctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a.stopDispatch = cancel
	a.dispatchDone = make(chan struct{})
	go func() {
		defer close(a.dispatchDone)
		a.dispatcher.Run(dctx)
	}()
	return nil
}

// Addr is the address the service listens on.
func (a *app) Addr() net.Addr { return a.listener.Addr() }

// ready is /readyz: the store answers and the dispatcher runs.
func (a *app) ready(ctx context.Context) error {
	if err := a.store.Ping(ctx); err != nil {
		return errors.New("store unreachable")
	}
	if !a.dispatcher.Running() {
		return errors.New("dispatcher not running")
	}
	return nil
}

// Shutdown stops accepting requests and lets those in flight finish, then
// lets the dispatcher finish the events it is processing, then flushes and
// closes the store. Events still in the inbox wait for the next start.
func (a *app) Shutdown(ctx context.Context) error {
	var errs []error
	if err := a.server.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("http shutdown: %w", err))
	}
	<-a.serveDone
	a.stopDispatch()
	select {
	case <-a.dispatchDone:
	case <-ctx.Done():
		errs = append(errs, errors.New("dispatcher did not finish in time"))
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
