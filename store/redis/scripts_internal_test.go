package redis

import (
	"os"
	"strconv"
	"testing"

	"github.com/alicebob/miniredis/v2"
	goredis "github.com/redis/go-redis/v9"
)

// TestLuaLE checks the scripts' exact comparison of Unix-nanosecond
// strings, on miniredis's Lua and, with KOE_TEST_REDIS_URL, on Redis's.
func TestLuaLE(t *testing.T) {
	url := os.Getenv("KOE_TEST_REDIS_URL")
	if url == "" {
		url = "redis://" + miniredis.RunT(t).Addr() + "/0"
	}
	opts, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := goredis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	sc := goredis.NewScript(luaLE + `return le(ARGV[1], ARGV[2]) and 1 or 0`)
	const ns = "1795167000123456789" // 2026-11-22T09:30:00.123456789Z
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{ns, ns, true},
		{ns, "1795167000123456790", true},  // one nanosecond later
		{"1795167000123456790", ns, false}, // one nanosecond earlier: beyond a double's precision
		{"1795167000123456788", ns, true},
		{"1795167001123456789", ns, false}, // a second later
		{"999999999", "1000000000", true},  // shorter is smaller
		{"1000000000", "999999999", false},
		{"0", ns, true},
		{ns, "0", false},
		{"0", "0", true},
		{strconv.FormatInt(1<<63-1, 10), strconv.FormatInt(1<<63-2, 10), false},
	} {
		got, err := sc.Run(t.Context(), c, []string{"koetest-le"}, tc.a, tc.b).Int()
		if err != nil {
			t.Fatal(err)
		}
		if (got == 1) != tc.want {
			t.Errorf("le(%s, %s) = %v, want %v", tc.a, tc.b, got == 1, tc.want)
		}
	}
}
