package bot

import (
	"time"

	"golang.org/x/time/rate"
)

// The defaults of [Config]: a zero setting takes its default here, in
// [Config.WithDefaults], and nowhere else.
const (
	DefaultAPIURL  = "https://slack.com/api/"
	DefaultCommand = "/tempreport"
	// DefaultGroupRefresh: usergroups.users.list is a tier 2 method (20 a
	// minute); one read per group every few minutes keeps a new HR hire
	// waiting minutes, not hours.
	DefaultGroupRefresh = 5 * time.Minute
	// DefaultGroupMaxStale is three missed reads: one failed read is
	// noise, three are an outage.
	DefaultGroupMaxStale = 15 * time.Minute
	// DefaultUserRate and DefaultUserBurst let a person open ten reports at
	// once (a shortlist) and then one every three seconds.
	DefaultUserRate  = rate.Limit(20.0 / 60)
	DefaultUserBurst = 10
	// DefaultCommandTimeout bounds a command's wait for the shared vendor
	// budget and its vendor call, retries included: past it the person has
	// given up looking.
	DefaultCommandTimeout = 30 * time.Second
	// DefaultDrainTimeout fits in Kubernetes' default 30 s grace period
	// with room for the answers to go out.
	DefaultDrainTimeout = 5 * time.Second
	// DefaultMaxInFlight bounds the goroutines (and memory) commands
	// waiting on the vendor can hold.
	DefaultMaxInFlight = 1000
	// DefaultLanguage is the language of a bot given none.
	DefaultLanguage = "en"
)

// Timings the bot keeps to itself, each with its reason.
const (
	// ackTimeout bounds the writing of one batch of acks: Slack shows the
	// person operation_timeout after 3 s anyway, then redelivers.
	ackTimeout = 3 * time.Second
	// answerTimeout bounds the delivery of one answer, both tries: an
	// answer must go out even when the work context is cancelled, but not
	// hold a shutdown.
	answerTimeout = 3 * time.Second
	// retryDelay is the pause before the second and last try of a post to
	// Slack: long enough for a dropped connection to be redialled.
	retryDelay = 500 * time.Millisecond
	// maxPosts bounds the answers being posted at once, and the
	// connections kept open to Slack for them.
	maxPosts = 64
	// postClientTimeout bounds one HTTP exchange with Slack's Web API or a
	// response URL, when the caller gives no HTTP client.
	postClientTimeout = 10 * time.Second
	// groupReadTimeout bounds one read of every allowed user group.
	groupReadTimeout = 30 * time.Second
	// trimEvery is how often old redelivery memory is dropped, flood or
	// not.
	trimEvery = time.Minute
	// maxReads bounds the messages being read at once (each read copies up
	// to recordno.MaxBytes of text): a few keep two cores busy, more would
	// only hold memory.
	maxReads = 4
)

// Redelivery memory: how long, and within how many bytes, the bot
// remembers deliveries to recognise one sent again. Slack redelivers
// within minutes; replicas keep a claim in Redis just as long (package
// replicas reads RememberFor). An entry costs its key (at most
// [maxKeyBytes]+7 bytes), its first ack's body and a fixed overhead; past
// the cap the oldest go first, so a flood costs at most rememberBytes, and
// a redelivery of one forgotten that way is served again.
const (
	RememberFor   = 10 * time.Minute
	rememberBytes = 4 << 20
	entryOverhead = 160 // the entry, its map slot and its place in the order
)

// Each person's language, with LanguageAuto (see [locales]).
const (
	// localeTTL: people rarely change their Slack language; a few hours
	// keeps users.info calls to a few a day per person.
	localeTTL = 6 * time.Hour
	// localeFailTTL keeps a failing Slack from being asked again on every
	// message, and retries within a minute.
	localeFailTTL = time.Minute
	// localeWait is the longest an answer waits for a person's language:
	// the vendor call it follows takes longer, so it is rarely felt.
	localeWait = 500 * time.Millisecond
	// localeTimeout bounds one users.info call (tier 4: fast when healthy).
	localeTimeout = 5 * time.Second
	// localePeople bounds the cache: only people the allowlist admits are
	// looked up, and few teams have more.
	localePeople = 10_000
	// localeLookups bounds users.info calls at once.
	localeLookups = 16
)
