package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/slack-go/slack"
	"golang.org/x/time/rate"

	"github.com/hr-tools/tempreport/bot"
	"github.com/hr-tools/tempreport/bot/httpmode"
	"github.com/hr-tools/tempreport/bot/socket"
	"github.com/hr-tools/tempreport/replicas"
	"github.com/hr-tools/tempreport/yibeidiao"
)

// config is the environment, read once and translated into what each part
// of the program takes.
type config struct {
	bot         bot.Config
	slack       slackConfig
	vendor      vendorConfig
	redisURL    string // "": one replica, everything in memory
	healthAddr  string // probes: /livez, /healthz
	metricsAddr string // /metrics, a port of its own
	logLevel    slog.Level
	logFormat   string
}

// slackConfig is how Slack reaches the bot: Socket Mode with an app-level
// token, or HTTP request mode with a signing secret.
type slackConfig struct {
	appToken      string // Socket Mode; "" in HTTP mode
	signingSecret string // HTTP mode; "" in Socket Mode
	httpAddr      string // HTTP mode: where POST /slack/events is served
}

// httpMode reports whether Slack reaches the bot over HTTP.
func (s slackConfig) httpMode() bool { return s.signingSecret != "" }

// mode names the mode, for the log and the metrics: "socket" or "http".
func (s slackConfig) mode() string {
	if s.httpMode() {
		return "http"
	}
	return "socket"
}

// transport makes the transport this configuration describes. In HTTP
// mode nothing holds a connection to Slack: it is ready while it serves and
// Slack accepts the bot token (see [tokenChecked]).
func (s slackConfig) transport(settings bot.Config, log *slog.Logger, m *metrics) (bot.Transport, error) {
	if !s.httpMode() {
		return socket.New(socket.Config{AppToken: s.appToken, APIURL: settings.APIURL, Logger: log})
	}
	t, err := httpmode.New(httpmode.Config{Addr: s.httpAddr, SigningSecret: s.signingSecret, Logger: log, Observer: m})
	if err != nil {
		return nil, err
	}
	api := slack.New(settings.BotToken, slack.OptionAPIURL(settings.APIURL), slack.OptionHTTPClient(&http.Client{Timeout: tokenCheckTimeout}))
	return &tokenChecked{Transport: t, check: func(ctx context.Context) error { _, err := api.AuthTestContext(ctx); return err }, log: log}, nil
}

// vendorConfig is the vendor client's part of the configuration.
type vendorConfig struct {
	key, token string
	baseURL    string
	linkHosts  []string
	rps        float64
	burst      int
	timeout    time.Duration
	verify     bool
}

// Bounds for the settings: outside them a bot would misbehave later rather
// than fail now (a 1ns timeout fails every call; a 2,000,000h one holds a
// command forever).
const (
	minTimeout = 100 * time.Millisecond
	maxTimeout = 10 * time.Minute
	maxRefresh = 24 * time.Hour
	maxStale   = 7 * 24 * time.Hour
)

var (
	userIDPattern    = regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`)
	groupIDPattern   = regexp.MustCompile(`^S[A-Z0-9]{2,}$`)
	channelIDPattern = regexp.MustCompile(`^[CG][A-Z0-9]{2,}$`)
	vendorIDPattern  = regexp.MustCompile(`^[A-Za-z0-9]{32}$`)
	commandPattern   = regexp.MustCompile(`^/[a-z0-9_-]{1,31}$`)
	// signingSecretPattern: Slack's signing secrets are 32 hex digits.
	signingSecretPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)
	hostPattern          = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]{0,252}[A-Za-z0-9])?$`)
)

