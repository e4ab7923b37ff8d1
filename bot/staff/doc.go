// Package staff is the staff side of Koe's follow-up: it turns records that
// need people (accident reports, complaint and inquiry cases) into Slack
// alerts, turns the buttons and modals staff use into recorded,
// deduplicated transitions, keeps service levels (reminders and
// escalations on a business-hours calendar), shares praise, and tells the
// customer on LINE how things are going.
//
// Everything that talks to Slack or LINE runs as a job on the durable
// follow-up queue (bot/followup), keyed so that redelivery and restarts
// repeat nothing: an alert is posted with PostOnce keyed by its record's
// reference, a post in its thread with PostThreadOnce keyed by the case and
// the job (the SLA reminder by the case alone; a customer's picture is
// uploaded before its keyed note, which a repeated delivery looks for
// first), a transition is recorded
// once per Slack action id, and a message to the customer travels through
// the customer's inbox or with a retry key derived from its job id.
package staff
