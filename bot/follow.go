package bot

import "sync"

// followUps counts the work that follows acks (vendor calls, answers,
// turns given back), so that a shutdown can wait for it. Unlike a
// sync.WaitGroup, work may start while someone waits: requests keep
// arriving during a drain. It is safe for concurrent use; make one with
// newFollowUps.
type followUps struct {
	mu   sync.Mutex
	n    int
	idle *sync.Cond
}

func newFollowUps() *followUps {
	f := &followUps{}
	f.idle = sync.NewCond(&f.mu)
	return f
}

// Go runs work in a goroutine of its own, counted until it returns.
func (f *followUps) Go(work func()) {
	f.mu.Lock()
	f.n++
	f.mu.Unlock()
	go func() {
		defer f.done()
		work()
	}()
}

func (f *followUps) done() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n--; f.n == 0 {
		f.idle.Broadcast()
	}
}

// Wait waits until no work is under way.
func (f *followUps) Wait() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for f.n > 0 {
		f.idle.Wait()
	}
}
