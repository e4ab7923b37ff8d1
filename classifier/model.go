package classifier

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"sort"
	"sync"
)

//go:embed model.bin
var embeddedModel []byte

const (
	nKinds      = 5
	nTopics     = 5
	nSentiments = 3
	nOut        = nKinds + nTopics + nSentiments
	offKind     = 0
	offTopic    = nKinds
	offSent     = nKinds + nTopics

	modelMagic   = "KOEM"
	modelVersion = 1
)

// Model is the embedded classifier: a linear model over hashed character
// n-grams (and English words) of the normalised text, with one softmax head
// each for kind, topic and sentiment, temperature-calibrated, and a tuned
// complaint threshold that favours recall. Urgency comes from rules
// (FindUrgency). A Model is immutable and safe for concurrent use.
type Model struct {
	fc      featureConfig
	index   map[uint64]int32 // feature hash → row in weights
	table   featureTable     // the same, for fast lookups
	weights []int16          // rows × nOut, times scale
	scale   float32
	bias    [nOut]float32
	temp    [3]float32 // softmax temperature per head
	// complaintThreshold: kind is complaint when P(complaint) reaches it.
	complaintThreshold float32
	name               string
	pool               sync.Pool // *scratch
}

type scratch struct {
	feats []uint64
	runes []rune
}

var _ Classifier = (*Model)(nil)

// LoadEmbedded parses the model compiled into the binary. It returns an
// error only if the embedded file is corrupt (a build defect).
func LoadEmbedded() (*Model, error) {
	return ParseModel(embeddedModel)
}

// EmbeddedModelBytes returns a copy of the embedded model file.
func EmbeddedModelBytes() []byte {
	return append([]byte(nil), embeddedModel...)
}

// Name returns the model's name as reported in Result.Model: "embedded/"
// and the first eight hex digits of the model file's SHA-256.
func (m *Model) Name() string { return m.name }

// ComplaintThreshold returns the probability of complaint at or above which
// the model answers complaint.
func (m *Model) ComplaintThreshold() float64 { return float64(m.complaintThreshold) }

// Classify classifies one text. It returns ErrEmptyText when the normalised
// text is empty and the context's error when ctx is already done. Texts
// longer than MaxTextBytes are classified by their beginning.
func (m *Model) Classify(ctx context.Context, text string) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("classifier: %w", err)
	}
	norm := Normalize(text)
	if norm == "" {
		return Result{}, ErrEmptyText
	}
	var logits [nOut]float64
	m.score(norm, &logits)
	r := m.decide(&logits)
	r.Urgency = findUrgencyNormalized(norm)
	r.Urgent = len(r.Urgency) > 0
	r.Model = m.name
	return r, nil
}

// score computes the raw logits of a normalised text.
func (m *Model) score(norm string, logits *[nOut]float64) {
	s, _ := m.pool.Get().(*scratch)
	if s == nil {
		s = &scratch{}
	}
	s.feats, s.runes = m.fc.extract(s.feats[:0], s.runes, norm)
	var acc [nOut]int32
	for _, h := range s.feats {
		row := m.table.lookup(h)
		if row < 0 {
			continue
		}
		w := m.weights[int(row)*nOut : int(row)*nOut+nOut : int(row)*nOut+nOut]
		for j := range nOut {
			acc[j] += int32(w[j])
		}
	}
	n := len(s.feats)
	m.pool.Put(s)
	f := float64(m.scale)
	if n > 0 {
		f /= math.Sqrt(float64(n))
	}
	for j := range nOut {
		logits[j] = float64(m.bias[j]) + f*float64(acc[j])
	}
}

// decide turns logits into labels and calibrated confidences.
func (m *Model) decide(logits *[nOut]float64) Result {
	var pk [nKinds]float64
	var pt [nTopics]float64
	var ps [nSentiments]float64
	softmax(logits[offKind:offKind+nKinds], pk[:], float64(m.temp[0]))
	softmax(logits[offTopic:offTopic+nTopics], pt[:], float64(m.temp[1]))
	softmax(logits[offSent:offSent+nSentiments], ps[:], float64(m.temp[2]))

	ci := indexOf(Kinds, KindComplaint)
	k := argmax(pk[:])
	if pk[ci] >= float64(m.complaintThreshold) {
		k = ci
	} else if k == ci {
		// Below the threshold the complaint is not chosen even when it is
		// the most probable label: take the best of the others.
		k = argmaxExcept(pk[:], ci)
	}
	t := argmax(pt[:])
	s := argmax(ps[:])
	if k == ci && Sentiments[s] == SentimentPositive {
		// A complaint is never positive: take the better of the others.
		s = argmaxExcept(ps[:], indexOf(Sentiments, SentimentPositive))
	}
	r := Result{
		Kind:                Kinds[k],
		Topic:               Topics[t],
		Sentiment:           Sentiments[s],
		KindConfidence:      round4(pk[k]),
		TopicConfidence:     round4(pt[t]),
		SentimentConfidence: round4(ps[s]),
	}
	r.Confidence = min(r.KindConfidence, r.TopicConfidence, r.SentimentConfidence)
	return r
}

func softmax(logits, out []float64, temp float64) {
	if temp <= 0 {
		temp = 1
	}
	mx := math.Inf(-1)
	for _, v := range logits {
		mx = max(mx, v/temp)
	}
	sum := 0.0
	for i, v := range logits {
		out[i] = math.Exp(v/temp - mx)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
}

func argmax(p []float64) int {
	best := 0
	for i := range p {
		if p[i] > p[best] {
			best = i
		}
	}
	return best
}

func argmaxExcept(p []float64, skip int) int {
	best := -1
	for i := range p {
		if i != skip && (best < 0 || p[i] > p[best]) {
			best = i
		}
	}
	return best
}

func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }

