package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/hr-tools/tempreport/bot"
	"github.com/hr-tools/tempreport/bot/httpmode"
	"github.com/hr-tools/tempreport/bot/socket"
	"github.com/hr-tools/tempreport/internal/cleantext"
	"github.com/hr-tools/tempreport/replicas"
	"github.com/hr-tools/tempreport/yibeidiao"
)

// checkTimeout bounds the whole of -check, whatever the network does.
const checkTimeout = 15 * time.Second

// checker is -check: it proves each credential with a harmless call, all at
// once, and prints each step when it starts and when it ends, in plain
// words.
type checker struct {
	cfg     config
	out     io.Writer
	timeout time.Duration
	// vendorHTTP is the HTTP client for the vendor, over http and https;
	// nil for one with the configured timeout.
	vendorHTTP *http.Client

	mu       sync.Mutex // one step's lines at a time
	reported []bool     // by step
	closed   bool       // run has returned: late steps print nothing
	failed   int
}

// step is one check: its name, and a func that says what it found or why it
// failed. An optional step's failure is reported but does not fail -check.
type step struct {
	name     string
	optional bool
	run      func(ctx context.Context) (string, error)
}

// run runs every step at once and returns an error if any failed.
func (c *checker) run(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var configBad error
	if c.cfg.slack.httpMode() {
		fmt.Fprintf(c.out, "HTTP request mode: Slack must reach POST %s on SLACK_HTTP_ADDR (%s). In the app's settings, the Request URL of the\n"+
			"slash command, Interactivity and Event Subscriptions is your public https address followed by %s.\n", httpmode.Path, c.cfg.slack.httpAddr, httpmode.Path)
	} else {
		configBad = appTokenShape(c.cfg.slack.appToken)
	}
	if err := configBad; err != nil {
		fmt.Fprintf(c.out, "✗ configuration\n    %v\n", err)
	} else {
		fmt.Fprintln(c.out, "✓ configuration: every variable is set and well-formed")
	}
	steps := c.steps()
	c.reported = make([]bool, len(steps))
	done := make([]chan struct{}, len(steps))
	for i, s := range steps {
		done[i] = make(chan struct{})
		c.print("… %s\n", s.name)
		go func() {
			defer close(done[i])
			detail, err := s.run(ctx)
			c.report(i, s, detail, err)
		}()
	}
	for i, s := range steps {
		select {
		case <-done[i]:
		case <-ctx.Done():
			// A step still going has ignored its context: it is not waited for.
			c.report(i, s, "", fmt.Errorf("no answer within %v: check the network between this machine and that address", c.timeout))
		}
	}
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	also := ""
	if configBad != nil {
		also = ", and the configuration has a problem"
	}
	if c.failed > 0 {
		return fmt.Errorf("%d of %s failed%s; fix them and run -check again", c.failed, count(len(steps)-optionalSteps(steps), "required check"), also)
	}
	if configBad != nil {
		return errors.New("the configuration has a problem; fix it and run -check again")
	}
	fmt.Fprintf(c.out, "All %s passed. %s, %s. Start the bot with `go run .` or `docker run --env-file .env …`.\n",
		count(len(steps)-optionalSteps(steps), "required check"), count(len(c.cfg.bot.AllowedUsers), "allowed user"), count(len(c.cfg.bot.AllowedGroups), "allowed group"))
	return nil
}