// loadConfig reads the environment once, in the order of .env.example, and
// reports every problem at once, each naming its variable and what it
// expects, so that one restart fixes them all. Values that may be secret
// never appear in its errors.
func loadConfig(getenv func(string) string) (config, error) {
	r := &reader{getenv: getenv}
	var c config
	c.slack = r.slackMode()
	c.bot.BotToken = r.token("SLACK_BOT_TOKEN", "xoxb-", "the Bot User OAuth Token (app settings > OAuth & Permissions)")
	c.bot.APIURL = r.url("SLACK_API_URL", bot.DefaultAPIURL)
	if c.bot.APIURL != "" && !strings.HasSuffix(c.bot.APIURL, "/") {
		c.bot.APIURL += "/"
	}
	c.bot.Command = r.text("SLASH_COMMAND", "")
	if c.bot.Command != "" && !commandPattern.MatchString(c.bot.Command) {
		r.bad("SLASH_COMMAND", "must be a slash command like /tempreport (lowercase, no spaces), as in the app's settings")
	}
	before := len(r.errs)
	c.bot.AllowedUsers = r.ids("ALLOWED_USER_IDS", userIDPattern, "Slack user IDs like U012AB3CD (profile > ⋮ > Copy member ID)")
	c.bot.AllowedGroups = r.ids("ALLOWED_USERGROUP_IDS", groupIDPattern, "Slack user group IDs like S0614TZR7")
	if len(c.bot.AllowedUsers) == 0 && len(c.bot.AllowedGroups) == 0 && len(r.errs) == before {
		r.bad("ALLOWED_USER_IDS", "no one is allowed: set ALLOWED_USER_IDS and/or ALLOWED_USERGROUP_IDS (comma-separated)")
	}
	c.bot.GroupRefresh = r.duration("ALLOWED_USERGROUP_REFRESH", 0, time.Second, maxRefresh,
		"(Slack rate-limits usergroups.users.list)")
	c.bot.GroupMaxStale = r.duration("ALLOWED_USERGROUP_MAX_STALE", 0, time.Second, maxStale, "")
	c.bot.UserRate = rate.Limit(r.number("USER_RATE_PER_MINUTE", 0, 1.0/60,
		"turns a person gets back per minute, a number from 0.0167 (one an hour) up, like 20") / 60)
	c.bot.UserBurst = r.whole("USER_BURST", 0, "commands a person may send at once")

	c.vendor.baseURL = cmp.Or(r.url("YIBEIDIAO_BASE_URL", yibeidiao.DefaultBaseURL), yibeidiao.DefaultBaseURL)
	c.vendor.linkHosts = r.list("YIBEIDIAO_LINK_HOSTS", []string{yibeidiao.DefaultLinkHost}, yibeidiao.ValidLinkHost,
		"a host name of at least two labels or *.domain, with an optional :port (comma-separated, like res.yibeidiao.com; not *.com)")
	c.vendor.key = r.vendorID("YIBEIDIAO_KEY")
	c.vendor.token = r.vendorID("YIBEIDIAO_TOKEN")
	c.vendor.rps = r.number("YIBEIDIAO_RPS", yibeidiao.DefaultRate, 1.0/3600,
		"vendor requests per second for the whole bot, a number from 0.000278 (one an hour) up, like 1 or 0.5")
	c.vendor.burst = r.whole("YIBEIDIAO_BURST", yibeidiao.DefaultBurst, "vendor requests allowed at once")
	c.vendor.timeout = r.duration("YIBEIDIAO_TIMEOUT", yibeidiao.DefaultTimeout, minTimeout, maxTimeout, "")
	c.vendor.verify = r.boolean("YIBEIDIAO_VERIFY_RESPONSE", true)
	c.bot.CommandTimeout = r.duration("COMMAND_TIMEOUT", 0, time.Second, maxTimeout, "")
	c.bot.Language = r.language()
	c.bot.FallbackLanguage = r.fallbackLanguage()
	c.bot.Contact = r.contact()
	c.bot.Surfaces = r.surfaces()
	if refresh, stale := cmp.Or(c.bot.GroupRefresh, bot.DefaultGroupRefresh), cmp.Or(c.bot.GroupMaxStale, bot.DefaultGroupMaxStale); stale <= refresh {
		r.bad("ALLOWED_USERGROUP_MAX_STALE", "must be longer than ALLOWED_USERGROUP_REFRESH (%v), or every group goes stale between two reads; not %v",
			refresh, stale)
	}

	c.redisURL = r.text("REDIS_URL", "")
	if c.redisURL != "" {
		if _, err := replicas.ParseURL(c.redisURL); err != nil {
			r.bad("REDIS_URL", "must be redis://[user:password@]host[:port][/db] or rediss://… for TLS (the value is not shown: it may hold a password)")
		}
	}
	c.healthAddr = r.healthAddr()
	c.metricsAddr = r.metricsAddr(c.healthAddr)
	level := r.text("LOG_LEVEL", "info")
	if err := c.logLevel.UnmarshalText([]byte(level)); err != nil {
		r.bad("LOG_LEVEL", "must be debug, info, warn or error, not %s", showable(level))
	}
	c.logFormat = strings.ToLower(r.text("LOG_FORMAT", "text"))
	if c.logFormat != "text" && c.logFormat != "json" {
		r.bad("LOG_FORMAT", "must be text or json, not %s", showable(c.logFormat))
	}
	if err := r.err(); err != nil {
		return config{}, err
	}
	return c, nil
}

