package classifier

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"

	"github.com/koehq/koe"
)

// TrainConfig holds the trainer's settings. The zero value is not useful;
// start from DefaultTrainConfig.
type TrainConfig struct {
	MinN, MaxN int  // character n-gram range
	Words      bool // English word unigrams and bigrams
	MinDF      int  // keep features seen in at least this many examples
	Epochs     int
	Rate       float64 // AdaGrad learning rate
	L2         float64
	Folds      int // cross-validation folds for calibration and threshold
	// ComplaintRecall is the cross-validated complaint recall the
	// complaint threshold is tuned to reach; 0 means no threshold (plain
	// argmax).
	ComplaintRecall float64
	// NoCalibration keeps every softmax temperature at 1.
	NoCalibration bool
	Seed          uint64
}

// DefaultTrainConfig returns the settings the committed model is built with.
func DefaultTrainConfig() TrainConfig {
	return TrainConfig{
		MinN: 1, MaxN: 3, Words: true, MinDF: 1,
		Epochs: 20, Rate: 0.2, L2: 1e-5,
		Folds: 5, ComplaintRecall: 0.97, Seed: 20261122,
	}
}

// Example is one labelled text.
type Example struct {
	Kind, Topic, Sentiment string
	Urgency                []string
	Text                   string
}

type sparseVec struct {
	idx []int32
	val []float64
}

type trainSet struct {
	x []sparseVec
	y [][3]int
}

// Train builds a model from labelled examples. It is deterministic: the
// same examples in the same order and the same config give a model with
// the same bytes. It fails for an unknown label or an empty text.
func Train(examples []Example, cfg TrainConfig) (*Model, error) {
	set, vocab, err := prepare(examples, cfg)
	if err != nil {
		return nil, err
	}
	m := &Model{fc: featureConfig{MinN: cfg.MinN, MaxN: cfg.MaxN, Words: cfg.Words}}
	m.calibrate(outOfFold(set, len(vocab), cfg), set.y, cfg)
	all := make([]int, len(examples))
	for i := range all {
		all[i] = i
	}
	w, b := fit(set, all, len(vocab), cfg, 0)
	m.quantise(vocab, w, b)
	return m, nil
}

// CrossValidate estimates how a model trained with cfg does on unseen
// texts: each example is classified by a model trained on the other folds
// (calibrated on the same out-of-fold scores). It is what the method was
// chosen by, so that the held-out set in testdata stays unseen.
func CrossValidate(examples []Example, cfg TrainConfig) (*Evaluation, error) {
	set, vocab, err := prepare(examples, cfg)
	if err != nil {
		return nil, err
	}
	oof := outOfFold(set, len(vocab), cfg)
	m := &Model{}
	m.calibrate(oof, set.y, cfg)
	ev := &Evaluation{Kind: NewConfusion(Kinds), Topic: NewConfusion(Topics), Sentiment: NewConfusion(Sentiments)}
	for i, ex := range examples {
		r := m.decide(&oof[i])
		ev.N++
		ev.Kind.Add(ex.Kind, r.Kind)
		ev.Topic.Add(ex.Topic, r.Topic)
		ev.Sentiment.Add(ex.Sentiment, r.Sentiment)
		ev.addCalibration(r.KindConfidence, r.Kind == ex.Kind)
		if r.Kind != ex.Kind || r.Topic != ex.Topic {
			ev.Misses = append(ev.Misses, Miss{Example: ex, Got: r})
		}
	}
	return ev, nil
}

func (m *Model) calibrate(oof [][nOut]float64, y [][3]int, cfg TrainConfig) {
	heads := [3][2]int{{offKind, nKinds}, {offTopic, nTopics}, {offSent, nSentiments}}
	for h, hd := range heads {
		m.temp[h] = 1
		if !cfg.NoCalibration {
			m.temp[h] = float32(bestTemperature(oof, y, h, hd[0], hd[1]))
		}
	}
	m.complaintThreshold = 0.5
	if cfg.ComplaintRecall > 0 {
		m.complaintThreshold = float32(complaintThreshold(oof, y, float64(m.temp[0]), cfg.ComplaintRecall))
	}
}

