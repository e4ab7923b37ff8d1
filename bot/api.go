package bot

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/koehq/koe"
)

// APIConfig configures the admin API under /api/v1. With no Token the API
// is disabled: every route answers 404 with an explanation.
type APIConfig struct {
	Token   string
	Reports koe.ReportStore
	Logger  *slog.Logger
}

// NewAPI returns the admin API's routes, for ServerConfig.Extra.
func NewAPI(cfg APIConfig) map[string]http.Handler {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &api{cfg: cfg, log: log}
	return map[string]http.Handler{
		"/api/v1/": a.guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusNotFound, "no such route")
		})),
		"GET /api/v1/accidents/{ref}": a.guard(http.HandlerFunc(a.accident)),
	}
}

type api struct {
	cfg APIConfig
	log *slog.Logger
}

// guard checks the bearer token (constant time) before next runs.
func (a *api) guard(next http.Handler) http.Handler { return bearerGuard(a.cfg.Token, next) }

// bearerGuard answers 404 when token is empty (the admin API is disabled)
// and 401 unless the request carries "Authorization: Bearer token"
// (compared in constant time); otherwise next runs.
func bearerGuard(token string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token == "" {
			writeError(w, http.StatusNotFound, "the admin API is disabled: set KOE_ADMIN_TOKEN")
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="koe"`)
			writeError(w, http.StatusUnauthorized, "missing or wrong bearer token")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (a *api) accident(w http.ResponseWriter, r *http.Request) {
	ref := r.PathValue("ref")
	if !strings.HasPrefix(ref, "AR-") || len(ref) > 40 {
		writeError(w, http.StatusBadRequest, "not an accident reference (AR-…)")
		return
	}
	rep, err := a.cfg.Reports.GetReport(r.Context(), ref)
	switch {
	case errors.Is(err, koe.ErrNotFound):
		writeError(w, http.StatusNotFound, "no accident report "+ref)
	case err != nil:
		a.internalError(r.Context(), w, "get report", err)
	default:
		writeJSON(w, http.StatusOK, rep)
	}
}

func (a *api) internalError(ctx context.Context, w http.ResponseWriter, op string, err error) {
	a.log.ErrorContext(ctx, "admin api failed", "op", op, "err", err)
	writeError(w, http.StatusInternalServerError, "internal error")
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
