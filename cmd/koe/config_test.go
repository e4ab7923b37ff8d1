package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"strings"
	"testing"
	"time"
)

func TestLoadConfigDefaults(t *testing.T) {
	cfg, err := loadConfig(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != ":8080" || cfg.Store != "sqlite:./koe-data/koe.db" || cfg.DataDir != "./koe-data" ||
		cfg.Lang != "ja" || cfg.Classifier != "embedded" || cfg.SessionIdle != 30*time.Minute {
		t.Errorf("defaults = %+v", cfg)
	}
	if cfg.LINEChannelSecret != "" || cfg.AdminToken != "" {
		t.Errorf("secrets have defaults: %+v", cfg)
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
