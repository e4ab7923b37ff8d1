package slack_test

import (
	"bytes"
	"io"
	"strconv"
	"time"
)

func httpBody(b []byte) io.ReadCloser { return io.NopCloser(bytes.NewReader(b)) }

func fakeslackTS(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }
