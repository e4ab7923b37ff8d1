package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/koehq/koe"
)

// SurveyAction is the StaffNote.Action of the KindStaff message that starts
// a survey conversation; its CaseRef is the survey id.
const SurveyAction = "survey"

// SurveyJobKind is the follow-up job kind that sends a survey later (see
// SurveyJob and SurveySender.HandleJob).
const SurveyJobKind = "survey.send"

// Defaults of SurveySender.
const (
	DefaultSurveyFatigue = 30 * 24 * time.Hour
	DefaultSurveyExpiry  = 7 * 24 * time.Hour
)

// Reasons of a RefusedError.
const (
	RefusedFatigue    = "fatigue"    // the user was sent a survey within the fatigue budget
	RefusedUnfollowed = "unfollowed" // the user unfollowed (blocked) the account
)

// RefusedError says a rule forbids sending a survey. It wraps
// koe.ErrConflict, so errors.Is(err, koe.ErrConflict) holds.
type RefusedError struct {
	Reason string // RefusedFatigue or RefusedUnfollowed
}

func (e *RefusedError) Error() string {
	switch e.Reason {
	case RefusedFatigue:
		return "survey refused: the user was sent a survey recently (fatigue budget)"
	case RefusedUnfollowed:
		return "survey refused: the user does not follow the account"
	}
	return "survey refused: " + e.Reason
}

// Unwrap returns koe.ErrConflict.
func (e *RefusedError) Unwrap() error { return koe.ErrConflict }

// SurveyRequest asks for one survey.
type SurveyRequest struct {
	User       koe.UserID     // a LINE user ("line:U…")
	Touchpoint koe.Touchpoint // claim or renewal
	Ref        string         // what it is about (AR-…, a policy number); optional
	Lang       koe.Lang       // "" is Japanese
	// Key makes the request idempotent: a request with the Key of an
	// earlier one returns that survey. Empty: a fresh random key.
	Key string
}

// SurveyInbox is where SurveySender puts the message that starts the survey
// conversation (the customer's inbox, deduplicated by message id).
type SurveyInbox interface {
	Append(ctx context.Context, msgs ...koe.Message) (int, error)
}

// SurveySender sends NPS micro-surveys: it checks the request and the
// rules, creates the survey and appends a KindStaff message (Action
// SurveyAction, CaseRef the survey id) to the customer's inbox, so the
// dialog that processes the inbox pushes the question. Set the fields
// before the first call; it is then safe for concurrent use.
type SurveySender struct {
	Surveys koe.SurveyStore
	Follow  koe.FollowStore // nil: every user is taken to follow
	Inbox   SurveyInbox
	// Fatigue is the budget: no survey to a user who was sent any survey
	// within it, across touchpoints (default 30 days).
	Fatigue time.Duration
	// Expiry is how long a survey accepts an answer (default 7 days).
	Expiry time.Duration
	Now    func() time.Time // default time.Now
	Rand   io.Reader        // for survey ids; nil: crypto/rand
	Logger *slog.Logger     // nil: discard
	// Registerer, when set, gets koe_survey_pushes_total{touchpoint}.
	Registerer prometheus.Registerer

	once   sync.Once
	pushes *prometheus.CounterVec
}

func (s *SurveySender) init() {
	s.once.Do(func() {
		s.pushes = prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "koe_survey_pushes_total",
			Help: "Survey questions handed to the dialog to push, by touchpoint (one per survey).",
		}, []string{"touchpoint"})
		if s.Registerer != nil {
			if err := s.Registerer.Register(s.pushes); err != nil {
				var are prometheus.AlreadyRegisteredError
				if errors.As(err, &are) {
					if c, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
						s.pushes = c
					}
				}
			}
		}
	})
}

