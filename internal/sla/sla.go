// Package sla holds the service levels of cases: how long a case of each
// priority may wait to be acknowledged and to be responded to, in business
// time on a bizcal.Calendar. The dialogs (which tell the customer when to
// expect contact) and the staff side (reminders, escalations) both take
// due times from here, so they cannot disagree.
package sla

import (
	"maps"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/internal/bizcal"
)

// Target is a priority's service level, in business time (see
// bizcal.Calendar.Add): Ack is how long until a case must be acknowledged,
// Respond until it must be responded to, both counted from its creation.
type Target struct {
	Ack     time.Duration
	Respond time.Duration
}

// BusinessDay is 8 business hours: one day of the default calendar
// (9:00–17:00). Respond targets are multiples of it, so "1 business day"
// from Tuesday 10:00 is Wednesday 10:00.
const BusinessDay = 8 * time.Hour

// DefaultTargets are the service levels unless configured otherwise:
// urgent 30 minutes to acknowledge and 1 business day to respond, high 1
// hour and 2 business days, normal 2 hours and 3 business days.
func DefaultTargets() map[koe.Priority]Target {
	return map[koe.Priority]Target{
		koe.PriorityUrgent: {Ack: 30 * time.Minute, Respond: BusinessDay},
		koe.PriorityHigh:   {Ack: time.Hour, Respond: 2 * BusinessDay},
		koe.PriorityNormal: {Ack: 2 * time.Hour, Respond: 3 * BusinessDay},
	}
}

// DueFunc says when a case created at createdAt with priority p must be
// acknowledged and responded to.
type DueFunc func(createdAt time.Time, p koe.Priority) (ackDue, due time.Time)

// DueTimes returns the due-time function of targets (DefaultTargets for
// the priorities it lacks; nil for all) on cal (bizcal.Default() if nil). A
// priority without a target is treated as normal.
func DueTimes(cal *bizcal.Calendar, targets map[koe.Priority]Target) DueFunc {
	if cal == nil {
		cal = bizcal.Default()
	}
	all := DefaultTargets()
	maps.Copy(all, targets)
	return func(createdAt time.Time, p koe.Priority) (time.Time, time.Time) {
		t, ok := all[p]
		if !ok {
			t = all[koe.PriorityNormal]
		}
		return cal.Add(createdAt, t.Ack), cal.Add(createdAt, t.Respond)
	}
}