// readHealthAddr reads the one setting -healthcheck needs, by the same
// rules as loadConfig.
func readHealthAddr(getenv func(string) string) (string, error) {
	r := &reader{getenv: getenv}
	a := r.healthAddr()
	return a, r.err()
}

// reader reads variables, each named once, and collects what is wrong.
type reader struct {
	getenv func(string) string
	errs   []error
}

// err is every problem found, or nil.
func (r *reader) err() error {
	if len(r.errs) == 0 {
		return nil
	}
	return fmt.Errorf("configuration:\n%w", errors.Join(r.errs...))
}

// language is BOT_LANGUAGE as one of bot.Languages or bot.LanguageAuto;
// "" when unset.
func (r *reader) language() string {
	v := r.text("BOT_LANGUAGE", "")
	if v == "" || strings.EqualFold(v, bot.LanguageAuto) {
		return strings.ToLower(v)
	}
	l, ok := bot.Language(v)
	if !ok {
		r.bad("BOT_LANGUAGE", "must be one of %s (zh-CN and zh-Hans mean zh) or %s (each person's Slack language), not %s",
			strings.Join(bot.Languages, ", "), bot.LanguageAuto, showable(v))
	}
	return l
}

// fallbackLanguage is BOT_LANGUAGE_FALLBACK, the language of people whose
// Slack language the bot does not speak, with BOT_LANGUAGE=auto; "" when
// unset.
func (r *reader) fallbackLanguage() string {
	v := r.text("BOT_LANGUAGE_FALLBACK", "")
	if v == "" {
		return ""
	}
	l, ok := bot.Language(v)
	if !ok {
		r.bad("BOT_LANGUAGE_FALLBACK", "must be one of %s, not %s", strings.Join(bot.Languages, ", "), showable(v))
	}
	return l
}

// slackMode reads how Slack reaches the bot: SLACK_APP_TOKEN for Socket
// Mode, or SLACK_SIGNING_SECRET (and SLACK_HTTP_ADDR) for HTTP request
// mode. An empty variable is unset: .env.example ships SLACK_APP_TOKEN=.
func (r *reader) slackMode() slackConfig {
	const appTokenWhere = "the app-level token with the connections:write scope (app settings > Basic Information > App-Level Tokens)"
	var s slackConfig
	secret := r.text("SLACK_SIGNING_SECRET", "")
	addr := r.text("SLACK_HTTP_ADDR", defaultHTTPAddr) // read in either mode: Socket Mode ignores it
	if secret == "" {
		if r.text("SLACK_APP_TOKEN", "") == "" {
			r.bad("SLACK_APP_TOKEN", "missing; %s. (Or, for HTTP request mode, leave it empty and set SLACK_SIGNING_SECRET.)", appTokenWhere)
			return s
		}
		s.appToken = r.token("SLACK_APP_TOKEN", "xapp-", appTokenWhere)
		return s
	}
	if r.text("SLACK_APP_TOKEN", "") != "" {
		r.bad("SLACK_APP_TOKEN", "is set beside SLACK_SIGNING_SECRET: set SLACK_APP_TOKEN for Socket Mode, or SLACK_SIGNING_SECRET for HTTP request mode, not both")
		return s
	}
	if !signingSecretPattern.MatchString(secret) {
		r.bad("SLACK_SIGNING_SECRET", "must be the 32 lowercase hexadecimal characters of app settings > Basic Information > App Credentials > Signing Secret, as Slack shows it (this one has %d characters: not a token, no quotes or spaces)", len(secret))
	}
	s.signingSecret = secret
	s.httpAddr = addr
	if !validListenAddr(s.httpAddr) {
		r.bad("SLACK_HTTP_ADDR", "must be host:port or :port, like :3000, not %s", showable(s.httpAddr))
	}
	return s
}

// defaultHTTPAddr is where HTTP request mode listens: Bolt's default port.
const defaultHTTPAddr = ":3000"

