// Package staff is the staff side of Koe's follow-up: it turns records that
// need people (accident reports today) into Slack alerts, turns the buttons
// staff press into recorded, deduplicated status changes, and tells the
// customer on LINE how things are going.
//
// Everything that talks to Slack or LINE runs as a job on the durable
// follow-up queue (bot/followup), keyed so that redelivery and restarts
// repeat nothing: an alert job posts only while the report has no alert
// yet, a status change is recorded once per Slack action id, and a progress
// note is pushed with a retry key derived from its job id.
package staff
