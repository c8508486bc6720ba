package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/hr-tools/tempreport/internal/retry"
)

// pin keeps a route only if it goes to Slack: a response URL must be https
// on Slack's hooks host (or the API domain's, for GovSlack), or on the Web
// API's own host (a test server's,
// when the API URL is one). Anything else (a forged payload's URL) is no
// route: the report link is the most sensitive thing the bot holds, and
// goes only to Slack.
func (b *Bot) pin(r route) route {
	if r.kind != routeResponseURL {
		return r
	}
	p, err := url.Parse(r.responseURL)
	if err != nil || p.User != nil {
		return route{}
	}
	// hooks.slack.com, and the hooks host of the Web API's own domain
	// (GovSlack: hooks.slack-gov.com beside slack-gov.com).
	slacks := p.Scheme == "https" && (p.Host == "hooks.slack.com" || p.Host == "hooks."+b.api.Host)
	apis := p.Scheme == b.api.Scheme && p.Host == b.api.Host
	if !slacks && !apis {
		return route{}
	}
	return r
}

// deliver sends an answer's JSON by its route, trying once more after a
// short pause if the first try fails: a lost answer is a person left
// waiting. At most maxPosts deliveries run at once. A response URL is a
// credential (anyone holding it can post as the app for 30 minutes), so no
// error from here contains it.
func (b *Bot) deliver(ctx context.Context, r route, body []byte) error {
	if r.kind == routeNone {
		return errNoRoute
	}
	to, token := r.responseURL, ""
	if api, ok := webAPIMethods[r.kind]; ok {
		to, token = b.cfg.APIURL+api.method, b.cfg.BotToken
	}
	select {
	case b.posts <- struct{}{}:
		defer func() { <-b.posts }()
	case <-ctx.Done():
		return fmt.Errorf("bot: waiting to post an answer: %w", ctx.Err())
	}
	var first error
	err := retry.Do(ctx, 2, func(int) time.Duration { return retryDelay }, func(n int) (bool, error) {
		err := b.post(ctx, to, token, body)
		if n == 0 {
			first = err
		}
		_, refused := errors.AsType[*SlackError](err)
		return !refused, err // Slack said no: it will say so again
	})
	if refused, ok := errors.AsType[*SlackError](err); ok {
		if api, ok := webAPIMethods[r.kind]; ok {
			b.sayMissing(api.method, api.needs, refused)
		}
	}
	if err == nil || err == first {
		return err
	}
	if _, ok := errors.AsType[*retry.InterruptedError](err); ok {
		return fmt.Errorf("bot: %w", err)
	}
	return fmt.Errorf("bot: posting answer failed twice: %w; first: %w", err, first)
}

// SlackError is Slack's refusal of a post: {"ok":false,"error":…}.
type SlackError struct {
	Code   string // Slack's error, like missing_scope
	Needed string // with missing_scope: the scope
}

func (e *SlackError) Error() string {
	if e.Needed != "" {
		return fmt.Sprintf("bot: posting answer: slack said %q (needs %s)", e.Code, e.Needed)
	}
	return fmt.Sprintf("bot: posting answer: slack said %q", e.Code)
}

// sayMissing logs, once per method and error, that Slack refused a method
// for want of a scope or a setting.
func (b *Bot) sayMissing(method, needs string, err *SlackError) {
	if err.Code != "missing_scope" && err.Code != "not_enabled" && err.Code != "not_allowed_token_type" {
		return
	}
	if _, said := b.said.LoadOrStore(method+" "+err.Code, true); said {
		return
	}
	b.log.Error("Slack refused a method the bot needs: the app is not set up for it", "method", method,
		"error", err.Code, "needed", clip([]byte(err.Needed)), "hint", "add "+needs+" in the app's settings (and reinstall the app for a new scope)")
}

// post makes one try of posting body to Slack: a response URL, or a Web
// API method with the bot token.
func (b *Bot) post(ctx context.Context, to, token string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, to, bytes.NewReader(body))
	if err != nil {
		return errors.New("bot: building answer request failed")
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := b.deps.HTTPClient.Do(req)
	if err != nil {
		if uerr, ok := errors.AsType[*url.Error](err); ok {
			err = uerr.Err // its message would carry the URL
		}
		return fmt.Errorf("bot: posting answer: %w", err)
	}
	defer resp.Body.Close()
	reply, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("bot: posting answer: slack answered http %d %q", resp.StatusCode, clip(reply))
	}
	var status struct {
		OK     *bool  `json:"ok"`
		Error  string `json:"error"`
		Needed string `json:"needed"`
	}
	if json.Unmarshal(reply, &status) == nil && status.OK != nil && !*status.OK {
		return &SlackError{Code: clip([]byte(status.Error)), Needed: clip([]byte(status.Needed))}
	}
	return nil
}

func clip(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > 100 {
		b = b[:100]
	}
	return string(b)
}
