//go:build js && wasm

package main

import (
	"errors"
	"runtime"
	"slices"
	"testing"
)

// Actions run in the order they were enqueued, each to its end before the
// next starts, even when one yields to other goroutines midway; one that
// panics does not stop the rest.
func TestSerialRunsOneAtATimeInOrder(t *testing.T) {
	var s serial
	var log []string
	running := 0
	step := func(name string) func() {
		return func() {
			running++
			if running > 1 {
				t.Errorf("%s started while another action ran", name)
			}
			log = append(log, name+" start")
			for i := 0; i < 3; i++ {
				runtime.Gosched() // as an await would
			}
			log = append(log, name+" end")
			running--
		}
	}
	s.enqueue(step("a")) // before run: waits for it
	s.enqueue(func() { panic("boom") })
	s.enqueue(step("b"))
	s.run()
	v, err := s.do(func() (any, error) { return "c", errors.New("c failed") })
	if v != "c" || err == nil || err.Error() != "c failed" {
		t.Errorf("do returned %v, %v", v, err)
	}
	want := []string{"a start", "a end", "b start", "b end"}
	if !slices.Equal(log, want) {
		t.Errorf("ran %v, want %v", log, want)
	}
}
