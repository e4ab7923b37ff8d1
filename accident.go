package koe

import (
	"context"
	"log/slog"
	"time"
)

// AccidentKind is what kind of accident a report is about.
type AccidentKind string

// The kinds the accident dialog offers.
const (
	AccidentMotor AccidentKind = "motor" // 自動車
	AccidentHome  AccidentKind = "home"  // 住まい・火災
	AccidentOther AccidentKind = "other" // その他
)

// ReportStatus is where staff are with an accident report.
type ReportStatus string

// Report statuses, in their usual order.
const (
	ReportReceived   ReportStatus = "received"    // submitted by the customer
	ReportAssigned   ReportStatus = "assigned"    // a staff member took it (担当する)
	ReportInProgress ReportStatus = "in_progress" // 対応中
	ReportDone       ReportStatus = "done"        // 完了
)

// AccidentReport (事故連絡) is the structured result of the accident dialog.
// Ref is what the customer keeps and quotes (AR-20261122-7F3K). Almost every
// field is personal data: log a report only through LogValue.
type AccidentReport struct {
	Ref string `json:"ref"`
	// Key is the idempotency key of the submission (the dialog effect's
	// key): submitting the same key twice yields one report.
	Key  string `json:"key"`
	User UserID `json:"user"`
	Lang Lang   `json:"lang"`

	// Urgent: someone was injured or in danger when the customer reported.
	Urgent bool         `json:"urgent"`
	Kind   AccidentKind `json:"kind"`

	PolicyNumber string `json:"policyNumber,omitempty"` // normalised; empty when the customer did not know it
	Name         string `json:"name,omitempty"`         // asked when the policy number is unknown

	OccurredAt time.Time `json:"occurredAt"`
	// OccurredText is how the time reads to people ("2026年11月3日 14:00頃").
	OccurredText string    `json:"occurredText,omitempty"`
	Location     *Location `json:"location,omitempty"` // shared from LINE
	Place        string    `json:"place,omitempty"`    // typed address or description

	Description string `json:"description"`
	// Involved lists the other parties; empty means none.
	Involved       []Party `json:"involved,omitempty"`
	PoliceNotified string  `json:"policeNotified,omitempty"` // yes, no, unknown
	Injuries       string  `json:"injuries,omitempty"`

	Photos []Photo `json:"photos,omitempty"`

	Phone    string `json:"phone,omitempty"`    // contact phone, E.164
	CallTime string `json:"callTime,omitempty"` // preferred time to call, as shown to people

	Status   ReportStatus   `json:"status"`
	Assignee string         `json:"assignee,omitempty"` // staff member's display name
	History  []StatusChange `json:"history,omitempty"`
	// Alert is the Slack message that announced the report, once posted.
	Alert *AlertRef `json:"alert,omitempty"`

	SubmittedAt time.Time `json:"submittedAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
	Version     int64     `json:"version"`
}

// Party is someone or something else involved in an accident.
type Party struct {
	Kind    string `json:"kind"` // vehicle, person, property
	Name    string `json:"name,omitempty"`
	Plate   string `json:"plate,omitempty"`
	Insurer string `json:"insurer,omitempty"`
}

// Photo is a picture the customer sent, kept under KOE_DATA_DIR. A picture
// that could not be fetched yet has only its ContentID (the channel's id,
// e.g. LINE's message id) and no Path.
type Photo struct {
	Path        string `json:"path,omitempty"` // relative to the data dir
	ContentID   string `json:"contentId,omitempty"`
	ContentType string `json:"contentType"`
	Size        int64  `json:"size"`
}

// StatusChange records who changed a status, when and why.
type StatusChange struct {
	From ReportStatus `json:"from"`
	To   ReportStatus `json:"to"`
	By   string       `json:"by"` // staff member (Slack user id) or "customer"/"system"
	At   time.Time    `json:"at"`
	Note string       `json:"note,omitempty"`
	// Key deduplicates the change (a Slack action id).
	Key string `json:"key,omitempty"`
}

// AlertRef points at a posted Slack message.
type AlertRef struct {
	Channel string `json:"channel"`
	TS      string `json:"ts"`
}

// LogValue shows a report's reference, status and shape, never its content.
func (r AccidentReport) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("ref", r.Ref),
		slog.String("status", string(r.Status)),
		slog.String("kind", string(r.Kind)),
		slog.Bool("urgent", r.Urgent),
		slog.Int("photos", len(r.Photos)),
	)
}

// ReportStore keeps accident reports. Implementations are safe for
// concurrent use.
type ReportStore interface {
	// CreateReport stores a new report (Version becomes 1). If a report with
	// the same Key exists it returns that report and ErrDuplicate, so a
	// retried submission yields the same reference. A Ref already used by
	// another Key is also ErrDuplicate (with a zero report).
	CreateReport(ctx context.Context, r AccidentReport) (AccidentReport, error)
	// GetReport returns the report with ref, or ErrNotFound.
	GetReport(ctx context.Context, ref string) (AccidentReport, error)
	// ReportsByUser returns the user's reports, newest first, at most limit.
	ReportsByUser(ctx context.Context, user UserID, limit int) ([]AccidentReport, error)
	// UpdateReport stores r if the stored version equals r.Version and
	// returns it with Version increased; ErrConflict if stale, ErrNotFound
	// if absent.
	UpdateReport(ctx context.Context, r AccidentReport) (AccidentReport, error)
}
