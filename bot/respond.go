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

	"github.com/slack-go/slack"
)

// responder posts answers to Slack response URLs. A response URL is a
// credential (anyone holding it can post as the app for 30 minutes), so no
// error from here contains it.
type responder struct {
	hc         *http.Client
	retryDelay time.Duration
}

// post delivers msg, trying once more after a short pause if the first try
// fails: a lost answer is a person left waiting.
func (r *responder) post(ctx context.Context, responseURL string, msg *slack.WebhookMessage) error {
	body, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("bot: encoding answer: %w", err)
	}
	if u, err := url.Parse(responseURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errors.New("bot: response URL is not an absolute http(s) URL")
	}
	err = r.try(ctx, responseURL, body)
	if err == nil {
		return nil
	}
	t := time.NewTimer(r.retryDelay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return fmt.Errorf("bot: posting answer: %w (first try: %w)", ctx.Err(), err)
	}
	if err2 := r.try(ctx, responseURL, body); err2 != nil {
		return fmt.Errorf("bot: posting answer failed twice: %w; first: %w", err2, err)
	}
	return nil
}

func (r *responder) try(ctx context.Context, responseURL string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, responseURL, bytes.NewReader(body))
	if err != nil {
		return errors.New("bot: building answer request failed")
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := r.hc.Do(req)
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
		OK    *bool  `json:"ok"`
		Error string `json:"error"`
	}
	if json.Unmarshal(reply, &status) == nil && status.OK != nil && !*status.OK {
		return fmt.Errorf("bot: posting answer: slack said %q", clip([]byte(status.Error)))
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
