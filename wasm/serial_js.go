//go:build js && wasm

package main

import (
	"fmt"
	"sync"
)

// serial runs the module's actions one at a time, in the order they arrived,
// each to its end (promises it awaits included) before the next starts: no
// two state changes interleave. Clicks and API calls enter through it.
//
// enqueue never blocks, so it is safe inside a JS callback. An action must
// not wait for another action (it would wait forever).
type serial struct {
	mu      sync.Mutex
	more    *sync.Cond
	queue   []func()
	started bool
}

// enqueue adds fn to the queue; it runs after every action enqueued before it.
func (s *serial) enqueue(fn func()) {
	s.mu.Lock()
	if s.more == nil {
		s.more = sync.NewCond(&s.mu)
	}
	s.queue = append(s.queue, fn)
	s.more.Signal()
	s.mu.Unlock()
}

// do runs fn through the queue and returns its result: call it from a
// goroutine, never from a JS callback or from an action.
func (s *serial) do(fn func() (any, error)) (any, error) {
	type result struct {
		v   any
		err error
	}
	done := make(chan result, 1)
	s.enqueue(func() {
		v, err := fn()
		done <- result{v, err}
	})
	r := <-done
	return r.v, r.err
}

// run starts running the queued actions, in a goroutine of its own. Actions
// enqueued before it wait: the module starts before it takes any.
func (s *serial) run() {
	s.mu.Lock()
	if s.more == nil {
		s.more = sync.NewCond(&s.mu)
	}
	if s.started {
		s.mu.Unlock()
		return
	}
	s.started = true
	s.mu.Unlock()
	go func() {
		s.mu.Lock()
		for {
			for len(s.queue) == 0 {
				s.more.Wait()
			}
			fn := s.queue[0]
			s.queue[0] = nil
			s.queue = s.queue[1:]
			s.mu.Unlock()
			runAction(fn)
			s.mu.Lock()
		}
	}()
}

// runAction runs fn, reporting a panic in the console instead of stopping
// the queue.
func runAction(fn func()) {
	defer func() {
		if r := recover(); r != nil {
			consoleError(fmt.Sprintf("consent: internal error: %v", r))
		}
	}()
	fn()
}