// prepare validates the examples and turns them into sparse vectors over
// the vocabulary of features seen in at least MinDF examples.
func prepare(examples []Example, cfg TrainConfig) (trainSet, []uint64, error) {
	if len(examples) < cfg.Folds || cfg.Folds < 2 {
		return trainSet{}, nil, fmt.Errorf("classifier: train: need at least %d examples", max(cfg.Folds, 2))
	}
	fc := featureConfig{MinN: cfg.MinN, MaxN: cfg.MaxN, Words: cfg.Words}
	feats := make([][]uint64, len(examples))
	labels := make([][3]int, len(examples))
	df := map[uint64]int{}
	var runes []rune
	for i, ex := range examples {
		k, t, s := indexOf(Kinds, ex.Kind), indexOf(Topics, ex.Topic), indexOf(Sentiments, ex.Sentiment)
		if k < 0 || t < 0 || s < 0 {
			return trainSet{}, nil, fmt.Errorf("classifier: train: example %d: unknown label: %w", i+1, koe.ErrInvalid)
		}
		labels[i] = [3]int{k, t, s}
		norm := Normalize(ex.Text)
		if norm == "" {
			return trainSet{}, nil, fmt.Errorf("classifier: train: example %d: %w", i+1, ErrEmptyText)
		}
		feats[i], runes = fc.extract(nil, runes, norm)
		seen := map[uint64]bool{}
		for _, h := range feats[i] {
			if !seen[h] {
				seen[h] = true
				df[h]++
			}
		}
	}
	var vocab []uint64
	for h, c := range df {
		if c >= cfg.MinDF {
			vocab = append(vocab, h)
		}
	}
	slices.Sort(vocab)
	pos := make(map[uint64]int32, len(vocab))
	for i, h := range vocab {
		pos[h] = int32(i)
	}
	set := trainSet{x: make([]sparseVec, len(examples)), y: labels}
	for i, fs := range feats {
		counts := map[int32]float64{}
		for _, h := range fs {
			if p, ok := pos[h]; ok {
				counts[p]++
			}
		}
		norm := 1 / math.Sqrt(float64(len(fs)))
		v := sparseVec{}
		for p := range counts {
			v.idx = append(v.idx, p)
		}
		slices.Sort(v.idx)
		for _, p := range v.idx {
			v.val = append(v.val, counts[p]*norm)
		}
		set.x[i] = v
	}
	return set, vocab, nil
}

// outOfFold returns, for every example, the logits of a model trained on
// the folds that do not hold it.
func outOfFold(set trainSet, nFeat int, cfg TrainConfig) [][nOut]float64 {
	rng := rand.New(rand.NewPCG(cfg.Seed, 1))
	order := rng.Perm(len(set.x))
	fold := make([]int, len(set.x))
	for i, e := range order {
		fold[e] = i % cfg.Folds
	}
	oof := make([][nOut]float64, len(set.x))
	for f := range cfg.Folds {
		var tr, te []int
		for i := range set.x {
			if fold[i] == f {
				te = append(te, i)
			} else {
				tr = append(tr, i)
			}
		}
		w, b := fit(set, tr, nFeat, cfg, uint64(f+1))
		for _, i := range te {
			oof[i] = logitsOf(set.x[i], w, b)
		}
	}
	return oof
}