// contact is BOT_CONTACT: who people are sent to for access, as a Slack
// user (U…, or <@U…> as Slack writes a mention), a channel (C…, or
// <#C…|name>), or words.
func (r *reader) contact() bot.Contact {
	v := r.text("BOT_CONTACT", "")
	inner := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(v, "<@"), "<#"), ">")
	inner, _, _ = strings.Cut(inner, "|")
	switch {
	case v == "":
		return bot.Contact{}
	case userIDPattern.MatchString(inner) && !strings.HasPrefix(v, "<#"):
		return bot.Contact{User: inner}
	case channelIDPattern.MatchString(inner) && !strings.HasPrefix(v, "<@"):
		return bot.Contact{Channel: inner}
	case len([]rune(v)) > 100 || strings.ContainsAny(v, "<>"):
		r.bad("BOT_CONTACT", "must be a Slack user ID (U012AB3CD), a channel ID (C012AB3CD) or up to 100 characters of words without < or >, not %s", showable(v))
		return bot.Contact{}
	}
	return bot.Contact{Words: v}
}

// surfaces is BOT_SURFACES: the ways in the app is set up for in Slack,
// which the App Home describes; all of them when unset.
func (r *reader) surfaces() []bot.Surface {
	names := make([]string, len(bot.Surfaces))
	for i, s := range bot.Surfaces {
		names[i] = string(s)
	}
	list := r.list("BOT_SURFACES", nil, func(v string) bool { return slices.Contains(names, v) }, "one of "+strings.Join(names, ", "))
	var out []bot.Surface
	for _, v := range list {
		out = append(out, bot.Surface(v))
	}
	return out
}

// healthAddr is HEALTH_ADDR; "" (off) when unset.
func (r *reader) healthAddr() string {
	v := r.text("HEALTH_ADDR", "")
	if v != "" && !validListenAddr(v) {
		r.bad("HEALTH_ADDR", "must be host:port or :port, like :8080, not %s (with docker --env-file, put no comment on the same line)", showable(v))
	}
	return v
}

// metricsAddr is METRICS_ADDR; "" (off) when unset. It must not be
// HEALTH_ADDR's port: scrapes would share the probes' connection slots.
func (r *reader) metricsAddr(healthAddr string) string {
	v := r.text("METRICS_ADDR", "")
	switch {
	case v == "":
	case !validListenAddr(v):
		r.bad("METRICS_ADDR", "must be host:port or :port, like :9091, not %s (with docker --env-file, put no comment on the same line)", showable(v))
	case healthAddr != "" && samePort(v, healthAddr):
		r.bad("METRICS_ADDR", "must be another port than HEALTH_ADDR's (%s): scrapes must not take the probes' connections; like :9091", showable(healthAddr))
	}
	return v
}

// samePort says whether two valid listen addresses use one port.
func samePort(a, b string) bool {
	_, pa, _ := net.SplitHostPort(a)
	_, pb, _ := net.SplitHostPort(b)
	return pa == pb && pa != "0"
}

func (r *reader) bad(name, format string, args ...any) {
	r.errs = append(r.errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
}

// text is a variable's value without surrounding space, or def.
func (r *reader) text(name, def string) string {
	if v := strings.TrimSpace(r.getenv(name)); v != "" {
		return v
	}
	return def
}

func (r *reader) token(name, prefix, where string) string {
	v := r.text(name, "")
	switch {
	case v == "":
		r.bad(name, "missing; %s", where)
	case !strings.HasPrefix(v, prefix) && strings.HasPrefix(strings.Trim(v, "\"' \t"), prefix):
		r.bad(name, "must start with %q, and this one starts with a quote or a space: remove the quotes or spaces around the value (some .env tools keep them); %s", prefix, where)
	case !strings.HasPrefix(v, prefix):
		r.bad(name, "must start with %q (look for quotes or spaces around the value); %s", prefix, where)
	case strings.ContainsFunc(v, unicode.IsSpace) || strings.ContainsAny(v, "\"'"):
		r.bad(name, "has a quote or a space in it: look for quotes or spaces (with docker --env-file or .env, put a comment on its own line, not after the value); %s", where)
	}
	return v
}

func (r *reader) vendorID(name string) string {
	v := r.text(name, "")
	switch {
	case v == "":
		r.bad(name, "missing; the vendor's customer service gives each enterprise a key and a token")
	case !vendorIDPattern.MatchString(v):
		r.bad(name, "must be 32 letters and digits (this one has %d characters; look for quotes or spaces)", len(v))
	}
	return v
}

// url reads one absolute http(s) URL, with no spaces (an inline comment
// after the value would end up inside it); unset, it is "" and the caller's
// default (def, named in the errors) applies.
func (r *reader) url(name, def string) string {
	v := r.text(name, "")
	if v == "" {
		return ""
	}
	u, err := url.Parse(v)
	switch {
	case strings.ContainsFunc(v, unicode.IsSpace):
		r.bad(name, "must be one URL with no spaces (with docker --env-file or .env, put a comment on its own line, not after the value); default %s", def)
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "":
		r.bad(name, "must be an absolute URL starting with http:// or https://, not %s (default %s)", showable(v), def)
	}
	return v
}

// ids reads a comma-separated list of IDs.
func (r *reader) ids(name string, pattern *regexp.Regexp, what string) []string {
	return r.list(name, nil, pattern.MatchString, what)
}

// list reads a comma-separated list, each item valid, or def when unset.
func (r *reader) list(name string, def []string, valid func(string) bool, what string) []string {
	v := r.text(name, "")
	if v == "" {
		return def
	}
	var items []string
	for item := range strings.SplitSeq(v, ",") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		if !valid(item) {
			r.bad(name, "%s is not %s", showable(item), what)
			continue
		}
		items = append(items, item)
	}
	return items
}

