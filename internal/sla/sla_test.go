package sla_test

import (
	"testing"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/internal/bizcal"
	"github.com/koehq/koe/internal/sla"
)

func TestDueTimes(t *testing.T) {
	jst := bizcal.Tokyo()
	at := func(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, jst) }
	tests := []struct {
		name     string
		targets  map[koe.Priority]sla.Target
		created  time.Time
		p        koe.Priority
		ack, due time.Time
	}{
		{"normal, Tuesday morning", nil, at(24, 10, 0), koe.PriorityNormal, at(24, 12, 0), at(27, 10, 0)},
		{"urgent", nil, at(24, 10, 0), koe.PriorityUrgent, at(24, 10, 30), at(25, 10, 0)},
		{"unknown priority is normal", nil, at(24, 10, 0), "odd", at(24, 12, 0), at(27, 10, 0)},
		// Sunday 22nd, and Monday 23rd is 勤労感謝の日: the clock starts Tuesday 9:00.
		{"over a weekend and a holiday", nil, at(22, 15, 0), koe.PriorityHigh, at(24, 10, 0), at(25, 17, 0)},
		{"configured target", map[koe.Priority]sla.Target{koe.PriorityHigh: {Ack: 15 * time.Minute, Respond: sla.BusinessDay / 2}},
			at(24, 10, 0), koe.PriorityHigh, at(24, 10, 15), at(24, 14, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ack, due := sla.DueTimes(nil, tt.targets)(tt.created, tt.p)
			if !ack.Equal(tt.ack) || !due.Equal(tt.due) {
				t.Errorf("DueTimes = %v, %v; want %v, %v", ack.In(jst), due.In(jst), tt.ack, tt.due)
			}
		})
	}
}
