package bot

import "encoding/json"

// decision is what the bot does with one request, as a value: the one ack
// the transport writes, then what follows it.
type decision struct {
	ack   json.RawMessage // the ack's body; nil for a bare ack
	share bool            // the ack carries the answer: kept for a redelivery on another replica
	then  followUp
	res   result // the answer: carried in the ack, delivered by the route, or asked of the vendor
	// turn: one of the person's turns was taken for it; given back if the
	// outcome refunds.
	turn     bool
	admitted bool // the allowlist admits the person: their own language may be looked up
}

// followUp is what follows a request's ack.
type followUp int

const (
	thenAudit  followUp = iota // the ack was the answer, or there is none: write the audit line
	thenAnswer                 // deliver the answer by the request's route, then audit
	thenFetch                  // ask the vendor, deliver its answer, then audit
	thenRepeat                 // a delivery served before: acked as it was, nothing more
	thenRead                   // read the request's message, then as what it asks for
)

func (t followUp) String() string {
	return [...]string{"audit", "answer", "fetch", "repeat", "read"}[t]
}
