package main

import (
	"io"
	"log/slog"
	"regexp"
	"strings"
)

// credentialPattern matches what must never be logged even if a bug lets it
// near a log line: Slack tokens, Slack response URLs, and signed links (a
// report link is an OSS URL signed with Signature= and Expires=).
var credentialPattern = regexp.MustCompile(`xox[a-z]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|https?://hooks\.slack(-gov)?\.com/\S*|https?://\S*(Signature|Expires|OSSAccessKeyId|ticket)=\S*`)

// newLogger makes the program's logger. Every string it writes passes through
// a scrubber that removes the given secrets and anything shaped like a
// credential: defense in depth behind code that never logs them.
func newLogger(w io.Writer, level slog.Level, format string, secrets ...string) *slog.Logger {
	var pairs []string
	for _, s := range secrets {
		if s != "" {
			pairs = append(pairs, s, "[REDACTED]")
		}
	}
	secret := strings.NewReplacer(pairs...)
	scrub := func(s string) string { return credentialPattern.ReplaceAllString(secret.Replace(s), "[REDACTED]") }
	opts := &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			switch a.Value.Kind() {
			case slog.KindString:
				return slog.String(a.Key, scrub(a.Value.String()))
			case slog.KindAny:
				if err, ok := a.Value.Any().(error); ok {
					return slog.String(a.Key, scrub(err.Error()))
				}
			}
			return a
		},
	}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