// fit trains the three softmax heads with AdaGrad on the examples in rows.
func fit(set trainSet, rows []int, nFeat int, cfg TrainConfig, seed uint64) ([]float64, [nOut]float64) {
	w := make([]float64, nFeat*nOut)
	g2 := make([]float64, nFeat*nOut)
	var b, gb [nOut]float64
	rng := rand.New(rand.NewPCG(cfg.Seed, seed+100))
	order := slices.Clone(rows)
	heads := [3][2]int{{offKind, nKinds}, {offTopic, nTopics}, {offSent, nSentiments}}
	var grad [nOut]float64
	for range cfg.Epochs {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, e := range order {
			x := set.x[e]
			lg := logitsOf(x, w, b)
			for h, hd := range heads {
				var p [nKinds]float64
				softmax(lg[hd[0]:hd[0]+hd[1]], p[:hd[1]], 1)
				for j := range hd[1] {
					grad[hd[0]+j] = p[j]
				}
				grad[hd[0]+set.y[e][h]] -= 1
			}
			for j := range nOut {
				g := grad[j]
				gb[j] += float64(g * g)
				b[j] -= float64(cfg.Rate * g / math.Sqrt(gb[j]+1e-8))
			}
			for k, fi := range x.idx {
				xv := x.val[k]
				base := int(fi) * nOut
				for j := range nOut {
					g := float64(grad[j]*xv) + float64(cfg.L2*w[base+j])
					g2[base+j] += float64(g * g)
					w[base+j] -= float64(cfg.Rate * g / math.Sqrt(g2[base+j]+1e-8))
				}
			}
		}
	}
	return w, b
}

func logitsOf(x sparseVec, w []float64, b [nOut]float64) [nOut]float64 {
	out := b
	for k, fi := range x.idx {
		xv := x.val[k]
		base := int(fi) * nOut
		for j := range nOut {
			out[j] += float64(w[base+j] * xv)
		}
	}
	return out
}

// bestTemperature returns the softmax temperature that minimises the
// out-of-fold negative log-likelihood of one head.
func bestTemperature(oof [][nOut]float64, y [][3]int, head, off, n int) float64 {
	best, bestT := math.Inf(1), 1.0
	p := make([]float64, n)
	for t := 0.25; t <= 4.0001; t += 0.05 {
		nll := 0.0
		for i := range oof {
			softmax(oof[i][off:off+n], p, t)
			nll -= math.Log(max(p[y[i][head]], 1e-12))
		}
		if nll < best-1e-9 {
			best, bestT = nll, t
		}
	}
	return math.Round(bestT*100) / 100
}

// complaintThreshold returns the highest probability threshold at which at
// least the wanted share of complaints is still caught out of fold, capped
// to [0.15, 0.5].
func complaintThreshold(oof [][nOut]float64, y [][3]int, temp, recall float64) float64 {
	ci := indexOf(Kinds, KindComplaint)
	var ps []float64
	p := make([]float64, nKinds)
	for i := range oof {
		if y[i][0] != ci {
			continue
		}
		softmax(oof[i][offKind:offKind+nKinds], p, temp)
		ps = append(ps, p[ci])
	}
	if len(ps) == 0 {
		return 0.5
	}
	sort.Float64s(ps)
	k := int(math.Floor((1 - recall) * float64(len(ps))))
	th := ps[min(k, len(ps)-1)]
	th = math.Floor(th*1000) / 1000
	return min(max(th, 0.15), 0.5)
}

// quantise stores the weights as int16 with one scale, dropping features
// whose weights all round to zero.
func (m *Model) quantise(vocab []uint64, w []float64, b [nOut]float64) {
	mx := 0.0
	for _, v := range w {
		mx = max(mx, math.Abs(v))
	}
	scale := float32(1)
	if mx > 0 {
		scale = float32(mx / 32767)
	}
	m.scale = scale
	for j := range nOut {
		m.bias[j] = float32(b[j])
	}
	m.index = make(map[uint64]int32)
	for i, h := range vocab {
		var row [nOut]int16
		nz := false
		for j := range nOut {
			q := math.Round(w[i*nOut+j] / float64(scale))
			row[j] = int16(max(min(q, 32767), -32767))
			nz = nz || row[j] != 0
		}
		if !nz {
			continue
		}
		m.index[h] = int32(len(m.weights) / nOut)
		m.weights = append(m.weights, row[:]...)
	}
	// Re-encode and parse so that a trained model is exactly what a
	// loaded one is (rows in hash order, name from the bytes).
	raw, _ := m.MarshalBinary()
	if pm, err := ParseModel(raw); err == nil {
		m.index, m.table, m.weights, m.name = pm.index, pm.table, pm.weights, pm.name
	}
}
