package bot

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestRedeliveryMemoryIsTrimmedByTime: after a flood, old entries go when
// their time is up, not only when new envelopes arrive.
func TestRedeliveryMemoryIsTrimmedByTime(t *testing.T) {
	t.Parallel()
	s := newSeenDeliveries()
	t0 := time.Now()
	for i := range 5000 {
		s.remember(&request{key: fmt.Sprint("env-", i), received: t0})
	}
	s.remember(&request{key: "recent", received: t0.Add(5 * time.Minute)})
	s.trim(t0.Add(RememberFor))
	if len(s.byKey) != 1 || len(s.order) != 1 || s.order[0].key != "recent" {
		t.Errorf("after trimming at 10 minutes: %d entries (%d in order), want only the recent one", len(s.byKey), len(s.order))
	}
}

// TestRedeliveryMemoryIsBoundedByBytes: 25,000 envelopes with 10 KB IDs,
// each acked with an answer, cost the memory no more than its cap, and the
// most recent are still recognised.
func TestRedeliveryMemoryIsBoundedByBytes(t *testing.T) {
	t.Parallel()
	s := newSeenDeliveries()
	t0 := time.Now()
	answer := []byte(`{"response_type":"ephemeral","text":"` + strings.Repeat("x", 1000) + `"}`)
	for i := range 25000 {
		id := fmt.Sprintf("%010d", i) + strings.Repeat("i", 10<<10)
		env := &request{key: keyOf(id), user: "U0STRANGER", received: t0}
		if !s.remember(env) {
			t.Fatalf("envelope %d was taken for a redelivery", i)
		}
		s.recordAck(env.key, answer)
		if s.bytes > rememberBytes+entryOverhead+len(answer)+maxKeyBytes+100 {
			t.Fatalf("after %d envelopes the memory counts %d bytes, over its cap of %d", i+1, s.bytes, rememberBytes)
		}
	}
	last := fmt.Sprintf("%010d", 24999) + strings.Repeat("i", 10<<10)
	if s.remember(&request{key: keyOf(last), received: t0}) {
		t.Error("the last envelope is not recognised as read")
	}
	if got, ok := s.firstAck(keyOf(last)); !ok || string(got) != string(answer) {
		t.Errorf("the last envelope's first ack is %q, %v", got, ok)
	}
	for _, e := range s.order {
		if len(e.key) > 71 {
			t.Fatalf("an entry keeps a key of %d bytes", len(e.key))
		}
	}
}
