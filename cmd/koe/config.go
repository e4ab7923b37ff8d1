package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/bot/console"
	"github.com/koehq/koe/internal/bizcal"
	"github.com/koehq/koe/store/redis"
)

// Config is the service's configuration, read from the environment
// (CONTRACT.md lists the variables). Zero values never reach the code:
// loadConfig fills defaults and Validate names the first bad variable.
type Config struct {
	Addr       string   // KOE_ADDR
	Store      string   // KOE_STORE: sqlite:PATH, redis://… or redis+cluster://…
	DataDir    string   // KOE_DATA_DIR
	AdminToken string   // KOE_ADMIN_TOKEN
	Lang       koe.Lang // KOE_LANG
	// Console is who may use the browser console at /console
	// (KOE_CONSOLE: local, open or off; default local, this machine only,
	// or off when LINE is configured).
	Console console.Access

	LINEChannelSecret string // LINE_CHANNEL_SECRET
	LINEAccessToken   string // LINE_CHANNEL_ACCESS_TOKEN
	LINEAPIBaseURL    string // LINE_API_BASE_URL
	LINEDataBaseURL   string // LINE_DATA_API_BASE_URL

	SlackSigningSecret string // SLACK_SIGNING_SECRET
	SlackBotToken      string // SLACK_BOT_TOKEN
	SlackAPIURL        string // SLACK_API_URL
	// Alert channels (SLACK_CHANNEL_*): channel ids such as C0123ABCD.
	SlackChannelAccidents   string
	SlackChannelComplaints  string
	SlackChannelInquiries   string
	SlackChannelEscalations string
	SlackChannelPraise      string

	Classifier    string // KOE_CLASSIFIER: embedded or openai
	OpenAIAPIKey  string // OPENAI_API_KEY
	OpenAIBaseURL string // OPENAI_BASE_URL
	OpenAIModel   string // OPENAI_MODEL

	// Calendar is the business-hours calendar SLA due times are counted in
	// (KOE_BUSINESS_HOURS, KOE_HOLIDAYS, KOE_YEAR_END_CLOSURE, KOE_BUSINESS_TZ).
	Calendar *bizcal.Calendar
	// PoliciesInForce is KOE_POLICIES_IN_FORCE: the complaint rate's
	// denominator in voice reports (0: no rate).
	PoliciesInForce int
	// Survey holds KOE_SURVEY_FATIGUE, KOE_SURVEY_EXPIRY and KOE_SURVEY_DELAY.
	Survey SurveySettings

	AccidentPhone string // KOE_ACCIDENT_PHONE: the accident desk customers are told to call
	InquiryPhone  string // KOE_INQUIRY_PHONE: the customer desk customers are told to call

	RedisPrefix      string        // KOE_REDIS_PREFIX: key prefix in a shared Redis
	RedisShards      int           // KOE_REDIS_INBOX_SHARDS: inbox shards (hash slots) in Redis
	Workers          int           // KOE_WORKERS: events processed at once
	LeaseTTL         time.Duration // KOE_LEASE_TTL: how long a claimed event is reserved
	HandleTimeout    time.Duration // KOE_HANDLE_TIMEOUT: bound on processing one event
	SessionIdle      time.Duration // KOE_SESSION_IDLE: after this pause a dialog offers to resume or restart
	SessionRetention time.Duration // KOE_SESSION_RETENTION: how long an unfinished conversation is kept
	WebhookMaxBytes  int64         // KOE_WEBHOOK_MAX_BYTES
	ShutdownTimeout  time.Duration // KOE_SHUTDOWN_TIMEOUT
	LogLevel         slog.Level    // KOE_LOG_LEVEL: debug, info, warn, error
	LogFormat        string        // KOE_LOG_FORMAT: json or text
}

// ConfigError names the environment variable whose value is wrong.
type ConfigError struct {
	Var    string
	Reason string
}

func (e *ConfigError) Error() string { return fmt.Sprintf("config: %s: %s", e.Var, e.Reason) }

