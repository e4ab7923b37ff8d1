package dialogs_test

import (
	"sync"
)

// seqReader is a deterministic io.Reader for reference numbers: bytes
// 7, 15, 3, 19 (AR-…-7F3K), then counting on.
type seqReader struct {
	mu sync.Mutex
	n  byte
}

func (r *seqReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	seed := []byte{7, 15, 3, 19}
	for i := range p {
		if int(r.n) < len(seed) {
			p[i] = seed[r.n]
		} else {
			p[i] = r.n * 5
		}
		r.n++
	}
	return len(p), nil
}
