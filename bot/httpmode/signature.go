package httpmode

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// refusal is why a request's signature did not hold; "" when it did.
type refusal string

const (
	noHeaders    refusal = "no signature headers"
	badTimestamp refusal = "timestamp more than 5 minutes from now"
	badSignature refusal = "signature does not match"
)

// sign is Slack's request signature: "v0=" and the hex HMAC-SHA256 of
// "v0:{timestamp}:{body}" keyed by the signing secret.
func sign(secret []byte, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("v0:" + timestamp + ":"))
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// check verifies a request's X-Slack-Signature and
// X-Slack-Request-Timestamp against its raw body, comparing in constant
// time.
func check(secret []byte, h http.Header, body []byte, now time.Time) refusal {
	timestamp, signature := h.Get("X-Slack-Request-Timestamp"), h.Get("X-Slack-Signature")
	if timestamp == "" || signature == "" {
		return noHeaders
	}
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return badTimestamp
	}
	// No subtraction involving ts: it may be anything an int64 holds.
	if n, skew := now.Unix(), int64(maxSkew/time.Second); ts < n-skew || ts > n+skew {
		return badTimestamp
	}
	hexSig, ok := strings.CutPrefix(signature, "v0=")
	if !ok {
		return badSignature
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return badSignature
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("v0:" + timestamp + ":"))
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return badSignature
	}
	return ""
}