// loadConfig reads the environment through getenv, applying defaults. Values
// that do not parse are reported by name.
func loadConfig(getenv func(string) string) (Config, error) {
	env := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	c := Config{
		Addr:                    env("KOE_ADDR", ":8080"),
		Store:                   env("KOE_STORE", "sqlite:./koe-data/koe.db"),
		DataDir:                 env("KOE_DATA_DIR", "./koe-data"),
		AdminToken:              getenv("KOE_ADMIN_TOKEN"),
		LINEChannelSecret:       getenv("LINE_CHANNEL_SECRET"),
		LINEAccessToken:         getenv("LINE_CHANNEL_ACCESS_TOKEN"),
		LINEAPIBaseURL:          env("LINE_API_BASE_URL", "https://api.line.me"),
		LINEDataBaseURL:         env("LINE_DATA_API_BASE_URL", "https://api-data.line.me"),
		SlackSigningSecret:      getenv("SLACK_SIGNING_SECRET"),
		SlackBotToken:           getenv("SLACK_BOT_TOKEN"),
		SlackAPIURL:             env("SLACK_API_URL", "https://slack.com/api/"),
		SlackChannelAccidents:   getenv("SLACK_CHANNEL_ACCIDENTS"),
		SlackChannelComplaints:  getenv("SLACK_CHANNEL_COMPLAINTS"),
		SlackChannelInquiries:   getenv("SLACK_CHANNEL_INQUIRIES"),
		SlackChannelEscalations: getenv("SLACK_CHANNEL_ESCALATIONS"),
		SlackChannelPraise:      getenv("SLACK_CHANNEL_PRAISE"),
		Classifier:              env("KOE_CLASSIFIER", "embedded"),
		OpenAIAPIKey:            getenv("OPENAI_API_KEY"),
		OpenAIBaseURL:           getenv("OPENAI_BASE_URL"),
		OpenAIModel:             getenv("OPENAI_MODEL"),
		LogFormat:               env("KOE_LOG_FORMAT", "json"),
		RedisPrefix:             env("KOE_REDIS_PREFIX", "koe"),
		AccidentPhone:           getenv("KOE_ACCIDENT_PHONE"),
		InquiryPhone:            getenv("KOE_INQUIRY_PHONE"),
	}
	var errs []error
	lang, ok := koe.ParseLang(env("KOE_LANG", "ja"))
	if !ok {
		errs = append(errs, &ConfigError{"KOE_LANG", "want ja or en"})
	}
	c.Lang = lang
	if c.Console, ok = console.ParseAccess(getenv("KOE_CONSOLE")); !ok {
		errs = append(errs, &ConfigError{"KOE_CONSOLE", "want local, open or off"})
	} else if getenv("KOE_CONSOLE") == "" && getenv("LINE_CHANNEL_SECRET") != "" {
		// With a real channel this is a production service: a proxy on the
		// same machine would make "local" mean everyone. Opt in explicitly.
		c.Console = console.AccessOff
	}

	intVar := func(name string, def int) int {
		s := env(name, strconv.Itoa(def))
		n, err := strconv.Atoi(s)
		if err != nil {
			errs = append(errs, &ConfigError{name, "not a whole number"})
		}
		return n
	}
	durVar := func(name string, def time.Duration) time.Duration {
		s := env(name, def.String())
		d, err := time.ParseDuration(s)
		if err != nil {
			errs = append(errs, &ConfigError{name, "not a duration such as 30m or 10s"})
		}
		return d
	}
	c.Workers = intVar("KOE_WORKERS", 32)
	c.RedisShards = intVar("KOE_REDIS_INBOX_SHARDS", 1)
	c.WebhookMaxBytes = int64(intVar("KOE_WEBHOOK_MAX_BYTES", 1<<20))
	c.PoliciesInForce = intVar(EnvPoliciesInForce, 0)
	if s, err := loadSurveySettings(getenv); err != nil {
		errs = append(errs, err)
	} else {
		c.Survey = s
	}
	if cal, err := bizcal.FromEnv(getenv); err != nil {
		var ve *bizcal.VarError
		if errors.As(err, &ve) {
			errs = append(errs, &ConfigError{ve.Var, ve.Err.Error()})
		} else {
			errs = append(errs, err)
		}
	} else {
		c.Calendar = cal
	}
	c.SessionIdle = durVar("KOE_SESSION_IDLE", 30*time.Minute)
	c.SessionRetention = durVar("KOE_SESSION_RETENTION", 24*time.Hour)
	c.LeaseTTL = durVar("KOE_LEASE_TTL", 2*time.Minute)
	c.HandleTimeout = durVar("KOE_HANDLE_TIMEOUT", 60*time.Second)
	c.ShutdownTimeout = durVar("KOE_SHUTDOWN_TIMEOUT", 30*time.Second)
	if err := c.LogLevel.UnmarshalText([]byte(env("KOE_LOG_LEVEL", "info"))); err != nil {
		errs = append(errs, &ConfigError{"KOE_LOG_LEVEL", "want debug, info, warn or error"})
	}
	if err := errors.Join(errs...); err != nil {
		return c, err
	}
	return c, c.Validate()
}

