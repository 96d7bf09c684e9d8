package mail

import (
	"context"
	"errors"
	"strings"
	"sync"
)

// Slots caps the sends in flight from one sender mailbox: Graph allows
// four concurrent requests per mailbox and answers a fifth with 429
// MailboxConcurrency. Waiters are served first come, first served, and
// give up when their context ends.
//
// The provider that talks to the mailbox owns its Slots (see Limited),
// so there is one per mailbox and process, whoever sends: the job queue
// takes a slot from the provider's Slots before it checks pauses and
// budgets, and a Send made under that held slot (WithHeld) takes no
// second one. Other processes (replicas) are not counted; their 429s are
// retried like any throttling.
type Slots struct {
	// free holds one token per slot not in use; a buffered channel is a
	// FIFO for its blocked receivers, which is the fairness wanted here.
	free chan struct{}
}

// NewSlots returns n free slots (at least one).
func NewSlots(n int) *Slots {
	s := &Slots{free: make(chan struct{}, max(n, 1))}
	for range cap(s.free) {
		s.free <- struct{}{}
	}
	return s
}

// Cap is the number of slots.
func (s *Slots) Cap() int { return cap(s.free) }

// Acquire takes a slot, or returns ctx's error when ctx ends first.
func (s *Slots) Acquire(ctx context.Context) error {
	select {
	case <-s.free:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// AcquireUnless is Acquire that also gives up, with ErrStopped, once stop
// is closed, and does not take a slot when it already is.
func (s *Slots) AcquireUnless(ctx context.Context, stop <-chan struct{}) error {
	select {
	case <-stop:
		return ErrStopped
	default:
	}
	select {
	case <-s.free:
		return nil
	case <-stop:
		return ErrStopped
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ErrStopped is AcquireUnless's answer once its stop channel is closed.
var ErrStopped = errors.New("stopped while waiting for a mailbox send slot")

// Release hands back a slot taken by Acquire.
func (s *Slots) Release() { s.free <- struct{}{} }

type heldKey struct{ s *Slots }

// WithHeld returns ctx marked as holding one of s's slots, for a Send
// made by the holder: the provider owning s then takes no second slot
// for it (which could deadlock once every slot is held that way).
func (s *Slots) WithHeld(ctx context.Context) context.Context {
	return context.WithValue(ctx, heldKey{s}, true)
}

// Held reports whether ctx carries a slot of s (WithHeld).
func (s *Slots) Held(ctx context.Context) bool {
	held, _ := ctx.Value(heldKey{s}).(bool)
	return held
}

// MailboxSlots holds the Slots of each sender mailbox (GRAPH_MAIL_SENDER
// and the sites' own senders): Graph's limit belongs to each mailbox, so
// every sender gets its own n.
type MailboxSlots struct {
	n  int
	mu sync.Mutex
	m  map[string]*Slots
}

// NewMailboxSlots returns an empty set whose mailboxes get n slots each.
func NewMailboxSlots(n int) *MailboxSlots {
	return &MailboxSlots{n: max(n, 1), m: map[string]*Slots{}}
}

// For returns sender's slots, made on first use. Addresses are compared
// without case, as Exchange does.
func (ms *MailboxSlots) For(sender string) *Slots {
	key := strings.ToLower(sender)
	ms.mu.Lock()
	defer ms.mu.Unlock()
	s, ok := ms.m[key]
	if !ok {
		s = NewSlots(ms.n)
		ms.m[key] = s
	}
	return s
}

// Limited is a Provider that owns its mailboxes' send slots. A caller
// that must hold a slot across more than the Send itself (the job queue:
// a throttling answer pauses the mailbox before the slot is handed on)
// takes it from SendSlots and sends with Slots.WithHeld.
type Limited interface {
	Provider
	SendSlots(sender string) *Slots
}
