package main

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"os"
	"syscall"

	"github.com/slack-go/slack"

	"github.com/hr-tools/tempreport/bot"
	"github.com/hr-tools/tempreport/bot/socket"
	"github.com/hr-tools/tempreport/internal/cleantext"
	"github.com/hr-tools/tempreport/replicas"
	"github.com/hr-tools/tempreport/yibeidiao"
)

// hint is the one place that tells the operator which setting to fix for an
// error, in plain words; "" when there is nothing to fix on our side. The
// audit log's hint and -check both use it.
func hint(err error) string {
	if err == nil {
		return ""
	}
	if errors.Is(err, syscall.EADDRINUSE) {
		return "another process listens on that address: choose another SLACK_HTTP_ADDR (or HEALTH_ADDR, METRICS_ADDR), or stop what listens there"
	}
	if why := unreachable(err); why != "" {
		if k := yibeidiao.KindOf(err); k == yibeidiao.KindTransient || k == yibeidiao.KindTimeout {
			return "could not connect to the vendor (" + why + "): check YIBEIDIAO_BASE_URL (default " + yibeidiao.DefaultBaseURL + ") and this machine's network, or try later if the vendor is down"
		}
		return "could not connect to Slack's API (" + why + "): check SLACK_API_URL (default " + bot.DefaultAPIURL + ") and this machine's network (a proxy? a firewall?)"
	}
	if h := slackHint(err); h != "" {
		return h
	}
	var wrong *bot.WrongCommandError
	switch {
	case errors.Is(err, replicas.ErrRefused):
		return "Redis refused the user, password or database number in REDIS_URL: check them against the Redis server's settings"
	case errors.As(err, &wrong):
		return "Slack sent " + wrong.Got + ": set SLASH_COMMAND to the command in the app's settings (now " + wrong.Want + ")"
	}
	return vendorHint(err)
}

// vendorHint is hint for the vendor's failures: one switch over their
// kind, and over the code where the code says more.
func vendorHint(err error) string {
	var (
		untrusted *yibeidiao.UntrustedLinkError
		redirect  *yibeidiao.RedirectError
	)
	switch yibeidiao.KindOf(err) {
	case yibeidiao.KindUntrustedLink:
		errors.As(err, &untrusted)
		return "the vendor's answer carried a report link on " + untrusted.Host + " (" + untrusted.Reason + "), which the bot does not show: " +
			"if the vendor really serves reports from that host over https, add it to YIBEIDIAO_LINK_HOSTS; otherwise something between the bot and the vendor rewrites its answers, so use an https YIBEIDIAO_BASE_URL"
	case yibeidiao.KindMisconfigured:
		switch {
		case errors.As(err, &redirect):
			return "YIBEIDIAO_BASE_URL answered with a redirect to " + redirect.Scheme + "://" + redirect.Host + ", which the bot does not follow (it would send our signed headers there): set YIBEIDIAO_BASE_URL to the vendor's real address"
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
		}
		return "the vendor's address answered with an HTTP error: check YIBEIDIAO_BASE_URL (default " + yibeidiao.DefaultBaseURL + ")"
	case yibeidiao.KindBadSignature:
		return "the vendor's answer did not carry our signature: check YIBEIDIAO_TOKEN, and that YIBEIDIAO_BASE_URL points at the vendor; if the vendor signs answers differently, set YIBEIDIAO_VERIFY_RESPONSE=false"
	case yibeidiao.KindBadResponse:
		return "the answer was not the vendor's JSON: check that YIBEIDIAO_BASE_URL points at the vendor's API (default " + yibeidiao.DefaultBaseURL + "), not a web page or a proxy's login page"
	case yibeidiao.KindTransient:
		if errors.Is(err, yibeidiao.ErrSeqReused) {
			return "the vendor saw a request serial number twice; the bot makes a new one per request, so look for a proxy that replays requests"
		}
		return "the vendor is failing or could not be reached: check YIBEIDIAO_BASE_URL and this server's network, or try later if the vendor is down"
	case yibeidiao.KindTimeout:
		return "the vendor did not answer within YIBEIDIAO_TIMEOUT: check YIBEIDIAO_BASE_URL and this server's network, or raise YIBEIDIAO_TIMEOUT"
	case yibeidiao.KindBusy:
		return "the shared vendor budget had no turn in time: raise YIBEIDIAO_RPS / YIBEIDIAO_BURST if the vendor allows, or COMMAND_TIMEOUT"
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "the vendor did not answer in time: check YIBEIDIAO_BASE_URL and this server's network, or raise COMMAND_TIMEOUT / YIBEIDIAO_TIMEOUT"
	}
	return ""
}

