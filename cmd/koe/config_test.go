package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/koehq/koe/bot/console"
)

func TestLoadConfigDefaults(t *testing.T) {
	cfg, err := loadConfig(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != ":8080" || cfg.Store != "sqlite:./koe-data/koe.db" || cfg.DataDir != "./koe-data" ||
		cfg.Lang != "ja" || cfg.Classifier != "embedded" || cfg.SessionIdle != 30*time.Minute || cfg.Console != console.AccessLocal {
		t.Errorf("defaults = %+v", cfg)
	}
	if cfg.LINEChannelSecret != "" || cfg.AdminToken != "" {
		t.Errorf("secrets have defaults: %+v", cfg)
	}
}

func TestConsoleDefault(t *testing.T) {
	for _, tt := range []struct {
		env  map[string]string
		want console.Access
	}{
		{map[string]string{}, console.AccessLocal},
		{map[string]string{"LINE_CHANNEL_SECRET": "s", "LINE_CHANNEL_ACCESS_TOKEN": "t"}, console.AccessOff},
		{map[string]string{"LINE_CHANNEL_SECRET": "s", "LINE_CHANNEL_ACCESS_TOKEN": "t", "KOE_CONSOLE": "local"}, console.AccessLocal},
		{map[string]string{"KOE_CONSOLE": "open"}, console.AccessOpen},
	} {
		cfg, err := loadConfig(func(k string) string { return tt.env[k] })
		if err != nil || cfg.Console != tt.want {
			t.Errorf("env %v: console %q (%v), want %q", tt.env, cfg.Console, err, tt.want)
		}
	}
}

// TestLoadConfigNamesTheBadVariable: every invalid value is reported with
// the name of its variable.
func TestLoadConfigNamesTheBadVariable(t *testing.T) {
	tests := []struct {
		env     map[string]string
		wantVar string
	}{
		{map[string]string{"KOE_LANG": "fr"}, "KOE_LANG"},
		{map[string]string{"KOE_CONSOLE": "public"}, "KOE_CONSOLE"},
		{map[string]string{"KOE_STORE": "postgres://x"}, "KOE_STORE"},
		{map[string]string{"KOE_STORE": "sqlite:"}, "KOE_STORE"},
		{map[string]string{"KOE_ADDR": "8080"}, "KOE_ADDR"},
		{map[string]string{"KOE_WORKERS": "many"}, "KOE_WORKERS"},
		{map[string]string{"KOE_WORKERS": "0"}, "KOE_WORKERS"},
		{map[string]string{"KOE_SESSION_IDLE": "soon"}, "KOE_SESSION_IDLE"},
		{map[string]string{"KOE_SESSION_IDLE": "1s"}, "KOE_SESSION_IDLE"},
		{map[string]string{"KOE_LEASE_TTL": "30s", "KOE_HANDLE_TIMEOUT": "1m"}, "KOE_LEASE_TTL"},
		{map[string]string{"KOE_CLASSIFIER": "magic"}, "KOE_CLASSIFIER"},
		{map[string]string{"KOE_LOG_LEVEL": "loud"}, "KOE_LOG_LEVEL"},
		{map[string]string{"LINE_CHANNEL_SECRET": "s"}, "LINE_CHANNEL_ACCESS_TOKEN"},
		{map[string]string{"LINE_CHANNEL_ACCESS_TOKEN": "t"}, "LINE_CHANNEL_SECRET"},
		{map[string]string{"LINE_API_BASE_URL": "not a url"}, "LINE_API_BASE_URL"},
		{map[string]string{"SLACK_API_URL": "http://127.0.0.1:1/api"}, "SLACK_API_URL"},
		{map[string]string{"KOE_REDIS_PREFIX": "a{b}"}, "KOE_REDIS_PREFIX"},
	}
	for _, tt := range tests {
		t.Run(tt.wantVar, func(t *testing.T) {
			_, err := loadConfig(func(k string) string { return tt.env[k] })
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a ConfigError", err)
			}
			if ce.Var != tt.wantVar {
				t.Errorf("error names %s, want %s (%v)", ce.Var, tt.wantVar, err)
			}
		})
	}
}

