package redis

import (
	"net/url"
	"strings"

	goredis "github.com/redis/go-redis/v9"

	"github.com/koehq/koe"
)

// The URLs Open accepts:
//
//	redis://[user:pass@]host:port/db     one endpoint (a standalone Redis or a proxy)
//	rediss://…                           the same over TLS
//	redis+cluster://[user:pass@]host:port?addr=host2:port&addr=host3:port
//	                                     a Redis Cluster, discovered from these seed nodes
//	rediss+cluster://…                   the same over TLS (every node is verified
//	                                     against the first host's name)
//
// Both forms also take go-redis's query options (dial_timeout=3s,
// pool_size=20, …); an unknown option is an error. A cluster has only
// database 0, so a cluster URL's path may be empty, "/" or "/0".
const (
	schemeCluster    = "redis+cluster"
	schemeClusterTLS = "rediss+cluster"
)

// URLError is the error for a URL Open cannot use. Reason says what is
// wrong and never contains the URL's password; errors.Is(err,
// koe.ErrInvalid) holds.
type URLError struct {
	Reason string
}

func (e *URLError) Error() string { return "url: " + e.Reason }

// Unwrap returns koe.ErrInvalid.
func (e *URLError) Unwrap() error { return koe.ErrInvalid }

// CheckURL reports whether Open would accept rawURL, without connecting.
// Its error is a *URLError.
func CheckURL(rawURL string) error {
	_, err := parseURL(rawURL)
	return err
}

// endpoint is where a URL points: one Redis or a cluster.
type endpoint struct {
	single  *goredis.Options        // nil for a cluster
	cluster *goredis.ClusterOptions // nil for one endpoint
}

// newClient returns a client for e; it does no I/O.
func (e endpoint) newClient() goredis.UniversalClient {
	if e.cluster != nil {
		return goredis.NewClusterClient(e.cluster)
	}
	return goredis.NewClient(e.single)
}

// String names the addresses of e (never credentials), for errors.
func (e endpoint) String() string {
	if e.cluster != nil {
		return "cluster " + strings.Join(e.cluster.Addrs, ",")
	}
	return e.single.Addr
}

// parseURL turns one of the URLs Open accepts into an endpoint. Errors are
// *URLError.
func parseURL(rawURL string) (endpoint, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Parse's error quotes the whole URL, password included.
		return endpoint{}, &URLError{"not a URL"}
	}
	password, _ := u.User.Password()
	switch u.Scheme {
	case schemeCluster, schemeClusterTLS:
		if db := strings.Trim(u.Path, "/"); db != "" && db != "0" {
			return endpoint{}, &URLError{"a Redis Cluster has only database 0; leave the path empty or /0"}
		}
		q := u.Query()
		if db, ok := q["db"]; ok {
			if len(db) != 1 || db[0] != "0" {
				return endpoint{}, &URLError{"a Redis Cluster has only database 0; leave the path empty or /0"}
			}
			q.Del("db")
		}
		c := *u
		c.Scheme = strings.TrimSuffix(u.Scheme, "+cluster")
		c.Path, c.RawPath, c.RawQuery = "", "", q.Encode()
		o, err := goredis.ParseClusterURL(c.String())
		if err != nil {
			return endpoint{}, &URLError{reason(err, password)}
		}
		return endpoint{cluster: o}, nil
	default:
		o, err := goredis.ParseURL(rawURL)
		if err != nil {
			return endpoint{}, &URLError{reason(err, password)}
		}
		return endpoint{single: o}, nil
	}
}

// reason is go-redis's explanation of a URL it refused ("invalid database
// number: …", "unexpected option: …"), or a generic one should it contain
// the password.
func reason(err error, password string) string {
	msg := strings.TrimPrefix(err.Error(), "redis: ")
	if password != "" && strings.Contains(msg, password) {
		return "malformed Redis URL"
	}
	return msg
}
