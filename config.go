package main

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/hr-tools/tempreport/bot"
	"github.com/hr-tools/tempreport/replicas"
	"github.com/hr-tools/tempreport/yibeidiao"
)

// config is everything the program reads from its environment.
type config struct {
	slackAppToken     string
	slackBotToken     string
	slackAPIURL       string
	command           string
	allowedUsers      []string
	allowedGroups     []string
	groupRefresh      time.Duration
	groupMaxStale     time.Duration
	userRatePerMinute float64
	userBurst         int
	vendorBaseURL     string
	linkHosts         []string
	vendorKey         string
	vendorToken       string
	vendorRPS         float64
	vendorBurst       int
	vendorTimeout     time.Duration
	verifyResponse    bool
	commandTimeout    time.Duration
	language          string
	healthAddr        string
	redisURL          string // "": one replica, everything in memory
	logLevel          slog.Level
	logFormat         string
}

var (
	userIDPattern   = regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`)
	groupIDPattern  = regexp.MustCompile(`^S[A-Z0-9]{2,}$`)
	vendorIDPattern = regexp.MustCompile(`^[A-Za-z0-9]{32}$`)
	commandPattern  = regexp.MustCompile(`^/[a-z0-9_-]{1,31}$`)
	hostPattern     = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]{0,252}[A-Za-z0-9])?$`)
)

// loadConfig reads the environment once and reports every problem at once,
// each naming its variable and what it expects, so that one restart fixes
// them all. Secret values never appear in its errors.
func loadConfig(getenv func(string) string) (config, error) {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
	}
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }
	c := config{
		slackAppToken: get("SLACK_APP_TOKEN"),
		slackBotToken: get("SLACK_BOT_TOKEN"),
		vendorKey:     get("YIBEIDIAO_KEY"),
		vendorToken:   get("YIBEIDIAO_TOKEN"),
		healthAddr:    get("HEALTH_ADDR"),
		redisURL:      get("REDIS_URL"),
	}

	token := func(name, value, prefix, where string) {
		switch {
		case value == "":
			bad(name, "missing; %s", where)
		case !strings.HasPrefix(value, prefix):
			bad(name, "must start with %q; %s", prefix, where)
		}
	}
	token("SLACK_APP_TOKEN", c.slackAppToken, "xapp-", "the app-level token with the connections:write scope (app settings > Basic Information > App-Level Tokens)")
	token("SLACK_BOT_TOKEN", c.slackBotToken, "xoxb-", "the Bot User OAuth Token (app settings > OAuth & Permissions)")
	c.slackAPIURL = absoluteURL(get("SLACK_API_URL"), bot.DefaultAPIURL, "SLACK_API_URL", bad)
	if !strings.HasSuffix(c.slackAPIURL, "/") {
		c.slackAPIURL += "/"
	}

	c.command = cmp.Or(get("SLASH_COMMAND"), bot.DefaultCommand)
	if !commandPattern.MatchString(c.command) {
		bad("SLASH_COMMAND", "must be a slash command like /tempreport (lowercase, no spaces), as in the app's settings")
	}
	listErrs := len(errs)
	c.allowedUsers = idList("ALLOWED_USER_IDS", get("ALLOWED_USER_IDS"), userIDPattern, "Slack user IDs like U012AB3CD (profile > ⋮ > Copy member ID)", bad)
	c.allowedGroups = idList("ALLOWED_USERGROUP_IDS", get("ALLOWED_USERGROUP_IDS"), groupIDPattern, "Slack user group IDs like S0614TZR7", bad)
	if len(c.allowedUsers) == 0 && len(c.allowedGroups) == 0 && len(errs) == listErrs {
		bad("ALLOWED_USER_IDS", "no one is allowed: set ALLOWED_USER_IDS and/or ALLOWED_USERGROUP_IDS (comma-separated)")
	}

	c.groupRefresh = duration(get("ALLOWED_USERGROUP_REFRESH"), bot.DefaultGroupRefresh, "ALLOWED_USERGROUP_REFRESH", bad)
	if c.groupRefresh < time.Second {
		bad("ALLOWED_USERGROUP_REFRESH", "must be at least 1s (Slack rate-limits usergroups.users.list), not %q", get("ALLOWED_USERGROUP_REFRESH"))
	}
	c.groupMaxStale = duration(get("ALLOWED_USERGROUP_MAX_STALE"), bot.DefaultGroupMaxStale, "ALLOWED_USERGROUP_MAX_STALE", bad)
	if c.groupMaxStale <= c.groupRefresh {
		bad("ALLOWED_USERGROUP_MAX_STALE", "must be longer than ALLOWED_USERGROUP_REFRESH (%v), or every group goes stale between two reads; not %v", c.groupRefresh, c.groupMaxStale)
	}
	c.userRatePerMinute = number(get("USER_RATE_PER_MINUTE"), float64(bot.DefaultUserRate)*60, 1.0/60, "USER_RATE_PER_MINUTE",
		"turns a person gets back per minute, a number from 0.0167 (one an hour) up, like 20", bad)
	c.userBurst = whole(get("USER_BURST"), bot.DefaultUserBurst, "USER_BURST", "commands a person may send at once", bad)

	c.vendorBaseURL = absoluteURL(get("YIBEIDIAO_BASE_URL"), yibeidiao.DefaultBaseURL, "YIBEIDIAO_BASE_URL", bad)
	c.linkHosts = []string{yibeidiao.DefaultLinkHost}
	if v := get("YIBEIDIAO_LINK_HOSTS"); v != "" {
		c.linkHosts = nil
		for h := range strings.SplitSeq(v, ",") {
			if h = strings.TrimSpace(h); h == "" {
				continue
			}
			if !yibeidiao.ValidLinkHost(h) {
				bad("YIBEIDIAO_LINK_HOSTS", "%q is not a host name or *.domain (comma-separated, like res.yibeidiao.com)", h)
			}
			c.linkHosts = append(c.linkHosts, h)
		}
	}
	for _, v := range []struct{ name, value string }{{"YIBEIDIAO_KEY", c.vendorKey}, {"YIBEIDIAO_TOKEN", c.vendorToken}} {
		switch {
		case v.value == "":
			bad(v.name, "missing; the vendor's customer service gives each enterprise a key and a token")
		case !vendorIDPattern.MatchString(v.value):
			bad(v.name, "must be 32 letters and digits (this one has %d characters; look for quotes or spaces)", len(v.value))
		}
	}
	c.vendorRPS = number(get("YIBEIDIAO_RPS"), 1, 1.0/3600, "YIBEIDIAO_RPS",
		"vendor requests per second for this replica, a number from 0.000278 (one an hour) up, like 1 or 0.5", bad)
	c.vendorBurst = whole(get("YIBEIDIAO_BURST"), 3, "YIBEIDIAO_BURST", "vendor requests allowed at once", bad)
	c.vendorTimeout = duration(get("YIBEIDIAO_TIMEOUT"), yibeidiao.DefaultTimeout, "YIBEIDIAO_TIMEOUT", bad)
	c.verifyResponse = true
	if v := get("YIBEIDIAO_VERIFY_RESPONSE"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			bad("YIBEIDIAO_VERIFY_RESPONSE", "must be true or false, not %q", v)
		} else {
			c.verifyResponse = b
		}
	}
	c.commandTimeout = duration(get("COMMAND_TIMEOUT"), bot.DefaultCommandTimeout, "COMMAND_TIMEOUT", bad)

	c.language = strings.ToLower(cmp.Or(get("BOT_LANGUAGE"), "en"))
	if !slices.Contains(bot.Languages, c.language) {
		bad("BOT_LANGUAGE", "must be one of %s, not %q", strings.Join(bot.Languages, ", "), get("BOT_LANGUAGE"))
	}

	if c.healthAddr != "" && !validListenAddr(c.healthAddr) {
		bad("HEALTH_ADDR", "must be host:port or :port, like :8080, not %q (with docker --env-file, put no comment on the same line)", c.healthAddr)
	}
	if c.redisURL != "" {
		if _, err := replicas.ParseURL(c.redisURL); err != nil {
			bad("REDIS_URL", "must be redis://[user:password@]host[:port][/db] or rediss://… for TLS (the value is not shown: it may hold a password)")
		}
	}
	if err := c.logLevel.UnmarshalText([]byte(cmp.Or(get("LOG_LEVEL"), "info"))); err != nil {
		bad("LOG_LEVEL", "must be debug, info, warn or error, not %q", get("LOG_LEVEL"))
	}
	c.logFormat = strings.ToLower(cmp.Or(get("LOG_FORMAT"), "text"))
	if c.logFormat != "text" && c.logFormat != "json" {
		bad("LOG_FORMAT", "must be text or json, not %q", get("LOG_FORMAT"))
	}
	if len(errs) > 0 {
		return config{}, fmt.Errorf("configuration:\n%w", errors.Join(errs...))
	}
	return c, nil
}

