package bot

import (
	"fmt"
	"testing"
	"time"
)

// TestRedeliveryMemoryIsTrimmedByTime: after a flood, old entries go when
// their time is up, not only when new envelopes arrive.
func TestRedeliveryMemoryIsTrimmedByTime(t *testing.T) {
	t.Parallel()
	s := newSeenEnvelopes()
	t0 := time.Now()
	for i := range 5000 {
		s.remember(pendingAck{envelopeID: fmt.Sprint("env-", i), read: t0})
	}
	s.remember(pendingAck{envelopeID: "recent", read: t0.Add(5 * time.Minute)})
	s.trim(t0.Add(rememberFor))
	if len(s.byID) != 1 || len(s.order) != 1 || s.order[0].envelopeID != "recent" {
		t.Errorf("after trimming at 10 minutes: %d entries (%d in order), want only the recent one", len(s.byID), len(s.order))
	}
}