// unreachable says, naming the host, why a connection could not be made:
// nothing listening, a name not found, TLS failing or no answer in time.
// It is "" when err is not a failure to connect (an HTTP answer, say).
func unreachable(err error) string {
	var (
		dnsErr *net.DNSError
		opErr  *net.OpError
		tlsHdr tls.RecordHeaderError
		x509   *tls.CertificateVerificationError
		alert  tls.AlertError
	)
	switch {
	case errors.As(err, &dnsErr):
		return "the host name " + cleantext.String(dnsErr.Name) + " was not found"
	case errors.As(err, &opErr) && errors.Is(err, syscall.ECONNREFUSED):
		return "nothing accepts connections at " + opAddr(opErr) + ": connection refused"
	case errors.As(err, &tlsHdr):
		return "the server does not speak TLS: is the address http, not https?"
	case errors.As(err, &x509):
		return "its TLS certificate could not be verified"
	case errors.As(err, &alert):
		return "the TLS handshake failed"
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return "could not connect to " + opAddr(opErr) + ": " + cleantext.String(opErr.Err.Error())
	case errors.As(err, &opErr) && opErr.Timeout(), errors.Is(err, os.ErrDeadlineExceeded):
		return "no answer in time"
	}
	return ""
}

func opAddr(e *net.OpError) string {
	if e.Addr != nil {
		return e.Addr.String()
	}
	return "the address"
}

// slackHint explains an error from Slack's Web API or socket, naming the
// token or setting at fault; "" if err is not one.
func slackHint(err error) string {
	if sc, ok := errors.AsType[slack.StatusCodeError](err); ok {
		if sc.Code == http.StatusNotFound {
			return "Slack's API answered 404: check SLACK_API_URL (default " + bot.DefaultAPIURL + ")"
		}
		return "Slack's API answered HTTP " + sc.Status + ": check SLACK_API_URL if it persists"
	}
	_, inGroup := errors.AsType[*bot.GroupError](err)
	var code string
	if se, ok := errors.AsType[slack.SlackErrorResponse](err); ok {
		code = se.Err
	}
	token, where := "SLACK_BOT_TOKEN", "OAuth & Permissions > Bot User OAuth Token (a reinstall makes a new one)"
	if errors.Is(err, socket.ErrRefused) {
		token, where = "SLACK_APP_TOKEN", "Basic Information > App-Level Tokens (or make a new one with the connections:write scope)"
	}
	switch code {
	case "invalid_auth", "not_authed", "token_revoked", "account_inactive", "token_expired":
		return token + " was refused by Slack (" + code + "): copy it again from the app's settings, " + where
	case "not_allowed_token_type":
		return token + " is the wrong kind of token: SLACK_APP_TOKEN is xapp-…, SLACK_BOT_TOKEN is xoxb-…"
	case "missing_scope":
		return "the app lacks a scope: give the bot the usergroups:read scope (OAuth & Permissions) and reinstall; the app-level token needs connections:write"
	case "no_such_subteam", "subteam_not_found":
		return "Slack knows no such user group: check ALLOWED_USERGROUP_IDS"
	case "invalid_app_level_token", "socket_mode_not_enabled":
		return "no socket for this app (" + code + "): turn Socket Mode on in the app's settings and check SLACK_APP_TOKEN"
	}
	if inGroup {
		return "could not read a user group from Slack: check SLACK_BOT_TOKEN's usergroups:read scope, ALLOWED_USERGROUP_IDS and SLACK_API_URL"
	}
	if errors.Is(err, socket.ErrRefused) {
		return "Slack refused to open a socket: check SLACK_APP_TOKEN (xapp-…, with the connections:write scope)"
	}
	return ""
}
