package redis

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/koehq/koe"
)

func TestParseURLCluster(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, url  string
		addrs      []string
		user, pass string
		tlsName    string // "" without TLS
	}{
		{"one seed", "redis+cluster://10.0.0.1:7000", []string{"10.0.0.1:7000"}, "", "", ""},
		{"db 0 as path", "redis+cluster://10.0.0.1:7000/0", []string{"10.0.0.1:7000"}, "", "", ""},
		{"empty path", "redis+cluster://10.0.0.1:7000/", []string{"10.0.0.1:7000"}, "", "", ""},
		{"db 0 as option", "redis+cluster://10.0.0.1:7000?db=0", []string{"10.0.0.1:7000"}, "", "", ""},
		{"default port", "redis+cluster://node-a", []string{"node-a:6379"}, "", "", ""},
		{
			"seeds and credentials",
			"redis+cluster://koe:s3cret@node-a:7000/0?addr=node-b:7001&addr=node-c:7002",
			[]string{"node-a:7000", "node-b:7001", "node-c:7002"}, "koe", "s3cret", "",
		},
		{
			"tls",
			"rediss+cluster://:s3cret@cache.example.com:6380?addr=cache2.example.com:6380",
			[]string{"cache.example.com:6380", "cache2.example.com:6380"}, "", "s3cret", "cache.example.com",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ep, err := parseURL(tc.url)
			if err != nil {
				t.Fatalf("parseURL(%q) = %v", tc.url, err)
			}
			o := ep.cluster
			if o == nil || ep.single != nil {
				t.Fatalf("parseURL(%q) = %+v, want cluster options only", tc.url, ep)
			}
			if !slices.Equal(o.Addrs, tc.addrs) {
				t.Errorf("Addrs = %q, want %q", o.Addrs, tc.addrs)
			}
			if o.Username != tc.user || o.Password != tc.pass {
				t.Errorf("credentials = %q, %q; want %q, %q", o.Username, o.Password, tc.user, tc.pass)
			}
			switch {
			case tc.tlsName == "" && o.TLSConfig != nil:
				t.Errorf("TLSConfig = %+v, want none", o.TLSConfig)
			case tc.tlsName != "" && (o.TLSConfig == nil || o.TLSConfig.ServerName != tc.tlsName):
				t.Errorf("TLSConfig = %+v, want ServerName %q", o.TLSConfig, tc.tlsName)
			}
			if strings.Contains(ep.String(), "s3cret") {
				t.Errorf("String() = %q shows the password", ep.String())
			}
		})
	}
}

func TestParseURLOptions(t *testing.T) {
	t.Parallel()
	ep, err := parseURL("redis+cluster://node-a:7000?dial_timeout=3s&pool_size=20&addr=node-b:7001")
	if err != nil {
		t.Fatal(err)
	}
	if o := ep.cluster; o.DialTimeout != 3*time.Second || o.PoolSize != 20 || len(o.Addrs) != 2 {
		t.Errorf("options = dial %v, pool %d, addrs %q; want 3s, 20, two", o.DialTimeout, o.PoolSize, o.Addrs)
	}
}

func TestParseURLSingle(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		url, addr string
		db        int
		tls       bool
	}{
		{"redis://u:s3cret@127.0.0.1:6379/2", "127.0.0.1:6379", 2, false},
		{"rediss://cache.example.com:6380/0", "cache.example.com:6380", 0, true},
	} {
		ep, err := parseURL(tc.url)
		if err != nil {
			t.Fatalf("parseURL(%q) = %v", tc.url, err)
		}
		o := ep.single
		if o == nil || ep.cluster != nil {
			t.Fatalf("parseURL(%q) = %+v, want one endpoint", tc.url, ep)
		}
		if o.Addr != tc.addr || o.DB != tc.db || (o.TLSConfig != nil) != tc.tls {
			t.Errorf("parseURL(%q) = addr %s, db %d, tls %v; want %s, %d, %v",
				tc.url, o.Addr, o.DB, o.TLSConfig != nil, tc.addr, tc.db, tc.tls)
		}
	}
}

// TestParseURLRejects: every refusal is a *URLError wrapping ErrInvalid,
// and none repeats the password.
func TestParseURLRejects(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, url, want string
	}{
		{"cluster db 1", "redis+cluster://u:s3cret@node-a:7000/1", "database 0"},
		{"cluster db as option", "redis+cluster://u:s3cret@node-a:7000?db=1", "database 0"},
		{"cluster db not a number", "redis+cluster://u:s3cret@node-a:7000/zero", "database 0"},
		{"cluster bad seed", "redis+cluster://u:s3cret@node-a:7000?addr=node-b", "addr"},
		{"cluster unknown option", "redis+cluster://u:s3cret@node-a:7000?dial_timout=3s", "dial_timout"},
		{"cluster password as option", "redis+cluster://node-a:7000?password=s3cret", "password"},
		{"single bad db", "redis://u:s3cret@node-a:6379/zero", "database"},
		{"wrong scheme", "http://u:s3cret@node-a:6379/0", "scheme"},
		{"not a url", "redis://u:s3cret@node-a:port/0", "not a URL"},
		{"password in the error text", "redis://u:zero@node-a:6379/zero", "malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseURL(tc.url)
			var ue *URLError
			if !errors.As(err, &ue) || !errors.Is(err, koe.ErrInvalid) {
				t.Fatalf("parseURL(%q) = %v, want a URLError wrapping ErrInvalid", tc.url, err)
			}
			if !strings.Contains(ue.Reason, tc.want) {
				t.Errorf("reason = %q, want it to mention %q", ue.Reason, tc.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}