func (c *checker) steps() []step {
	// The https step says what it learnt only once the http step has
	// ended: if the vendor's host cannot be reached over http either, it
	// learnt nothing about https.
	vendorHTTP := make(chan error, 1)
	api := slack.New(c.cfg.bot.BotToken,
		slack.OptionAppLevelToken(c.cfg.slack.appToken),
		slack.OptionAPIURL(c.cfg.bot.APIURL),
		slack.OptionHTTPClient(&http.Client{Timeout: c.timeout}))
	steps := []step{
		{name: "Slack bot token (auth.test)", run: func(ctx context.Context) (string, error) {
			r, err := api.AuthTestContext(ctx)
			if err != nil {
				return "", slackProblem(err)
			}
			return fmt.Sprintf("workspace %q (%s), bot user %s", cleantext.String(r.Team), r.TeamID, r.UserID), nil
		}},
		{name: "vendor credentials (signed GET /balance at " + redactURL(c.cfg.vendor.baseURL) + ")", run: func(ctx context.Context) (string, error) {
			msg, err := c.balance(ctx, c.cfg.vendor.baseURL)
			vendorHTTP <- err
			if err != nil {
				return "", problem(err)
			}
			return "key, token, signature and clock accepted; balance " + cleantext.String(string(msg)), nil
		}},
	}
	if c.cfg.slack.httpMode() {
		steps = append(steps, step{name: "SLACK_HTTP_ADDR free to listen on (" + c.cfg.slack.httpAddr + ")", run: func(context.Context) (string, error) {
			ln, err := net.Listen("tcp", c.cfg.slack.httpAddr)
			if err != nil {
				return "", problem(err)
			}
			_ = ln.Close()
			return "the bot can serve " + httpmode.Path + " there", nil
		}})
	} else {
		steps = append(steps, step{name: "Slack app-level token (apps.connections.open, without connecting)", run: func(ctx context.Context) (string, error) {
			if _, _, err := api.StartSocketModeContext(ctx); err != nil {
				if unreachable(err) == "" { // Slack answered: the token is at fault
					err = fmt.Errorf("%w: %w", socket.ErrRefused, err)
				}
				return "", slackProblem(err)
			}
			return "Socket Mode is on and the token may open a socket", nil
		}})
	}
	if https, ok := httpsVariant(c.cfg.vendor.baseURL); ok {
		steps = append(steps, step{name: "vendor over https (the same call at " + redactURL(https) + ")", optional: true, run: func(ctx context.Context) (string, error) {
			if _, err := c.balance(ctx, https); err != nil {
				if why := unreachable(err); why != "" {
					select {
					case httpErr := <-vendorHTTP:
						if unreachable(httpErr) != "" {
							return "", fmt.Errorf("could not connect to the vendor over https (%s), nor over http: nothing was learnt about https; fix the http address first", why)
						}
					case <-ctx.Done():
						return "", fmt.Errorf("could not connect to the vendor over https (%s), and http had not answered yet: nothing was learnt about https", why)
					}
					return "", fmt.Errorf("could not connect to the vendor over https (%s), so keep the http address", why)
				}
				return "", fmt.Errorf("the vendor's host does not serve this call over https, so keep the http address (%w)", err)
			}
			line := "YIBEIDIAO_BASE_URL=" + redactURL(https)
			if u, _ := url.Parse(c.cfg.vendor.baseURL); u.User != nil {
				line += "   (put your proxy's user and password back in)"
			}
			return "the vendor answers over https too: use it, so that nobody on the way can read or change its answers:\n    " + line, nil
		}})
	}
	if c.cfg.redisURL != "" {
		steps = append(steps, step{name: "Redis shared by the replicas (PING at " + redactURL(c.cfg.redisURL) + ")", run: func(ctx context.Context) (string, error) {
			addr, err := replicas.Ping(ctx, c.cfg.redisURL)
			if err != nil {
				if h := hint(err); h != "" {
					return "", problem(err)
				}
				return "", fmt.Errorf("could not reach Redis at %s: check REDIS_URL's host and port, and the network between this machine and Redis\n    (%w)", addr, err)
			}
			return "Redis answers at " + addr + "; replicas will share one vendor budget, each person's limit and the redelivery memory", nil
		}})
	}
	if c.cfg.bot.Language == bot.LanguageAuto && len(c.cfg.bot.AllowedUsers) > 0 {
		user := c.cfg.bot.AllowedUsers[0]
		steps = append(steps, step{name: "each person's language (users.info with include_locale for " + user + ")", run: func(ctx context.Context) (string, error) {
			u, err := api.GetUserInfoContext(ctx, user, slack.GetUserInfoOptionIncludeLocale(true))
			if err != nil {
				return "", fmt.Errorf("BOT_LANGUAGE=auto reads each person's Slack language with users.info, which needs the users:read scope "+
					"(add it in the app's OAuth & Permissions, reinstall, or set BOT_LANGUAGE to en or zh)\n    (%w)", err)
			}
			lang, ok := bot.Language(u.Locale)
			if !ok {
				lang = c.cfg.bot.FallbackLanguage + ", the fallback"
			}
			return fmt.Sprintf("%s's Slack language is %q: answered in %s", user, u.Locale, lang), nil
		}})
	}
	for _, g := range c.cfg.bot.AllowedGroups {
		steps = append(steps, step{name: "allowed user group " + g + " (usergroups.users.list)", run: func(ctx context.Context) (string, error) {
			members, err := api.GetUserGroupMembersContext(ctx, g)
			if err != nil {
				return "", slackProblem(&bot.GroupError{Group: g, Err: err})
			}
			return count(len(members), "member"), nil
		}})
	}
	return steps
}

