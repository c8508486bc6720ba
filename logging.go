package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hr-tools/tempreport/yibeidiao"
)

// credentialPattern matches what must never be printed even if a bug lets
// it near a log line or the terminal: Slack tokens, Slack response URLs,
// signed links of any scheme (a report link is an OSS URL signed with
// Signature= and Expires=; a socket URL carries a ticket=), and secret
// query parameters on their own. A URL ends where a log line's quoting or
// spacing does.
var credentialPattern = regexp.MustCompile(`xox[a-z]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|` +
	`https?://hooks\.slack(-gov)?\.com/[^\s"'\\<>]*|` +
	`(?i)[a-z][a-z0-9+.-]*://[^\s"'\\<>]*(Signature|Expires|OSSAccessKeyId|ticket|token|secret|password)=[^\s"'\\<>]*|` +
	`(?i)\b(Signature|OSSAccessKeyId|ticket|token|secret|password)=[^&\s"'\\<>]+`)

// userinfoPattern matches the user and password of a URL, with or without
// its scheme (user:password@host, as an operator may write it).
var userinfoPattern = regexp.MustCompile(`[^/\s"'\\<>@=(]*:[^/\s"'\\<>@]+@`)

// scrubber removes the given secrets, in every form a log handler may write
// them, and anything shaped like a credential from everything written
// through it, whatever the value's type was: defense in depth behind code
// that never prints them.
type scrubber struct {
	w       io.Writer
	secrets *strings.Replacer
}

func newScrubber(w io.Writer, secrets ...string) *scrubber {
	var pairs []string
	for _, s := range secrets {
		if s == "" {
			continue
		}
		for _, form := range printedForms(s) {
			pairs = append(pairs, form, "[REDACTED]")
		}
	}
	return &scrubber{w: w, secrets: strings.NewReplacer(pairs...)}
}

// printedForms is a secret as it is, JSON-escaped, Go-quoted and
// percent-encoded.
func printedForms(s string) []string {
	forms := []string{s, url.QueryEscape(s), url.PathEscape(s), strings.Trim(strconv.Quote(s), `"`)}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	_ = enc.Encode(s)
	forms = append(forms, strings.Trim(strings.TrimSpace(b.String()), `"`))
	b.Reset()
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return append(forms, strings.Trim(strings.TrimSpace(b.String()), `"`))
}

// Write writes p scrubbed. It reports len(p) written, as callers expect.
func (s *scrubber) Write(p []byte) (int, error) {
	if _, err := io.WriteString(s.w, s.scrub(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// scrub removes the secrets and anything shaped like a credential from text.
func (s *scrubber) scrub(text string) string {
	return scrub(s.secrets.Replace(text))
}

// scrub removes anything shaped like a credential from text.
func scrub(text string) string {
	text = credentialPattern.ReplaceAllString(text, "[REDACTED]")
	return userinfoPattern.ReplaceAllString(text, "[REDACTED]@")
}

// newLogger makes the program's logger, writing through a scrubber, with
// every value clipped to maxLogValue.
func newLogger(w io.Writer, level slog.Level, format string, secrets ...string) *slog.Logger {
	out := newScrubber(w, secrets...)
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		return out.clip(readableDuration(groups, a))
	}}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(out, opts))
	}
	return slog.New(slog.NewTextHandler(out, opts))
}

// maxLogValue is the most of one value a log line carries. Values come
// from outside (an envelope ID, a user ID, a vendor's error): without a
// bound, 10,000 envelopes with 10 KB IDs wrote 104 MB of log. The longest
// value the program writes itself, a hint, is about 250 bytes.
const maxLogValue = 400

// clip cuts a string or error value longer than maxLogValue, at a
// character boundary, and says how much was cut. The value is scrubbed
// before it is cut, so that a secret across the cut cannot leave its first
// half in the log.
func (s *scrubber) clip(a slog.Attr) slog.Attr {
	if a.Key == "stack" {
		return a // a panic's stack is the program's own, and its failing line is past any cut
	}
	var v string
	switch a.Value.Kind() {
	case slog.KindString:
		v = a.Value.String()
	case slog.KindAny:
		switch x := a.Value.Any().(type) {
		case error:
			v = x.Error()
		case json.RawMessage:
			v = string(x)
		case []byte:
			v = string(x)
		default:
			return a
		}
	default:
		return a
	}
	if len(v) <= maxLogValue {
		return a
	}
	v = s.scrub(v)
	if len(v) <= maxLogValue {
		return slog.String(a.Key, v)
	}
	cut := maxLogValue
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return slog.String(a.Key, fmt.Sprintf("%s…[%d more bytes]", v[:cut], len(v)-cut))
}

// readableDuration writes durations as Go writes them ("1.5s", "250ms")
// in every format: the JSON handler would write nanoseconds.
func readableDuration(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		return slog.String(a.Key, a.Value.Duration().String())
	}
	return a
}

// redactURL is a URL fit to print: without its user and password.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(an unreadable URL)"
	}
	u.User = nil
	return u.String()
}

// vendorLog writes each vendor attempt and each wait for a turn of the
// vendor budget at debug level, then tells next: what an operator turns
// LOG_LEVEL=debug on for when the vendor is slow.
type vendorLog struct {
	log  *slog.Logger
	next yibeidiao.Observer
}

func (v vendorLog) Attempt(result string, try int, took time.Duration) {
	if v.log.Enabled(context.Background(), slog.LevelDebug) {
		v.log.Debug("vendor attempt", "result", result, "try", try, "took", took)
	}
	v.next.Attempt(result, try, took)
}

func (v vendorLog) Waited(d time.Duration) {
	if d > 0 && v.log.Enabled(context.Background(), slog.LevelDebug) {
		v.log.Debug("waited for a turn of the vendor budget", "waited", d)
	}
	v.next.Waited(d)
}
