package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
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
	OutcomeBusy          Outcome = "busy"
	OutcomeRefused       Outcome = "refused"
	OutcomeMisconfigured Outcome = "misconfigured"
	OutcomeTransient     Outcome = "transient"
	OutcomeTimeout       Outcome = "timeout"
	OutcomeUnverifiable  Outcome = "unverifiable"
	OutcomeBadResponse   Outcome = "bad_response"
	OutcomeRestarting    Outcome = "restarting"
	OutcomeInternal      Outcome = "internal_error"
)

var (
	// errShuttingDown cancels work still running when the drain time is up.
	errShuttingDown = errors.New("bot: shutting down")
	// errCommandTimeout ends a command that took longer than its budget.
	errCommandTimeout = errors.New("bot: command took too long")
)

// busyError refuses a person who asks faster than the per-person limit.
type busyError struct{ retryAfter time.Duration }

func (e *busyError) Error() string {
	return fmt.Sprintf("bot: per-person rate limit, next turn in %v", e.retryAfter.Round(time.Second))
}

// explain is the one place that turns a failure into the asker's answer,
// with the audit outcome and the log level it deserves. Known conditions get
// a specific answer with a next step; anything else gets an apology, and the
// full error goes to the log.
func explain(err error, command, recordNo string) (text string, outcome Outcome, level slog.Level) {
	var apiErr *yibeidiao.APIError
	switch {
	case errors.Is(err, errShuttingDown):
		return fmt.Sprintf("The bot is restarting and could not finish your request. Please run `%s %s` again in a minute.", command, recordNo),
			OutcomeRestarting, slog.LevelWarn
	case errors.Is(err, ErrInput):
		return escape(err.Error()) + "\n" + usage(command), OutcomeBadInput, slog.LevelInfo
	case retryAfter(err) > 0:
		return fmt.Sprintf("Too many report requests right now. Please try again in %s.", seconds(retryAfter(err))), OutcomeBusy, slog.LevelInfo
	case errors.Is(err, errCommandTimeout), errors.Is(err, context.DeadlineExceeded):
		return "The vendor took too long to answer. Please try again in a minute.", OutcomeTimeout, slog.LevelWarn
	case errors.Is(err, yibeidiao.ErrBadResponseSignature):
		return "The vendor's answer could not be verified, so no link is shown. Please try again in a minute; if it keeps happening, tell the bot's admin.",
			OutcomeUnverifiable, slog.LevelError
	case errors.Is(err, yibeidiao.ErrBadResponse):
		return "The vendor sent an answer the bot could not read, so no link is shown. Please try again in a minute; if it keeps happening, tell the bot's admin.",
			OutcomeBadResponse, slog.LevelError
	case errors.Is(err, yibeidiao.ErrMisconfigured):
		return "Sorry, the bot is misconfigured and cannot get reports right now. Please ask the bot's admin to check its logs.",
			OutcomeMisconfigured, slog.LevelError
	case errors.Is(err, yibeidiao.ErrTransient):
		return "The vendor is having trouble right now. Please try again in a minute.", OutcomeTransient, slog.LevelWarn
	case errors.Is(err, yibeidiao.ErrRefused) && errors.As(err, &apiErr):
		return fmt.Sprintf("The vendor refused record %s: %s (code %s).\n%s Check the record in 易背调, then try again.",
				recordNo, escape(apiErr.Message), escape(apiErr.Code), inProgressRule),
			OutcomeRefused, slog.LevelInfo
	}
	return "Sorry, something went wrong on our side. Please try again; if it keeps happening, tell the bot's admin.", OutcomeInternal, slog.LevelError
}

// retryAfter is how long a busy refusal asks the person to wait; 0 if err
// is not one.
func retryAfter(err error) time.Duration {
	if b, ok := errors.AsType[*busyError](err); ok {
		return b.retryAfter
	}
	if r, ok := errors.AsType[*yibeidiao.RateLimitError](err); ok {
		return r.RetryAfter
	}
	return 0
}

func seconds(d time.Duration) string {
	n := max(1, int(math.Ceil(d.Seconds())))
	if n == 1 {
		return "1 second"
	}
	return fmt.Sprintf("%d seconds", n)
}

// AdminHint tells the bot's operator, in plain words, what to check about a
// vendor failure; "" when there is nothing to fix on our side.
func AdminHint(err error) string {
	switch {
	case errors.Is(err, yibeidiao.ErrSignatureRejected):
		return "the vendor rejected our signature: check YIBEIDIAO_TOKEN (the 32-character secret from the vendor's customer service, no quotes or spaces) and YIBEIDIAO_KEY"
	case errors.Is(err, yibeidiao.ErrClockSkew):
		return "the vendor rejected our timestamp: this server's clock is off; sync it with NTP (the bot sends Beijing time itself, the time zone setting does not matter)"
	case errors.Is(err, yibeidiao.ErrBadAuthHeaders):
		return "the vendor says the key/ts/seq/sign headers are missing or malformed: check YIBEIDIAO_KEY, and any proxy between the bot and the vendor that could strip headers"
	case errors.Is(err, yibeidiao.ErrUnknownEnterprise):
		return "the vendor does not know this enterprise: check YIBEIDIAO_KEY (32 characters from the vendor's customer service)"
	case errors.Is(err, yibeidiao.ErrEnterpriseDisabled):
		return "the vendor says the enterprise account is unavailable: contact the vendor's customer service"
	case errors.Is(err, yibeidiao.ErrMisconfigured):
		return "the vendor's address answered with an HTTP error: check YIBEIDIAO_BASE_URL (default " + yibeidiao.DefaultBaseURL + ")"
	case errors.Is(err, yibeidiao.ErrSeqReused):
		return "the vendor saw a request serial number twice; the bot makes a new one per request, so look for a proxy that replays requests"
	case errors.Is(err, yibeidiao.ErrBadResponseSignature):
		return "the vendor's answer did not carry our signature: check YIBEIDIAO_TOKEN, and YIBEIDIAO_BASE_URL points at the vendor; if the vendor signs answers differently, set YIBEIDIAO_VERIFY_RESPONSE=false"
	case errors.Is(err, yibeidiao.ErrTransient):
		return "the vendor or the network is failing; nothing to change unless it persists"
	}
	return ""
}