// duration reads a Go duration from least to most; why says what the lower
// bound protects.
func (r *reader) duration(name string, def, least, most time.Duration, why string) time.Duration {
	v := r.text(name, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < least || d > most {
		r.bad(name, "must be a Go duration from %v to %v, like 10s or 1m30s, not %s %s", least, most, showable(v), why)
		return def
	}
	return d
}

// number reads a rate: finite, at least least (a turn an hour, so that no
// wait is absurd) and at most a million.
func (r *reader) number(name string, def, least float64, what string) float64 {
	v := r.text(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(n) || n < least || n > 1e6 {
		r.bad(name, "must be %s, not %s", what, showable(v))
		return def
	}
	return n
}

// whole reads a burst: a whole number from 1 to a million.
func (r *reader) whole(name string, def int, what string) int {
	v := r.text(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1e6 {
		r.bad(name, "must be a whole number of 1 or more (%s), not %s", what, showable(v))
		return def
	}
	return n
}

func (r *reader) boolean(name string, def bool) bool {
	v := r.text(name, "")
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.bad(name, "must be true or false, not %s", showable(v))
		return def
	}
	return b
}

// showable is a value fit to quote back in a configuration error: the value
// itself, unless it may hold a secret (a user or password before an @, a
// token's shape), which is never echoed.
func showable(v string) string {
	if strings.Contains(v, "@") || scrub(v) != v || len(v) > 200 {
		return "the value given (not shown: it may hold a password or token)"
	}
	return strconv.Quote(v)
}

// validListenAddr accepts host:port and :port with a numeric port, and a
// host that is an IP address or a plain DNS name.
func validListenAddr(addr string) bool {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return false
	}
	return host == "" || net.ParseIP(host) != nil || hostPattern.MatchString(host)
}

// client makes the vendor client this configuration describes, taking
// turns from limiter; more options override it.
func (v vendorConfig) client(limiter yibeidiao.Limiter, more ...yibeidiao.Option) (*yibeidiao.Client, error) {
	version, _ := buildVersion()
	opts := []yibeidiao.Option{
		yibeidiao.WithBaseURL(v.baseURL),
		yibeidiao.WithTimeout(v.timeout),
		yibeidiao.WithLimiter(limiter),
		yibeidiao.WithLinkHosts(v.linkHosts...),
		yibeidiao.WithUserAgent("tempreport/" + version),
	}
	if !v.verify {
		opts = append(opts, yibeidiao.WithoutResponseVerification())
	}
	return yibeidiao.New(v.key, v.token, append(opts, more...)...)
}

// limiter is the vendor budget of this process alone.
func (v vendorConfig) limiter() yibeidiao.Limiter {
	return yibeidiao.NewLocalLimiter(rate.Limit(v.rps), v.burst)
}

// secrets lists what the configuration holds that must never be printed:
// the tokens, and the user and password of the URLs (a reverse proxy may
// need them).
func (c config) secrets() []string {
	s := []string{c.slack.appToken, c.slack.signingSecret, c.bot.BotToken, c.vendor.token}
	for _, raw := range []string{c.vendor.baseURL, c.bot.APIURL, c.redisURL} {
		if u, err := url.Parse(raw); err == nil && u.User != nil {
			p, _ := u.User.Password()
			s = append(s, u.User.String(), u.User.Username(), p)
		}
	}
	return slices.DeleteFunc(s, func(v string) bool { return v == "" })
}