func (s *SurveySender) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *SurveySender) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// ValidateSurveyRequest reports ErrInvalid, with a reason fit for an API
// answer (it names fields, never their values), for a request Send would
// refuse as malformed: a user that is not a LINE user id, an unknown
// touchpoint or language, an over-long or unprintable ref or key.
func ValidateSurveyRequest(r SurveyRequest) error {
	local, isLINE := strings.CutPrefix(string(r.User), string(koe.ChannelLINE)+":")
	switch {
	case r.User == "":
		return fmt.Errorf("user is required (line:U…): %w", koe.ErrInvalid)
	case !isLINE || !lineUserID(local):
		return fmt.Errorf("user: want a LINE user id (line:U…): %w", koe.ErrInvalid)
	case r.Touchpoint == "":
		return fmt.Errorf("touchpoint is required (claim or renewal): %w", koe.ErrInvalid)
	case TouchpointLabel(r.Touchpoint) == "":
		return fmt.Errorf("touchpoint: want claim or renewal: %w", koe.ErrInvalid)
	case len(r.Ref) > 64 || !printable(r.Ref):
		return fmt.Errorf("ref: at most 64 printable characters: %w", koe.ErrInvalid)
	case len(r.Key) > 128 || !printable(r.Key):
		return fmt.Errorf("key: at most 128 printable characters: %w", koe.ErrInvalid)
	}
	if r.Lang != "" {
		if l, ok := koe.ParseLang(string(r.Lang)); !ok || l != r.Lang {
			return fmt.Errorf("lang: want ja or en: %w", koe.ErrInvalid)
		}
	}
	return nil
}

