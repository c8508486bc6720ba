package yibeidiao

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"time"
)

// The three kinds of failure a caller acts on differently. Every error from
// [Client.GenerateTempReport] that came from the vendor or the network is
// exactly one of them; check with errors.Is.
var (
	// ErrMisconfigured means the bot's own setup is wrong and a person must
	// fix it: key or token (901, 904, 905), a disabled account (906), the
	// server's clock (903), or a base URL that answers 4xx.
	ErrMisconfigured = errors.New("yibeidiao: misconfigured")
	// ErrTransient means trying again later may work: vendor internal error
	// (900), a reused seq (902), network errors, timeouts, HTTP 5xx and 429.
	ErrTransient = errors.New("yibeidiao: temporarily unavailable")
	// ErrRefused means the vendor understood the request and said no, for a
	// business reason such as a record that is not in progress. The
	// [APIError] carries its code and message.
	ErrRefused = errors.New("yibeidiao: refused by the vendor")
)

// Sentinels for the vendor's documented global codes, matched by errors.Is
// against an [*APIError] with that code.
var (
	ErrVendorInternal     = errors.New("yibeidiao: vendor internal error (900)")
	ErrSignatureRejected  = errors.New("yibeidiao: vendor rejected the signature (901)")
	ErrSeqReused          = errors.New("yibeidiao: vendor saw this seq before (902)")
	ErrClockSkew          = errors.New("yibeidiao: vendor rejected the timestamp (903)")
	ErrBadAuthHeaders     = errors.New("yibeidiao: vendor rejected the auth headers (904)")
	ErrUnknownEnterprise  = errors.New("yibeidiao: vendor does not know this key (905)")
	ErrEnterpriseDisabled = errors.New("yibeidiao: enterprise account unavailable (906)")
	errCodeSentinels      = map[string]error{
		"900": ErrVendorInternal, "901": ErrSignatureRejected, "902": ErrSeqReused, "903": ErrClockSkew,
		"904": ErrBadAuthHeaders, "905": ErrUnknownEnterprise, "906": ErrEnterpriseDisabled,
	}
	errMisconfiguredCodes = map[string]bool{"901": true, "903": true, "904": true, "905": true, "906": true}
	errTransientCodes     = map[string]bool{"900": true, "902": true}
)

// Errors about answers that cannot be trusted or read. Neither yields a link,
// and neither is retried.
var (
	// ErrBadResponseSignature means the answer's signature, key or seq did not
	// match ours: it may not come from the vendor.
	ErrBadResponseSignature = errors.New("yibeidiao: response signature does not verify")
	// ErrBadResponse means the answer was empty, too large, not the vendor's
	// JSON envelope, or a success without a usable report link.
	ErrBadResponse = errors.New("yibeidiao: unreadable response")
)

// ErrUntrustedLink is matched by an [*UntrustedLinkError].
var ErrUntrustedLink = errors.New("yibeidiao: untrusted report link")

// UntrustedLinkError means a successful answer carried a report link that
// is not https on a trusted host (see [WithLinkHosts]). The answer may not
// be the vendor's: the vendor's signature does not cover the link. It names
// only the host, never the link.
type UntrustedLinkError struct {
	Host   string
	Reason string // "not https" or "host not trusted"
	Seq    string
}

func (e *UntrustedLinkError) Error() string {
	return fmt.Sprintf("yibeidiao: report link on host %q is untrusted: %s (seq %s)", e.Host, e.Reason, e.Seq)
}

func (e *UntrustedLinkError) Unwrap() error { return ErrUntrustedLink }

// RedirectError means the base URL answered with a redirect, which the
// client never follows: the signed headers go nowhere but the base URL's
// server. It matches [ErrMisconfigured]: the base URL needs fixing.
type RedirectError struct {
	HTTPStatus int
	Scheme     string // of the Location, empty if none
	Host       string // of the Location, empty if none
	Seq        string
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("yibeidiao: http %d redirect to %s://%s not followed (seq %s)", e.HTTPStatus, e.Scheme, e.Host, e.Seq)
}

// Is makes a RedirectError match [ErrMisconfigured].
func (e *RedirectError) Is(target error) bool { return target == ErrMisconfigured }

// ErrRateLimited is matched by a [*RateLimitError].
var ErrRateLimited = errors.New("yibeidiao: rate limited")

// APIError is a failure the vendor reported: a code other than "000", or an
// HTTP status outside 2xx (then Code is empty). It matches, with errors.Is,
// the sentinel of its code if it has one and exactly one of
// [ErrMisconfigured], [ErrTransient] and [ErrRefused].
type APIError struct {
	Code       string // vendor code, e.g. "901"; empty for an HTTP-level failure
	Message    string // vendor's msg text, links removed; shown to the user for refusals
	HTTPStatus int
	Seq        string // the request's seq, for the audit log and the vendor's support
}

func (e *APIError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("yibeidiao: http status %d (seq %s)", e.HTTPStatus, e.Seq)
	}
	return fmt.Sprintf("yibeidiao: vendor code %s: %s (http %d, seq %s)", e.Code, e.Message, e.HTTPStatus, e.Seq)
}

// Is reports whether e belongs to target, one of the package's sentinels.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrMisconfigured, ErrTransient, ErrRefused:
		return e.kind() == target
	}
	return e.Code != "" && errCodeSentinels[e.Code] == target
}

func (e *APIError) kind() error {
	switch {
	case e.Code == "" && (e.HTTPStatus >= 500 || e.HTTPStatus == http.StatusTooManyRequests):
		return ErrTransient
	case e.Code == "":
		return ErrMisconfigured
	case errMisconfiguredCodes[e.Code]:
		return ErrMisconfigured
	case errTransientCodes[e.Code]:
		return ErrTransient
	}
	return ErrRefused
}

// RateLimitError means the client-wide rate limit could not give this call a
// turn before its context's deadline. Nothing was sent.
type RateLimitError struct {
	RetryAfter time.Duration // when a turn would have come
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("yibeidiao: rate limited: next turn in %v is past the deadline", e.RetryAfter.Round(time.Millisecond))
}

func (e *RateLimitError) Unwrap() error { return ErrRateLimited }

// transientError marks a network-level failure as [ErrTransient].
type transientError struct{ err error }

func (e transientError) Error() string   { return e.err.Error() }
func (e transientError) Unwrap() []error { return []error{e.err, ErrTransient} }

// urlPattern finds links in vendor text, which must never reach an error
// string: a report URL is a credential.
var urlPattern = regexp.MustCompile(`\S*://\S*`)

func redactLinks(s string) string { return urlPattern.ReplaceAllString(s, "[link removed]") }