func TestRunCommands(t *testing.T) {
	tests := []struct {
		args       []string
		wantErr    error
		wantStdout string
		wantStderr string
	}{
		{[]string{"help"}, nil, "Usage: koe <command>", ""},
		{[]string{"version"}, nil, "koe dev", ""},
		{nil, errUsage, "", "Usage: koe <command>"},
		{[]string{"frobnicate"}, errUsage, "", `unknown command "frobnicate"`},
		{[]string{"serve", "-h"}, flag.ErrHelp, "", "Usage: koe serve"},
		{[]string{"chat", "-h"}, flag.ErrHelp, "", "Usage: koe chat"},
		{[]string{"version", "extra"}, errUsage, "", "unexpected argument"},
		{[]string{"serve", "-addr", "nonsense"}, &ConfigError{}, "", ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tt.args, func(string) string { return "" }, strings.NewReader(""), &stdout, &stderr)
			switch want := tt.wantErr.(type) {
			case nil:
				if err != nil {
					t.Fatalf("err = %v", err)
				}
			case *ConfigError:
				if !errors.As(err, &want) || want.Var != "KOE_ADDR" {
					t.Fatalf("err = %v, want a KOE_ADDR config error", err)
				}
			default:
				if !errors.Is(err, want) {
					t.Fatalf("err = %v, want %v", err, want)
				}
			}
			if !strings.Contains(stdout.String(), tt.wantStdout) {
				t.Errorf("stdout = %q, want it to contain %q", stdout.String(), tt.wantStdout)
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tt.wantStderr)
			}
		})
	}
}

// TestStoreURL: KOE_STORE takes one Redis endpoint or a Redis Cluster; a
// bad value is a ConfigError naming KOE_STORE whose text never shows the
// password.
func TestStoreURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		store string
		ok    bool
	}{
		{"sqlite:/var/lib/koe/koe.db", true},
		{"redis://127.0.0.1:6379/0", true},
		{"rediss://koe:s3cret@cache.example.com:6380/2", true},
		{"redis+cluster://127.0.0.1:7000", true},
		{"redis+cluster://koe:s3cret@10.0.0.1:7000/0?addr=10.0.0.2:7000&addr=10.0.0.3:7000", true},
		{"rediss+cluster://:s3cret@cache.example.com:6380?addr=cache2.example.com:6380&dial_timeout=3s", true},
		{"redis+cluster://koe:s3cret@10.0.0.1:7000/1", false},
		{"redis+cluster://koe:s3cret@10.0.0.1:7000?db=3", false},
		{"redis+cluster://koe:s3cret@10.0.0.1:7000?addr=10.0.0.2", false},
		{"redis+cluster://koe:s3cret@10.0.0.1:7000?unknown=1", false},
		{"redis://koe:s3cret@127.0.0.1:6379/zero", false},
		{"redis://koe:s3cret@127.0.0.1:port/0", false},
		{"redis+sentinel://koe:s3cret@127.0.0.1:26379", false},
		{"cluster://koe:s3cret@127.0.0.1:7000", false},
	} {
		t.Run(tc.store, func(t *testing.T) {
			cfg, err := loadConfig(func(k string) string {
				if k == "KOE_STORE" {
					return tc.store
				}
				return ""
			})
			if tc.ok {
				if err != nil {
					t.Fatalf("loadConfig = %v, want nil", err)
				}
				if cfg.Store != tc.store {
					t.Errorf("Store = %q, want %q", cfg.Store, tc.store)
				}
				return
			}
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Var != "KOE_STORE" {
				t.Fatalf("loadConfig = %v, want a KOE_STORE config error", err)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}

// TestStoreClusterDatabase: the error for a cluster URL with a database
// says why.
func TestStoreClusterDatabase(t *testing.T) {
	t.Parallel()
	cfg, _ := loadConfig(func(string) string { return "" })
	cfg.Store = "redis+cluster://127.0.0.1:7000/2"
	err := cfg.Validate()
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Var != "KOE_STORE" || !strings.Contains(ce.Reason, "database 0") {
		t.Errorf("Validate = %v, want a KOE_STORE error about database 0", err)
	}
}

// TestServeStoreErrorHidesPassword: when the cluster cannot be reached,
// neither serve's error nor its log shows the password.
func TestServeStoreErrorHidesPassword(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"KOE_ADDR":     "127.0.0.1:0",
		"KOE_DATA_DIR": t.TempDir(),
		"KOE_STORE":    "redis+cluster://koe:s3cret@127.0.0.1:1?addr=127.0.0.1:2&dialer_retries=1&max_retries=-1",
	}
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), []string{"serve"}, func(k string) string { return env[k] }, strings.NewReader(""), &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("serve with an unreachable cluster = %v, want an error naming the seed", err)
	}
	for name, s := range map[string]string{"error": err.Error(), "stdout": stdout.String(), "stderr": stderr.String()} {
		if strings.Contains(s, "s3cret") {
			t.Errorf("%s shows the password: %q", name, s)
		}
	}
}
