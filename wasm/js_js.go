//go:build js && wasm

package main

import (
	"errors"

	"github.com/hack-pad/safejs"
)

// This file holds the few helpers every other file uses to talk to
// JavaScript through safejs. Nothing here panics: a JS exception becomes an
// error, and a panic in a callback is recovered and reported.

// jsReader reads fields of JS objects and keeps the first error, so a caller
// can read many fields and check once.
type jsReader struct{ err error }

func (r *jsReader) get(v safejs.Value, key string) safejs.Value {
	if r.err != nil {
		return safejs.Undefined()
	}
	out, err := v.Get(key)
	if err != nil {
		r.err = errors.New("read " + key + ": " + err.Error())
		return safejs.Undefined()
	}
	return out
}

func (r *jsReader) str(v safejs.Value, key string) string {
	f := r.get(v, key)
	if r.err != nil || f.IsUndefined() || f.IsNull() {
		return ""
	}
	s, err := f.String()
	if err != nil {
		r.err = errors.New("read " + key + ": " + err.Error())
	}
	return s
}

func (r *jsReader) bool(v safejs.Value, key string) bool {
	f := r.get(v, key)
	if r.err != nil || f.IsUndefined() || f.IsNull() {
		return false
	}
	b, err := f.Truthy()
	if err != nil {
		r.err = err
	}
	return b
}

func (r *jsReader) int(v safejs.Value, key string) int {
	f := r.get(v, key)
	if r.err != nil || f.IsUndefined() || f.IsNull() {
		return 0
	}
	n, err := f.Int()
	if err != nil {
		r.err = errors.New("read " + key + ": " + err.Error())
	}
	return n
}

// list returns the elements of the array (or array-like) at key.
func (r *jsReader) list(v safejs.Value, key string) []safejs.Value {
	f := v
	if key != "" {
		f = r.get(v, key)
	}
	if r.err != nil || f.IsUndefined() || f.IsNull() {
		return nil
	}
	n, err := f.Length()
	if err != nil {
		r.err = errors.New("read " + key + ": " + err.Error())
		return nil
	}
	out := make([]safejs.Value, 0, n)
	for i := 0; i < n; i++ {
		e, err := f.Index(i)
		if err != nil {
			r.err = err
			return nil
		}
		out = append(out, e)
	}
	return out
}

// global returns globalThis[name].
func global(name string) (safejs.Value, error) { return safejs.Global().Get(name) }

// call calls globalThis[obj][method](args...).
func call(obj, method string, args ...any) (safejs.Value, error) {
	o, err := global(obj)
	if err != nil {
		return safejs.Undefined(), err
	}
	return o.Call(method, args...)
}

// callback wraps fn as a JS function that never lets a panic escape into
// JavaScript: a panic is logged to the console and the callback returns
// undefined. fn must not block (the Go runtime would deadlock): start a
// goroutine for anything that waits.
func callback(name string, fn func(this safejs.Value, args []safejs.Value) any) (safejs.Func, error) {
	return safejs.FuncOf(func(this safejs.Value, args []safejs.Value) (out any) {
		defer func() {
			if p := recover(); p != nil {
				consoleError("consent: " + name + ": internal error: " + panicText(p))
				out = nil
			}
		}()
		return fn(this, args)
	})
}

// await waits for a JS promise. It must be called from a goroutine, never
// from inside a JS callback.
func await(p safejs.Value) (safejs.Value, error) {
	type result struct {
		v   safejs.Value
		err error
	}
	ch := make(chan result, 1)
	onValue, err := callback("await", func(_ safejs.Value, args []safejs.Value) any {
		v := safejs.Undefined()
		if len(args) > 0 {
			v = args[0]
		}
		ch <- result{v: v}
		return nil
	})
	if err != nil {
		return safejs.Undefined(), err
	}
	defer onValue.Release()
	onError, err := callback("await", func(_ safejs.Value, args []safejs.Value) any {
		msg := "promise rejected"
		if len(args) > 0 {
			msg = jsString(args[0])
		}
		ch <- result{err: errors.New(msg)}
		return nil
	})
	if err != nil {
		return safejs.Undefined(), err
	}
	defer onError.Release()
	if _, err := p.Call("then", onValue, onError); err != nil {
		return safejs.Undefined(), err
	}
	r := <-ch
	return r.v, r.err
}

// promise returns a JS promise settled by fn, which runs in a goroutine: its
// value resolves the promise, its error rejects it with an Error.
func promise(fn func() (any, error)) (safejs.Value, error) {
	var resolve, reject safejs.Value
	executor, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		resolve, reject = args[0], args[1]
		return nil
	})
	if err != nil {
		return safejs.Undefined(), err
	}
	defer executor.Release()
	ctor, err := global("Promise")
	if err != nil {
		return safejs.Undefined(), err
	}
	p, err := ctor.New(executor)
	if err != nil {
		return safejs.Undefined(), err
	}
	go func() {
		defer func() {
			if r := recover(); r != nil {
				rejectWith(reject, "consent: internal error: "+panicText(r))
			}
		}()
		v, err := fn()
		if err != nil {
			rejectWith(reject, err.Error())
			return
		}
		resolve.Invoke(v)
	}()
	return p, nil
}

func rejectWith(reject safejs.Value, msg string) {
	ctor, err := global("Error")
	if err != nil {
		return
	}
	e, err := ctor.New(msg)
	if err != nil {
		return
	}
	reject.Invoke(e)
}

// jsString describes any JS value, as String(v) would.
func jsString(v safejs.Value) string {
	s, err := call("String", "call", safejs.Undefined(), v)
	if err != nil {
		return "(unprintable value)"
	}
	out, _ := s.String()
	return out
}

// strings converts a Go string slice to a JS array value.
func jsStrings(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// must drops the error of a call whose failure leaves v undefined, which
// the caller's next use handles (a jsReader or a Call returns an error).
func must(v safejs.Value, _ error) safejs.Value { return v }

// newID returns 128 random bits from crypto.getRandomValues, base64url: a
// consent or receipt id. (crypto/rand would do the same at a higher cost in
// module size.) It panics if the browser has no crypto.getRandomValues, which
// every browser able to run the module has; callers run under a recover.
func newID() string {
	ctor, err := global("Uint8Array")
	if err != nil {
		panic(err)
	}
	arr, err := ctor.New(16)
	if err != nil {
		panic(err)
	}
	if _, err := call("crypto", "getRandomValues", arr); err != nil {
		panic(err)
	}
	var b [16]byte
	if _, err := safejs.CopyBytesToGo(b[:], arr); err != nil {
		panic(err)
	}
	return base64URL(b[:])
}

// base64URL encodes b as base64url without padding (encoding/base64 would
// cost the module more than these lines).
func base64URL(b []byte) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	out := make([]byte, 0, (len(b)*8+5)/6)
	var acc uint
	bits := 0
	for _, c := range b {
		acc = acc<<8 | uint(c)
		bits += 8
		for bits >= 6 {
			bits -= 6
			out = append(out, alphabet[acc>>uint(bits)&63])
		}
	}
	if bits > 0 {
		out = append(out, alphabet[acc<<uint(6-bits)&63])
	}
	return string(out)
}

// panicText describes a recovered panic (fmt would cost every visitor its
// size in the module).
func panicText(p any) string {
	switch p := p.(type) {
	case error:
		return p.Error()
	case string:
		return p
	}
	return "unknown panic"
}
