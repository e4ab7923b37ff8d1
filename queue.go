package koe

import (
	"context"
	"time"
)

// Job is a unit of follow-up work on the durable queue: post a Slack alert,
// push a progress note to a customer, remind staff of a due case. ID is the
// job's identity: enqueuing an ID that is already queued (or was completed
// within DedupeWindow) does nothing.
type Job struct {
	ID      string            `json:"id"`
	Kind    string            `json:"kind"` // e.g. "accident.alert"
	Ref     string            `json:"ref,omitempty"`
	Attrs   map[string]string `json:"attrs,omitempty"`
	Created time.Time         `json:"created"`
	// NotBefore schedules the job: it is not claimable before this time
	// (zero: at once). SLA reminders and delayed surveys use it.
	NotBefore time.Time `json:"notBefore,omitzero"`
}

// JobDelivery is a job handed out by Queue.Claim under a lease.
type JobDelivery struct {
	Job     Job    `json:"job"`
	Attempt int    `json:"attempt"` // 1 on the first delivery
	Lease   string `json:"lease"`
}

// Queue is the durable follow-up queue (Redis Streams consumer group, or a
// lease table on SQLite). Delivery is at least once; handlers are
// idempotent by Job.ID. Jobs are not ordered relative to each other.
// Implementations are safe for concurrent use by many processes.
type Queue interface {
	// Enqueue durably adds the jobs; a job whose ID is pending or was
	// completed within DedupeWindow is skipped. It returns how many were new.
	Enqueue(ctx context.Context, jobs ...Job) (int, error)
	// ClaimJobs leases up to max ready jobs for consumer for ttl. A job whose
	// lease ran out is handed out again with a higher Attempt.
	ClaimJobs(ctx context.Context, consumer string, max int, ttl time.Duration) ([]JobDelivery, error)
	// Complete removes a finished job. ErrConflict if the lease was lost.
	Complete(ctx context.Context, d JobDelivery) error
	// Retry makes the job claimable again after delay. ErrConflict if the
	// lease was lost.
	Retry(ctx context.Context, d JobDelivery, delay time.Duration) error
	// DeadLetter moves a job that keeps failing aside, with a reason.
	DeadLetter(ctx context.Context, d JobDelivery, reason string) error
	// QueueStats returns the number of pending jobs and the age of the
	// oldest (0 when empty).
	QueueStats(ctx context.Context) (depth int, oldest time.Duration, err error)
}