// balance makes the vendor's cheapest signed call at base.
func (c *checker) balance(ctx context.Context, base string) ([]byte, error) {
	hc := c.vendorHTTP
	if hc == nil {
		hc = &http.Client{Timeout: c.cfg.vendor.timeout}
	}
	vendor, err := c.cfg.vendor.client(nil, yibeidiao.WithBaseURL(base), yibeidiao.WithHTTPClient(hc))
	if err != nil {
		return nil, err
	}
	return vendor.Balance(ctx)
}

// report prints how step i ended, once.
func (c *checker) report(i int, s step, detail string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.reported[i] {
		return
	}
	c.reported[i] = true
	switch {
	case err == nil:
		fmt.Fprintf(c.out, "✓ %s: %s\n", s.name, detail)
	case s.optional:
		fmt.Fprintf(c.out, "– %s: %v\n", s.name, err)
	default:
		c.failed++
		fmt.Fprintf(c.out, "✗ %s\n    %v\n", s.name, err)
	}
}

func (c *checker) print(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(c.out, format, args...)
}

// appTokenShape checks that token looks like an app-level token:
// xapp-<n>-<app ID>-…, the app ID being A and capitals or digits. The
// configuration only checks the xapp- prefix; this catches a placeholder
// or a truncated paste before Slack is asked. The token is never quoted.
func appTokenShape(token string) error {
	parts := strings.SplitN(token, "-", 4)
	ok := len(parts) == 4 && parts[0] == "xapp" && parts[1] != "" && parts[3] != "" &&
		strings.Trim(parts[1], "0123456789") == "" &&
		len(parts[2]) > 1 && parts[2][0] == 'A' && strings.Trim(parts[2], "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == ""
	if !ok {
		return errors.New("SLACK_APP_TOKEN does not have the shape of an app-level token, xapp-<n>-<app ID>-…: copy it again from the app's settings, Basic Information > App-Level Tokens")
	}
	return nil
}

// httpsVariant is base over https, if base is plain http.
func httpsVariant(base string) (string, bool) {
	u, err := url.Parse(base)
	if err != nil || u.Scheme != "http" {
		return "", false
	}
	u.Scheme = "https"
	return u.String(), true
}

// withoutDotEnv adds to -check's configuration error, when there is no
// .env in the working directory, that there is none and how to start one:
// a newcomer who has not made it yet sees every variable missing, not why.
func withoutDotEnv(err error) error {
	if _, statErr := os.Stat(".env"); !errors.Is(statErr, fs.ErrNotExist) {
		return err
	}
	dir, _ := os.Getwd()
	return fmt.Errorf("%w\nNo .env file in %s, and the environment does not set these either. To start one from the example: cp .env.example .env, fill it in, and run -check again", err, dir)
}

// problem is a failed check in plain words: the operator's hint, then the
// error itself.
func problem(err error) error {
	if h := hint(err); h != "" {
		return fmt.Errorf("%s\n    (%w)", h, err)
	}
	return err
}

// slackProblem is problem for Slack's Web API, which answers a page that is
// not its JSON (a proxy's login page, a wrong address) with a bare decoding
// error.
func slackProblem(err error) error {
	if strings.Contains(err.Error(), "invalid character") || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("the Slack API was reached but answered with something that is not Slack's JSON (a web page? a proxy's login page?): check SLACK_API_URL (default %s)\n    (%w)", bot.DefaultAPIURL, err)
	}
	return problem(err)
}

// count says n things with the right plural: "1 member", "2 members".
func count(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

func optionalSteps(steps []step) (n int) {
	for _, s := range steps {
		if s.optional {
			n++
		}
	}
	return n
}
