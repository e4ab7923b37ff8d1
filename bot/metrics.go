package bot

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/koehq/koe"
)

// Metrics are the service's Prometheus instruments. Labels never carry
// personal data: routes, statuses, channels, kinds and results only.
type Metrics struct {
	WebhookRequests *prometheus.CounterVec   // route, status
	EventsProcessed *prometheus.CounterVec   // channel, kind, result
	Processing      *prometheus.HistogramVec // channel: seconds from claim to done
	EndToEnd        *prometheus.HistogramVec // channel: seconds from platform send to done
}

// NewMetrics creates the instruments and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		WebhookRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "koe_webhook_requests_total",
			Help: "Webhook requests by route and HTTP status.",
		}, []string{"route", "status"}),
		EventsProcessed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "koe_events_processed_total",
			Help: "Inbound events taken from the inbox, by channel, kind and result (ok, retry, dead).",
		}, []string{"channel", "kind", "result"}),
		Processing: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "koe_event_processing_seconds",
			Help:    "Time from claiming an event to finishing it (dialog step, store writes, replies).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"channel"}),
		EndToEnd: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "koe_event_end_to_end_seconds",
			Help:    "Time from the platform's event timestamp to the event being finished.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}, []string{"channel"}),
	}
	reg.MustRegister(m.WebhookRequests, m.EventsProcessed, m.Processing, m.EndToEnd)
	return m
}

// RegisterInboxDepth exports the inbox's pending count as a gauge read at
// scrape time.
func RegisterInboxDepth(reg prometheus.Registerer, inbox koe.Inbox) {
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "koe_inbox_depth",
		Help: "Inbound events stored and not yet processed.",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, err := inbox.Depth(ctx)
		if err != nil {
			return -1
		}
		return float64(n)
	}))
}