// ErrBadModel is returned by ParseModel for a file that is not a model of
// this format.
var ErrBadModel = errors.New("classifier: bad model file")

// header layout (little endian):
//
//	magic "KOEM", u16 version, u8 minN, u8 maxN, u8 words, u8 reserved,
//	u32 nFeat, f32 scale, f32 complaintThreshold, 3×f32 temperature,
//	nOut×f32 bias, nFeat×u64 feature hashes (ascending),
//	nFeat×nOut×i16 weights.
const headerSize = 4 + 2 + 4 + 4 + 4 + 4 + 3*4 + nOut*4

// MarshalBinary encodes the model in the format ParseModel reads. Equal
// models give equal bytes.
func (m *Model) MarshalBinary() ([]byte, error) {
	hashes := make([]uint64, 0, len(m.index))
	for h := range m.index {
		hashes = append(hashes, h)
	}
	sort.Slice(hashes, func(i, j int) bool { return hashes[i] < hashes[j] })
	n := len(hashes)
	b := make([]byte, 0, headerSize+n*8+n*nOut*2)
	b = append(b, modelMagic...)
	b = binary.LittleEndian.AppendUint16(b, modelVersion)
	words := byte(0)
	if m.fc.Words {
		words = 1
	}
	b = append(b, byte(m.fc.MinN), byte(m.fc.MaxN), words, 0)
	b = binary.LittleEndian.AppendUint32(b, uint32(n))
	b = binary.LittleEndian.AppendUint32(b, math.Float32bits(m.scale))
	b = binary.LittleEndian.AppendUint32(b, math.Float32bits(m.complaintThreshold))
	for _, t := range m.temp {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(t))
	}
	for _, v := range m.bias {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	for _, h := range hashes {
		b = binary.LittleEndian.AppendUint64(b, h)
	}
	for _, h := range hashes {
		row := int(m.index[h])
		for _, w := range m.weights[row*nOut : row*nOut+nOut] {
			b = binary.LittleEndian.AppendUint16(b, uint16(w))
		}
	}
	return b, nil
}

// ParseModel decodes a model file written by MarshalBinary. It returns an
// error wrapping ErrBadModel for anything else; it never panics.
func ParseModel(b []byte) (*Model, error) {
	if len(b) < headerSize || string(b[:4]) != modelMagic {
		return nil, fmt.Errorf("%w: no header", ErrBadModel)
	}
	if v := binary.LittleEndian.Uint16(b[4:]); v != modelVersion {
		return nil, fmt.Errorf("%w: version %d", ErrBadModel, v)
	}
	m := &Model{fc: featureConfig{MinN: int(b[6]), MaxN: int(b[7]), Words: b[8] == 1}}
	if m.fc.MinN < 1 || m.fc.MaxN < m.fc.MinN || m.fc.MaxN > 8 {
		return nil, fmt.Errorf("%w: n-gram range", ErrBadModel)
	}
	p := 10
	u32 := func() uint32 { v := binary.LittleEndian.Uint32(b[p:]); p += 4; return v }
	f32 := func() float32 { return math.Float32frombits(u32()) }
	n := int(u32())
	m.scale = f32()
	m.complaintThreshold = f32()
	for i := range m.temp {
		m.temp[i] = f32()
	}
	for i := range m.bias {
		m.bias[i] = f32()
	}
	if want := headerSize + n*(8+nOut*2); n < 0 || len(b) != want {
		return nil, fmt.Errorf("%w: size %d, want %d", ErrBadModel, len(b), want)
	}
	m.index = make(map[uint64]int32, n)
	for i := range n {
		h := binary.LittleEndian.Uint64(b[p:])
		p += 8
		if _, dup := m.index[h]; dup {
			return nil, fmt.Errorf("%w: duplicate feature", ErrBadModel)
		}
		m.index[h] = int32(i)
	}
	m.weights = make([]int16, n*nOut)
	for i := range m.weights {
		m.weights[i] = int16(binary.LittleEndian.Uint16(b[p:]))
		p += 2
	}
	m.table = newFeatureTable(m.index)
	sum := sha256.Sum256(b)
	m.name = "embedded/" + hex.EncodeToString(sum[:4])
	return m, nil
}

// featureTable is an open-addressing hash table from feature hash to row:
// one flat array of keys probed linearly, which is several times faster
// than a map for the few hundred lookups of a text.
type featureTable struct {
	keys []uint64
	rows []int32
	mask uint64
}

func newFeatureTable(index map[uint64]int32) featureTable {
	size := 16
	for size < 2*len(index) {
		size <<= 1
	}
	t := featureTable{keys: make([]uint64, size), rows: make([]int32, size), mask: uint64(size - 1)}
	for i := range t.rows {
		t.rows[i] = -1
	}
	for h, row := range index {
		i := h & t.mask
		for t.rows[i] >= 0 {
			i = (i + 1) & t.mask
		}
		t.keys[i], t.rows[i] = h, row
	}
	return t
}

// lookup returns the row of feature h, or -1.
func (t *featureTable) lookup(h uint64) int32 {
	if len(t.keys) == 0 {
		return -1
	}
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		r := t.rows[i]
		if r < 0 {
			return -1
		}
		if t.keys[i] == h {
			return r
		}
	}
}
