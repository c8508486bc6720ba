package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"

	"github.com/hr-tools/tempreport/bot"
)

// How the bot token is checked in HTTP mode: at start and every few
// minutes, auth.test (tier special: many a minute), each bounded.
const (
	tokenCheckEvery   = 5 * time.Minute
	tokenCheckTimeout = 10 * time.Second
)

// tokenChecked is a transport that is ready only while its own readiness
// holds and Slack accepts the bot token: in HTTP mode, nothing else tells
// a broken install from a working one. A Slack that cannot be reached does
// not make it unready (restarting the pod would not help); a refused token
// does.
type tokenChecked struct {
	bot.Transport
	check   func(ctx context.Context) error
	log     *slog.Logger
	refused atomic.Pointer[string] // why Slack refused the token; nil while it accepts it
}

// Serve checks the token, then every tokenCheckEvery, while the transport
// serves.
func (t *tokenChecked) Serve(ctx context.Context, h bot.Handler) error {
	go func() {
		tick := time.NewTicker(tokenCheckEvery)
		defer tick.Stop()
		for {
			t.checkOnce(ctx)
			select {
			case <-tick.C:
			case <-ctx.Done():
				return
			}
		}
	}()
	return t.Transport.Serve(ctx, h)
}

func (t *tokenChecked) checkOnce(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, tokenCheckTimeout)
	defer cancel()
	err := t.check(ctx)
	var refused slack.SlackErrorResponse
	var status slack.StatusCodeError
	switch {
	case err == nil:
		if t.refused.Swap(nil) != nil {
			t.log.Info("Slack accepts the bot token again")
		}
	case errors.As(err, &refused), errors.As(err, &status) && status.Code == http.StatusUnauthorized:
		why := "Slack refuses the bot token: " + err.Error()
		if t.refused.Swap(&why) == nil {
			t.log.Error("Slack refuses the bot token: answers cannot be posted", "error", err, "hint", hint(err))
		}
	default:
		t.log.Warn("could not check the bot token with Slack", "error", err, "hint", hint(err))
	}
}

// Ready is the transport's readiness, and the token's.
func (t *tokenChecked) Ready() (bool, string) {
	if why := t.refused.Load(); why != nil {
		return false, *why
	}
	return t.Transport.Ready()
}
