package yibeidiao

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/hr-tools/tempreport/internal/cleantext"
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
)

// vendorCodes is the one table of the vendor's documented codes: for each,
// the sentinel it matches and its kind. Every other code is a business
// refusal ([KindRefused]): record not found, not in progress, no finished
// item; the vendor documents none of them.
var vendorCodes = map[string]struct {
	sentinel error
	kind     Kind
}{
	"900": {ErrVendorInternal, KindTransient},
	"901": {ErrSignatureRejected, KindMisconfigured},
	"902": {ErrSeqReused, KindTransient},
	"903": {ErrClockSkew, KindMisconfigured},
	"904": {ErrBadAuthHeaders, KindMisconfigured},
	"905": {ErrUnknownEnterprise, KindMisconfigured},
	"906": {ErrEnterpriseDisabled, KindMisconfigured},
}

// DocumentedCodes lists the vendor's documented failure codes, in order.
func DocumentedCodes() []string {
	codes := make([]string, 0, len(vendorCodes))
	for c := range vendorCodes {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	return codes
}

// Kind is what a failure means to whoever acts on it: the package's one
// classification of failure. [KindOf] gives the kind of any error from a
// [Client], exactly one; a caller handles each kind in one switch (the
// person's words, the operator's hint, a metric label), and reaches the
// details (a code, a host) through the typed errors: [*APIError],
// [*RedirectError], [*UntrustedLinkError], [*RateLimitError],
// [*NetworkError]. The client retries [KindTransient] and [KindTimeout] only.
type Kind string

// The kinds of failure.
const (
	// KindNone: not a failure the client classified (nil, or the context's
	// own error while waiting).
	KindNone Kind = ""
	// KindMisconfigured: the bot's setup is wrong and a person must fix it:
	// key or token (901, 904, 905), the account (906), the clock (903), or
	// a base URL that answers 4xx or redirects ([*RedirectError]).
	KindMisconfigured Kind = "misconfigured"
	// KindTransient: trying again later may work: 900, 902, network errors,
	// HTTP 5xx and 429.
	KindTransient Kind = "transient"
	// KindTimeout: the vendor did not answer within one attempt's timeout
	// ([WithTimeout]). Retried like KindTransient.
	KindTimeout Kind = "timeout"
	// KindRefused: the vendor understood and said no, for a business reason.
	KindRefused Kind = "refused"
	// KindBusy: the client-wide rate limit had no turn before the deadline;
	// nothing was sent.
	KindBusy Kind = "busy"
	// KindBadResponse: the answer was not the vendor's envelope, or a
	// success without a usable link.
	KindBadResponse Kind = "bad_response"
	// KindBadSignature: the answer's signature did not verify.
	KindBadSignature Kind = "bad_signature"
	// KindUntrustedLink: a success whose link is not https on a trusted host.
	KindUntrustedLink Kind = "untrusted_link"
)

// KindOf classifies an error from a [Client]: KindNone for nil and for
// errors the client did not classify (the context's own, while waiting for
// a turn).
func KindOf(err error) Kind {
	switch {
	case err == nil:
		return KindNone
	case errors.Is(err, ErrRateLimited):
		return KindBusy
	case errors.Is(err, errRedirect):
		return KindMisconfigured // the base URL needs fixing: a *RedirectError says where it points
	case errors.Is(err, ErrUntrustedLink):
		return KindUntrustedLink
	case errors.Is(err, ErrBadResponseSignature):
		return KindBadSignature
	case errors.Is(err, ErrBadResponse):
		return KindBadResponse
	}
	if apiErr, ok := errors.AsType[*APIError](err); ok {
		return apiErr.kind()
	}
	if _, ok := errors.AsType[*NetworkError](err); ok {
		if isTimeout(err) {
			return KindTimeout
		}
		return KindTransient
	}
	return KindNone
}

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
// server. Its kind is [KindMisconfigured]: the base URL needs fixing.
type RedirectError struct {
	HTTPStatus int
	Scheme     string // of the Location, empty if none
	Host       string // of the Location, empty if none
	Seq        string
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("yibeidiao: http %d redirect to %s://%s not followed (seq %s)", e.HTTPStatus, e.Scheme, e.Host, e.Seq)
}

func (e *RedirectError) Unwrap() error { return errRedirect }

// errRedirect is what a [*RedirectError] unwraps to, for [KindOf].
var errRedirect = errors.New("yibeidiao: redirect")

// ErrRateLimited is matched by a [*RateLimitError].
var ErrRateLimited = errors.New("yibeidiao: rate limited")

// APIError is a failure the vendor reported: a code other than "000", or an
// HTTP status outside 2xx (then Code is empty). It matches, with errors.Is,
// the sentinel of its code if it has one ([ErrClockSkew] for 903…); its
// kind comes from the same table.
type APIError struct {
	Code string // vendor code, e.g. "901"; empty for an HTTP-level failure
	// Message is the vendor's msg as text, cleaned of control and invisible
	// characters. It may contain links, and it is only the vendor's own
	// word if Verified: show it to a person only then, never log it as it
	// is (Error removes links).
	Message string
	// Verified means the answer carried the vendor's signature and it
	// matched (or verification is off, see [WithoutResponseVerification]).
	// The vendor leaves failures of its pre-checks unsigned, so an
	// unverified failure may be the vendor's, or anyone's on the way.
	Verified   bool
	HTTPStatus int
	Seq        string // the request's seq, for the audit log and the vendor's support
}

func (e *APIError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("yibeidiao: http status %d (seq %s)", e.HTTPStatus, e.Seq)
	}
	return fmt.Sprintf("yibeidiao: vendor code %s: %s (http %d, seq %s)", e.Code, redactLinks(e.Message), e.HTTPStatus, e.Seq)
}

// Is reports whether target is the sentinel of e's code.
func (e *APIError) Is(target error) bool {
	return e.Code != "" && vendorCodes[e.Code].sentinel == target
}

func (e *APIError) kind() Kind {
	switch {
	case e.Code == "" && (e.HTTPStatus >= 500 || e.HTTPStatus == http.StatusTooManyRequests):
		return KindTransient
	case e.Code == "":
		return KindMisconfigured
	case vendorCodes[e.Code].kind != KindNone:
		return vendorCodes[e.Code].kind
	}
	return KindRefused
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

// NetworkError is a failure to reach the vendor or to read its answer: a
// refused connection, a timeout of one attempt, a reset. Its kind is
// [KindTransient]. Its message names the call, never the URL (the query
// names a record).
type NetworkError struct {
	Op  string // the API path called
	Err error
}

func (e *NetworkError) Error() string { return fmt.Sprintf("yibeidiao: %s: %v", e.Op, e.Err) }
func (e *NetworkError) Unwrap() error { return e.Err }

// redactLinks removes links from vendor text, which must never reach an
// error string: a report URL is a credential.
func redactLinks(s string) string { return cleantext.ReplaceLinks(s, "[link removed]") }