// lineUserID reports whether id looks like a LINE user id: "U" and up to 63
// letters and digits (LINE's are U + 32 hex digits).
func lineUserID(id string) bool {
	if len(id) < 2 || len(id) > 64 || id[0] != 'U' {
		return false
	}
	for _, c := range id[1:] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

func printable(s string) bool {
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// TouchpointLabel is the Japanese name of a touchpoint's NPS, "" for an
// unknown touchpoint.
func TouchpointLabel(t koe.Touchpoint) string {
	switch t {
	case koe.TouchpointClaim:
		return "事故対応NPS"
	case koe.TouchpointRenewal:
		return "継続NPS"
	}
	return ""
}

// Touchpoints are the known touchpoints, in the order reports show them.
var Touchpoints = []koe.Touchpoint{koe.TouchpointClaim, koe.TouchpointRenewal}

// Send sends the survey r asks for and returns it.
//
// It answers ErrInvalid (see ValidateSurveyRequest) for a malformed
// request and ErrInvalid when r.Key was used for another user or
// touchpoint; a *RefusedError (wrapping koe.ErrConflict) when the user
// unfollowed or was sent a survey within Fatigue. A request with the Key
// of an earlier one returns that survey (and makes sure its message is in
// the inbox; the inbox deduplicates it by id "survey:"+id), so a retried
// request sends one question. Store and inbox errors are wrapped and
// returned; a survey created before a failed append is completed by the
// retry with the same Key.
func (s *SurveySender) Send(ctx context.Context, r SurveyRequest) (koe.Survey, error) {
	s.init()
	if err := ValidateSurveyRequest(r); err != nil {
		return koe.Survey{}, err
	}
	if r.Lang == "" {
		r.Lang = koe.Japanese
	}
	if r.Key == "" {
		r.Key = uuid.NewString()
	}
	if s.Follow != nil {
		following, err := s.Follow.Following(ctx, r.User)
		if err != nil {
			return koe.Survey{}, fmt.Errorf("survey: following: %w", err)
		}
		if !following {
			return koe.Survey{}, &RefusedError{Reason: RefusedUnfollowed}
		}
	}
	fatigue, expiry := s.Fatigue, s.Expiry
	if fatigue <= 0 {
		fatigue = DefaultSurveyFatigue
	}
	if expiry <= 0 {
		expiry = DefaultSurveyExpiry
	}
	now := s.now()
	var sv koe.Survey
	for attempt := 0; ; attempt++ {
		id, err := koe.NewRef(koe.RefSurvey, now, s.Rand)
		if err != nil {
			return koe.Survey{}, fmt.Errorf("survey: %w", err)
		}
		sv, err = s.Surveys.CreateSurvey(ctx, koe.Survey{
			ID: id, Key: r.Key, User: r.User, Touchpoint: r.Touchpoint, Ref: r.Ref, Lang: r.Lang,
			Status: koe.SurveySent, SentAt: now, ExpiresAt: now.Add(expiry),
		}, now.Add(-fatigue))
		switch {
		case err == nil:
		case errors.Is(err, koe.ErrDuplicate) && sv.Key == r.Key:
			if sv.User != r.User || sv.Touchpoint != r.Touchpoint {
				return koe.Survey{}, fmt.Errorf("survey: key was used for another request: %w", koe.ErrInvalid)
			}
		case errors.Is(err, koe.ErrDuplicate) && attempt < 3:
			continue // the id was taken: draw another
		case errors.Is(err, koe.ErrConflict):
			s.log().InfoContext(ctx, "survey refused", "reason", RefusedFatigue, "user", r.User.Hash(), "touchpoint", string(r.Touchpoint))
			return koe.Survey{}, &RefusedError{Reason: RefusedFatigue}
		default:
			return koe.Survey{}, fmt.Errorf("survey: create: %w", err)
		}
		break
	}
	n, err := s.Inbox.Append(ctx, koe.Message{
		ID: "survey:" + sv.ID, User: sv.User, Kind: koe.KindStaff, SentAt: now,
		Staff: &koe.StaffNote{Action: SurveyAction, CaseRef: sv.ID},
	})
	if err != nil {
		return koe.Survey{}, fmt.Errorf("survey %s: append to inbox: %w", sv.ID, err)
	}
	if n > 0 {
		s.pushes.WithLabelValues(string(sv.Touchpoint)).Inc()
		s.log().InfoContext(ctx, "survey sent", "survey", sv, "user", sv.User.Hash())
	}
	return sv, nil
}

// SurveyJob is the follow-up job that sends a survey about ref at (its
// NotBefore) — for example a claim survey a few days after an accident
// report is closed. Its ID is "survey.send:"+ref, so enqueuing it twice for
// one ref queues one job, and SurveySender.HandleJob sends with the job ID
// as the request Key, so a redelivered job sends one survey. ref should be
// non-empty.
func SurveyJob(user koe.UserID, touchpoint koe.Touchpoint, ref string, lang koe.Lang, at time.Time) koe.Job {
	return koe.Job{
		ID:   SurveyJobKind + ":" + ref,
		Kind: SurveyJobKind,
		Ref:  ref,
		Attrs: map[string]string{
			"user": string(user), "touchpoint": string(touchpoint), "ref": ref, "lang": string(lang),
		},
		Created:   at,
		NotBefore: at,
	}
}

// HandleJob runs a SurveyJobKind job (it satisfies followup.Handler): it
// sends the survey its Attrs describe with the job ID as Key. A survey the
// rules refuse (fatigue, unfollowed) is done — logged, nil returned; a
// malformed job returns an error wrapping ErrInvalid (dead-lettered);
// store and inbox errors are returned for a retry.
func (s *SurveySender) HandleJob(ctx context.Context, job koe.Job) error {
	if job.Kind != SurveyJobKind {
		return fmt.Errorf("survey job %s: kind %q: %w", job.ID, job.Kind, koe.ErrInvalid)
	}
	sv, err := s.Send(ctx, SurveyRequest{
		User: koe.UserID(job.Attrs["user"]), Touchpoint: koe.Touchpoint(job.Attrs["touchpoint"]),
		Ref: job.Attrs["ref"], Lang: koe.Lang(job.Attrs["lang"]), Key: job.ID,
	})
	var refused *RefusedError
	switch {
	case errors.As(err, &refused):
		s.log().InfoContext(ctx, "survey job: not sent", "job", job.ID, "reason", refused.Reason)
		return nil
	case err != nil:
		return fmt.Errorf("survey job %s: %w", job.ID, err)
	}
	s.log().DebugContext(ctx, "survey job done", "job", job.ID, "survey", sv)
	return nil
}

// SurveyAPIConfig configures the survey routes of the admin API. With no
// Token they answer 404 like the rest of /api/v1.
type SurveyAPIConfig struct {
	Token   string
	Sender  *SurveySender   // POST /api/v1/surveys; nil: 501
	Surveys koe.SurveyStore // GET /api/v1/reports/nps; nil: 501
	// MaxSurveys bounds the surveys one report reads (default 100000); a
	// report over it answers 422.
	MaxSurveys int
	Now        func() time.Time
	Logger     *slog.Logger
}

// NewSurveyAPI returns the routes
//
//	POST /api/v1/surveys   {"user":"line:U…","touchpoint":"claim","ref":"AR-…","lang":"ja","key":"…"}
//	                       → 201 {"id":"S-…","status":"sent","sentAt":…,"expiresAt":…}
//	GET  /api/v1/reports/nps?from=&to=&touchpoint= → NPSReport
//
// behind the admin bearer guard, for ServerConfig.Extra (merge with
// NewAPI's map). The request's key (or its Idempotency-Key header) makes a
// POST idempotent: a repeat answers 201 with the same survey. A malformed
// body or request answers 400 {"error":…}; a rule that forbids sending
// 409 {"error":…,"reason":"fatigue"|"unfollowed"}. The report's from and
// to are as in ParseReportTime (default: the last 12 months, see
// DefaultNPSPeriod); an unknown touchpoint or a period over 120 months
// answers 400.
func NewSurveyAPI(cfg SurveyAPIConfig) map[string]http.Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxSurveys <= 0 {
		cfg.MaxSurveys = 100000
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	a := &surveyAPI{cfg: cfg}
	send, report := http.HandlerFunc(a.send), http.HandlerFunc(a.report)
	if cfg.Sender == nil {
		send = unavailable("surveys")
	}
	if cfg.Surveys == nil {
		report = unavailable("surveys")
	}
	return map[string]http.Handler{
		"POST /api/v1/surveys":    bearerGuard(cfg.Token, send),
		"GET /api/v1/reports/nps": bearerGuard(cfg.Token, report),
	}
}

type surveyAPI struct{ cfg SurveyAPIConfig }

// maxSurveyBody bounds a POST /api/v1/surveys body.
const maxSurveyBody = 16 << 10

// maxNPSMonths bounds an NPS report's period.
const maxNPSMonths = 120

func (a *surveyAPI) send(w http.ResponseWriter, r *http.Request) {
	var body struct {
		User       string `json:"user"`
		Touchpoint string `json:"touchpoint"`
		Ref        string `json:"ref"`
		Lang       string `json:"lang"`
		Key        string `json:"key"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxSurveyBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		// The decoder's message may quote the body: answer in general terms.
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "body too large")
			return
		}
		writeError(w, http.StatusBadRequest, `want a JSON object {"user":"line:U…","touchpoint":"claim"|"renewal","ref":"…","lang":"ja"|"en","key":"…"}`)
		return
	}
	key := body.Key
	if h := r.Header.Get("Idempotency-Key"); h != "" {
		if key != "" && key != h {
			writeError(w, http.StatusBadRequest, "key and Idempotency-Key differ")
			return
		}
		key = h
	}
	sv, err := a.cfg.Sender.Send(r.Context(), SurveyRequest{
		User: koe.UserID(body.User), Touchpoint: koe.Touchpoint(body.Touchpoint),
		Ref: body.Ref, Lang: koe.Lang(body.Lang), Key: key,
	})
	var refused *RefusedError
	switch {
	case errors.As(err, &refused):
		writeJSON(w, http.StatusConflict, map[string]string{"error": refused.Error(), "reason": refused.Reason})
	case errors.Is(err, koe.ErrInvalid):
		// Validation messages name fields, never values.
		writeError(w, http.StatusBadRequest, strings.TrimSuffix(err.Error(), ": "+koe.ErrInvalid.Error()))
	case err != nil:
		a.cfg.Logger.ErrorContext(r.Context(), "admin api failed", "op", "send survey", "err", err)
		writeError(w, http.StatusInternalServerError, "internal error")
	default:
		writeJSON(w, http.StatusCreated, map[string]any{
			"id": sv.ID, "touchpoint": sv.Touchpoint, "status": sv.Status, "sentAt": sv.SentAt, "expiresAt": sv.ExpiresAt,
		})
	}
}

func (a *surveyAPI) report(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	from, to, ok := periodParams(w, q.Get("from"), q.Get("to"))
	if !ok {
		return
	}
	if to.IsZero() {
		to = a.cfg.Now()
	}
	if from.IsZero() {
		from, _ = DefaultNPSPeriod(to)
	}
	if !to.After(from) {
		writeError(w, http.StatusBadRequest, "from must be before to")
		return
	}
	if monthIndex(to.In(ReportZone()))-monthIndex(from.In(ReportZone())) >= maxNPSMonths {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("period longer than %d months", maxNPSMonths))
		return
	}
	tp := koe.Touchpoint(q.Get("touchpoint"))
	if tp != "" && TouchpointLabel(tp) == "" {
		writeError(w, http.StatusBadRequest, "touchpoint: want claim or renewal")
		return
	}
	ss, err := a.cfg.Surveys.Surveys(r.Context(), koe.SurveyFilter{From: from, To: to, Touchpoint: tp})
	if err != nil {
		a.cfg.Logger.ErrorContext(r.Context(), "admin api failed", "op", "report nps", "err", err)
		writeError(w, http.StatusInternalServerError, "internal error")
		return
	}
	if len(ss) > a.cfg.MaxSurveys {
		writeError(w, http.StatusUnprocessableEntity, fmt.Sprintf("more than %d surveys in the period: ask for a shorter one", a.cfg.MaxSurveys))
		return
	}
	writeJSON(w, http.StatusOK, NPSReportOf(ss, from, to, tp))
}
