package httpmode

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

func TestSignKnownAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, secret, timestamp, body, want string
	}{
		{
			// Slack's example in "Verifying requests from Slack".
			name:      "Slack's documentation",
			secret:    "8f742231b10e8888abcd99yyyzzz85a5",
			timestamp: "1531420618",
			body:      "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c",
			want:      "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
		},
		{
			// slack-go's security_test.go.
			name:      "slack-go",
			secret:    "e6b19c573432dcc6b075501d51b51bb8",
			timestamp: "1531431954",
			body:      `{"token":"aF5ynEYQH0dFN9imlgcADxDB","team_id":"XXXXXXXXX","api_app_id":"YYYYYYYYY","event":{"type":"app_mention","user":"AAAAAAAAA","text":"<@EEEEEEEEE> hello world","client_msg_id":"477cc591-ch73-a14z-4db8-g0cd76321bec","ts":"1531431954.000073","channel":"TTTTTTTTT","event_ts":"1531431954.000073"},"type":"event_callback","event_id":"TvBP7LRED7","event_time":1531431954,"authed_users":["EEEEEEEEE"]}`,
			want:      "v0=adada4ed31709aef585c2580ca3267678c6a8eaeb7e0c1aca3ee57b656886b2c",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := sign([]byte(tt.secret), tt.timestamp, []byte(tt.body)); got != tt.want {
				t.Errorf("sign(…) = %s, want %s", got, tt.want)
			}
			ts, _ := strconv.ParseInt(tt.timestamp, 10, 64)
			h := http.Header{}
			h.Set("X-Slack-Request-Timestamp", tt.timestamp)
			h.Set("X-Slack-Signature", tt.want)
			if why := check([]byte(tt.secret), h, []byte(tt.body), time.Unix(ts, 0).Add(time.Minute)); why != "" {
				t.Errorf("check(known answer) = %q, want it to hold", why)
			}
		})
	}
}

func TestCheckRefuses(t *testing.T) {
	t.Parallel()
	secret, body := []byte("secret"), []byte("text=hi")
	now := time.Unix(1_700_000_000, 0)
	ts := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	good := func(timestamp string) string { return sign(secret, timestamp, body) }
	tests := []struct {
		name, timestamp, signature string
		want                       refusal
	}{
		{"good", ts(0), good(ts(0)), ""},
		{"4m59s old", ts(-299 * time.Second), good(ts(-299 * time.Second)), ""},
		{"6 minutes old", ts(-6 * time.Minute), good(ts(-6 * time.Minute)), badTimestamp},
		{"6 minutes ahead", ts(6 * time.Minute), good(ts(6 * time.Minute)), badTimestamp},
		{"no timestamp", "", good(ts(0)), noHeaders},
		{"no signature", ts(0), "", noHeaders},
		{"timestamp not a number", "soon", good("soon"), badTimestamp},
		{"smallest int64", "-9223372036854775808", good("-9223372036854775808"), badTimestamp},
		{"largest int64", "9223372036854775807", good("9223372036854775807"), badTimestamp},
		{"other secret", ts(0), sign([]byte("other"), ts(0), body), badSignature},
		{"no v0=", ts(0), good(ts(0))[3:], badSignature},
		{"v1=", ts(0), "v1=" + good(ts(0))[3:], badSignature},
		{"not hex", ts(0), "v0=zz", badSignature},
		{"truncated", ts(0), good(ts(0))[:40], badSignature},
		{"signed for another timestamp", ts(0), good(ts(-time.Second)), badSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			if tt.timestamp != "" {
				h.Set("X-Slack-Request-Timestamp", tt.timestamp)
			}
			if tt.signature != "" {
				h.Set("X-Slack-Signature", tt.signature)
			}
			if got := check(secret, h, body, now); got != tt.want {
				t.Errorf("check(%s) = %q, want %q", tt.name, got, tt.want)
			}
		})
	}
}
