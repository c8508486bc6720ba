package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hr-tools/tempreport/yibeidiao"
)

// Outcome names how a command or click ended, for the audit log.
type Outcome string

// The outcomes in the audit log.
const (
	OutcomeLink          Outcome = "link"
	OutcomeHelp          Outcome = "help"
	OutcomeBadInput      Outcome = "bad_input"
	OutcomeDenied        Outcome = "denied"
	OutcomeUnconfirmed   Outcome = "unconfirmed" // access comes from a group that cannot be read now
	OutcomeLimited       Outcome = "limited"     // the person's own limit
	OutcomeBusy          Outcome = "busy"        // the vendor budget everyone shares
	OutcomeRefused       Outcome = "refused"
	OutcomeMisconfigured Outcome = "misconfigured"
	OutcomeTransient     Outcome = "transient"
	OutcomeTimeout       Outcome = "timeout"
	OutcomeUnverifiable  Outcome = "unverifiable"
	OutcomeBadResponse   Outcome = "bad_response"
	OutcomeUntrusted     Outcome = "untrusted_link"
	OutcomeRestarting    Outcome = "restarting"
	OutcomeUnreadable    Outcome = "unreadable"
	OutcomeIgnored       Outcome = "ignored" // events and clicks on other buttons: acked, not answered
	OutcomeInternal      Outcome = "internal_error"
)

// Kinds of envelope: the audit line's message and the metrics' kind label.
const (
	KindCommand    = "command"
	KindClick      = "click"
	KindEvent      = "event"      // Events API: the app subscribes to none; acked, not answered
	KindUnreadable = "unreadable" // slack-go could not parse it
)

// Outcomes lists every outcome, for metrics that start each at zero.
var Outcomes = []Outcome{OutcomeLink, OutcomeHelp, OutcomeBadInput, OutcomeDenied, OutcomeUnconfirmed, OutcomeLimited,
	OutcomeBusy, OutcomeRefused, OutcomeMisconfigured, OutcomeTransient, OutcomeTimeout, OutcomeUnverifiable,
	OutcomeBadResponse, OutcomeUntrusted, OutcomeRestarting, OutcomeUnreadable, OutcomeIgnored, OutcomeInternal}

// refundable reports whether an outcome was the vendor's or the bot's doing,
// not the person's: they get their turn back.
func (o Outcome) refundable() bool {
	switch o {
	case OutcomeTransient, OutcomeTimeout, OutcomeBusy, OutcomeRestarting, OutcomeInternal:
		return true
	}
	return false
}

// Errors the bot returns or logs. Callers branch on them with errors.Is or
// errors.As; package main turns them into advice for the operator.
var (
	// ErrSocketRefused means Slack refused to open a socket for good: the
	// app-level token was refused, or the Web API base answered 404. [Bot.Run]
	// returns it, wrapping slack-go's error.
	ErrSocketRefused = errors.New("bot: Slack refused to open a socket")
	// ErrUnreadable means slack-go could not parse an envelope.
	ErrUnreadable = errors.New("bot: unreadable envelope")
)

// WrongCommandError means Slack delivered a slash command the bot was not
// configured to answer.
type WrongCommandError struct{ Got, Want string }

func (e *WrongCommandError) Error() string {
	return fmt.Sprintf("bot: got command %q, configured for %q", e.Got, e.Want)
}

// GroupError means a user group's members could not be read.
type GroupError struct {
	Group string
	Err   error
}

func (e *GroupError) Error() string { return fmt.Sprintf("bot: user group %s: %v", e.Group, e.Err) }
func (e *GroupError) Unwrap() error { return e.Err }

var (
	errDenied     = errors.New("bot: not on the allowlist")
	errRestarting = errors.New("bot: refused while shutting down")
	// errShuttingDown cancels work still running when the drain time is up.
	errShuttingDown = errors.New("bot: shutting down")
	// errCommandTimeout ends a command that took longer than its budget.
	errCommandTimeout = errors.New("bot: command took too long")
	errPanic          = errors.New("bot: panic")
	errIgnored        = errors.New("bot: not for this bot")
)

// limitError refuses a person who asks faster than their own limit.
type limitError struct{ retryAfter time.Duration }

func (e *limitError) Error() string {
	return fmt.Sprintf("bot: per-person limit, next turn in %v", e.retryAfter.Round(time.Second))
}

// explain is the one place that turns how a job ended into the asker's
// words, the audit outcome and the log level it deserves. Known conditions
// get a specific answer with a next step; anything else gets an apology, and
// the full error goes to the log.
func (b *Bot) explain(j *job, err error) (text string, outcome Outcome, level slog.Level) {
	w := b.words
	var (
		apiErr  *yibeidiao.APIError
		inErr   *InputError
		wrong   *WrongCommandError
		limited *limitError
		busy    *yibeidiao.RateLimitError
	)
	switch {
	case errors.Is(err, ErrUnreadable):
		return w.unreadable, OutcomeUnreadable, slog.LevelWarn
	case errors.Is(err, errIgnored):
		return "", OutcomeIgnored, slog.LevelDebug
	case errors.Is(err, errDenied):
		return w.denied(j.user), OutcomeDenied, slog.LevelInfo
	case errors.Is(err, errUnconfirmed):
		return w.unconfirmed, OutcomeUnconfirmed, slog.LevelWarn
	case errors.Is(err, errRestarting):
		return w.restarting, OutcomeRestarting, slog.LevelWarn
	case errors.Is(err, errShuttingDown):
		return w.interrupted(b.cfg.Command, j.recordNo), OutcomeRestarting, slog.LevelWarn
	case errors.As(err, &wrong):
		return w.wrongCommand(b.cfg.Command), OutcomeBadInput, slog.LevelWarn
	case errors.As(err, &inErr):
		return w.inputText(inErr, b.cfg.Command), OutcomeBadInput, slog.LevelInfo
	case errors.As(err, &limited):
		return w.limited(w.waitText(limited.retryAfter)), OutcomeLimited, slog.LevelInfo
	case errors.As(err, &busy):
		return w.busy(w.waitText(busy.RetryAfter)), OutcomeBusy, slog.LevelWarn
	case errors.Is(err, errCommandTimeout), errors.Is(err, context.DeadlineExceeded):
		return w.timeout, OutcomeTimeout, slog.LevelWarn
	case errors.Is(err, yibeidiao.ErrBadResponseSignature):
		return w.unverifiable, OutcomeUnverifiable, slog.LevelError
	case errors.Is(err, yibeidiao.ErrUntrustedLink):
		return w.untrusted, OutcomeUntrusted, slog.LevelError
	case errors.Is(err, yibeidiao.ErrBadResponse):
		return w.badResponse, OutcomeBadResponse, slog.LevelError
	case errors.Is(err, yibeidiao.ErrMisconfigured):
		return w.misconfigured, OutcomeMisconfigured, slog.LevelError
	case errors.Is(err, yibeidiao.ErrTransient):
		return w.transient, OutcomeTransient, slog.LevelWarn
	case errors.Is(err, yibeidiao.ErrRefused) && errors.As(err, &apiErr):
		return w.refused(j.recordNo, escape(apiErr.Message), escape(apiErr.Code)) + "\n" + w.rule, OutcomeRefused, slog.LevelInfo
	}
	return w.internal, OutcomeInternal, slog.LevelError
}