// Validate checks values that parsed but make no sense, naming the variable.
func (c Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return &ConfigError{"KOE_ADDR", "want host:port such as :8080"}
	}
	if _, _, err := storeKind(c.Store); err != nil {
		return &ConfigError{"KOE_STORE", err.Error()}
	}
	for _, u := range []struct{ name, value string }{
		{"LINE_API_BASE_URL", c.LINEAPIBaseURL},
		{"LINE_DATA_API_BASE_URL", c.LINEDataBaseURL},
		{"SLACK_API_URL", c.SlackAPIURL},
	} {
		if p, err := url.Parse(u.value); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return &ConfigError{u.name, "want an http(s) URL"}
		}
	}
	if !strings.HasSuffix(c.SlackAPIURL, "/") {
		return &ConfigError{"SLACK_API_URL", "must end with a slash"}
	}
	if (c.SlackSigningSecret == "") != (c.SlackBotToken == "") {
		name := "SLACK_BOT_TOKEN"
		if c.SlackSigningSecret == "" {
			name = "SLACK_SIGNING_SECRET"
		}
		return &ConfigError{name, "set both SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN, or neither"}
	}
	if (c.LINEChannelSecret == "") != (c.LINEAccessToken == "") {
		name := "LINE_CHANNEL_ACCESS_TOKEN"
		if c.LINEChannelSecret == "" {
			name = "LINE_CHANNEL_SECRET"
		}
		return &ConfigError{name, "set both LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN, or neither"}
	}
	switch c.Classifier {
	case "embedded":
	case "openai":
		if c.OpenAIModel == "" {
			return &ConfigError{"OPENAI_MODEL", "KOE_CLASSIFIER=openai needs a model name"}
		}
	default:
		return &ConfigError{"KOE_CLASSIFIER", "want embedded or openai"}
	}
	switch c.LogFormat {
	case "json", "text":
	default:
		return &ConfigError{"KOE_LOG_FORMAT", "want json or text"}
	}
	switch {
	case c.Workers < 1 || c.Workers > 4096:
		return &ConfigError{"KOE_WORKERS", "want 1 to 4096"}
	case c.WebhookMaxBytes < 1024:
		return &ConfigError{"KOE_WEBHOOK_MAX_BYTES", "want at least 1024"}
	case c.SessionIdle < time.Minute:
		return &ConfigError{"KOE_SESSION_IDLE", "want at least 1m"}
	case c.SessionRetention < c.SessionIdle:
		return &ConfigError{"KOE_SESSION_RETENTION", "must be at least KOE_SESSION_IDLE"}
	case c.ShutdownTimeout <= 0:
		return &ConfigError{"KOE_SHUTDOWN_TIMEOUT", "want a positive duration"}
	case c.HandleTimeout < time.Second:
		return &ConfigError{"KOE_HANDLE_TIMEOUT", "want at least 1s"}
	case c.LeaseTTL <= c.HandleTimeout:
		return &ConfigError{"KOE_LEASE_TTL", "must be longer than KOE_HANDLE_TIMEOUT"}
	case c.RedisShards < 1 || c.RedisShards > 1024:
		return &ConfigError{"KOE_REDIS_INBOX_SHARDS", "want 1 to 1024"}
	case c.RedisPrefix == "" || strings.ContainsAny(c.RedisPrefix, "{} "):
		return &ConfigError{"KOE_REDIS_PREFIX", "want a non-empty prefix without braces or spaces"}
	}
	return nil
}

// storeKind splits KOE_STORE into "sqlite" with a path or "redis" with the
// URL: redis:// or rediss:// for one endpoint, redis+cluster:// or
// rediss+cluster:// for a Redis Cluster (redis.CheckURL has the forms; a
// cluster URL naming a database other than 0 is refused). Its errors never
// contain the URL's password.
func storeKind(s string) (kind, target string, err error) {
	switch {
	case strings.HasPrefix(s, "sqlite:"):
		path := strings.TrimPrefix(s, "sqlite:")
		if path == "" {
			return "", "", errors.New("want sqlite:PATH")
		}
		return "sqlite", path, nil
	case strings.HasPrefix(s, "redis://"), strings.HasPrefix(s, "rediss://"),
		strings.HasPrefix(s, "redis+cluster://"), strings.HasPrefix(s, "rediss+cluster://"):
		if err := redis.CheckURL(s); err != nil {
			var ue *redis.URLError
			if errors.As(err, &ue) {
				return "", "", errors.New(ue.Reason)
			}
			return "", "", errors.New("not a valid Redis URL")
		}
		return "redis", s, nil
	}
	return "", "", errors.New("want sqlite:PATH, redis://host:port/db or redis+cluster://host:port?addr=host:port")
}

// openToolStore is how the one-shot tools (report, survey send) start: the
// configuration from the environment with store overriding KOE_STORE when
// set, a logger that prints only errors (stdout is the tool's output), and
// the store, which the caller closes.
func openToolStore(ctx context.Context, e env, store string) (Config, koe.Store, *slog.Logger, error) {
	cfg, err := loadConfig(e.getenv)
	if err != nil {
		return cfg, nil, nil, err
	}
	if store != "" {
		cfg.Store = store
	}
	if err := cfg.Validate(); err != nil {
		return cfg, nil, nil, err
	}
	cfg.LogLevel = max(cfg.LogLevel, slog.LevelError)
	log := newLogger(cfg, e.stderr)
	st, err := openStore(ctx, cfg, log)
	return cfg, st, log, err
}