// userRate is USER_RATE_PER_MINUTE as the bot takes it.
func (c config) userRate() rate.Limit { return rate.Limit(c.userRatePerMinute / 60) }

func absoluteURL(v, def, name string, bad func(string, string, ...any)) string {
	v = cmp.Or(v, def)
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad(name, "must be an absolute http(s) URL, not %q (default %s)", redactURL(v), def)
	}
	return v
}

func idList(name, v string, pattern *regexp.Regexp, what string, bad func(string, string, ...any)) []string {
	var ids []string
	for id := range strings.SplitSeq(v, ",") {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		if !pattern.MatchString(id) {
			bad(name, "%q is not one of %s", id, what)
			continue
		}
		ids = append(ids, id)
	}
	return ids
}

// number reads a rate: finite, at least least (a turn an hour, so that no
// wait is absurd) and at most a million.
func number(v string, def, least float64, name, what string, bad func(string, string, ...any)) float64 {
	if v == "" {
		return def
	}
	n, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(n) || n < least || n > 1e6 {
		bad(name, "must be %s, not %q", what, v)
		return def
	}
	return n
}

// whole reads a burst: a whole number from 1 to a million.
func whole(v string, def int, name, what string, bad func(string, string, ...any)) int {
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1e6 {
		bad(name, "must be a whole number of 1 or more (%s), not %q", what, v)
		return def
	}
	return n
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

func duration(v string, def time.Duration, name string, bad func(string, string, ...any)) time.Duration {
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		bad(name, "must be a Go duration above zero, like 10s or 1m30s, not %q", v)
		return def
	}
	return d
}
