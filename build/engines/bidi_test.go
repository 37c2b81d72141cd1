package engines

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// firefox is Firefox (Debian's firefox-esr) headless, driven over WebDriver
// BiDi, the protocol its remote agent speaks on a WebSocket. Each firefox is
// a new process with a new profile; prefs are written into that profile's
// user.js before it starts.
type firefox struct {
	cmd     *exec.Cmd
	profile string
	conn    *websocket.Conn
	context string // the top-level browsing context (the tab)

	mu      sync.Mutex
	next    int
	waiting map[int]chan bidiAnswer
	logged  []string // console errors and uncaught exceptions
	closed  error    // why the connection ended
}

type bidiAnswer struct {
	Result json.RawMessage
	Error  string
	Msg    string `json:"message"`
}

func startFirefox(prefs map[string]any) (*firefox, error) {
	if _, err := exec.LookPath("firefox-esr"); err != nil {
		return nil, fmt.Errorf("firefox-esr not found; install it with: apt-get install -y firefox-esr (go run ./build test does)")
	}
	profile, err := os.MkdirTemp("", "consent-firefox-")
	if err != nil {
		return nil, err
	}
	f := &firefox{profile: profile, waiting: map[int]chan bidiAnswer{}}
	var userJS strings.Builder
	for k, v := range prefs {
		b, _ := json.Marshal(v)
		fmt.Fprintf(&userJS, "user_pref(%q, %s);\n", k, b)
	}
	if err := os.WriteFile(filepath.Join(profile, "user.js"), []byte(userJS.String()), 0o644); err != nil {
		f.close()
		return nil, err
	}
	f.cmd = exec.Command("firefox-esr", "--headless", "--no-remote", "--profile", profile, "--remote-debugging-port=0", "about:blank")
	// Firefox prints where its remote agent listens on stderr.
	stderr, err := f.cmd.StderrPipe()
	if err != nil {
		f.close()
		return nil, err
	}
	if err := f.cmd.Start(); err != nil {
		f.close()
		return nil, fmt.Errorf("start firefox-esr: %w", err)
	}
	found := make(chan string, 1)
	go func() {
		lines := bufio.NewScanner(stderr)
		for lines.Scan() {
			if _, url, ok := strings.Cut(lines.Text(), "WebDriver BiDi listening on "); ok {
				found <- strings.TrimSpace(url)
				break
			}
		}
		for lines.Scan() { // keep draining so Firefox never blocks on its log
		}
	}()
	var url string
	select {
	case url = <-found:
	case <-time.After(60 * time.Second):
		f.close()
		return nil, fmt.Errorf("firefox-esr did not start its WebDriver BiDi agent within 60s")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, url+"/session", nil)
	if err != nil {
		f.close()
		return nil, fmt.Errorf("connect to Firefox's BiDi agent at %s: %w", url, err)
	}
	conn.SetReadLimit(64 << 20) // screenshots
	f.conn = conn
	go f.read()
	if err := f.call("session.new", map[string]any{"capabilities": map[string]any{}}, nil); err != nil {
		f.close()
		return nil, err
	}
	if err := f.call("session.subscribe", map[string]any{"events": []string{"log.entryAdded"}}, nil); err != nil {
		f.close()
		return nil, err
	}
	var tree struct{ Contexts []struct{ Context string } }
	if err := f.call("browsingContext.getTree", map[string]any{"maxDepth": 0}, &tree); err != nil || len(tree.Contexts) == 0 {
		f.close()
		return nil, fmt.Errorf("find Firefox's tab: %v (%d tabs)", err, len(tree.Contexts))
	}
	f.context = tree.Contexts[0].Context
	if err := f.call("browsingContext.setViewport", map[string]any{"context": f.context,
		"viewport": map[string]int{"width": viewportWidth, "height": viewportHeight}}, nil); err != nil {
		f.close()
		return nil, err
	}
	return f, nil
}

// read delivers answers to their commands and keeps the log's errors.
func (f *firefox) read() {
	for {
		_, data, err := f.conn.Read(context.Background())
		if err != nil {
			f.mu.Lock()
			f.closed = err
			for id, ch := range f.waiting {
				ch <- bidiAnswer{Error: "connection closed", Msg: err.Error()}
				delete(f.waiting, id)
			}
			f.mu.Unlock()
			return
		}
		var msg struct {
			ID     *int
			Method string
			Params struct {
				Level, Text, Type string
			}
			bidiAnswer
		}
		if err := json.Unmarshal(data, &msg); err != nil {
			continue
		}
		f.mu.Lock()
		switch {
		case msg.ID != nil:
			if ch, ok := f.waiting[*msg.ID]; ok {
				ch <- msg.bidiAnswer
				delete(f.waiting, *msg.ID)
			}
		case msg.Method == "log.entryAdded" && msg.Params.Level == "error":
			f.logged = append(f.logged, msg.Params.Type+": "+msg.Params.Text)
		}
		f.mu.Unlock()
	}
}

// call sends one command and decodes its result into out.
func (f *firefox) call(method string, params, out any) error {
	f.mu.Lock()
	if f.closed != nil {
		f.mu.Unlock()
		return fmt.Errorf("%s: the BiDi connection is closed: %w", method, f.closed)
	}
	f.next++
	id := f.next
	ch := make(chan bidiAnswer, 1)
	f.waiting[id] = ch
	f.mu.Unlock()
	b, err := json.Marshal(map[string]any{"id": id, "method": method, "params": params})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := f.conn.Write(ctx, websocket.MessageText, b); err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	select {
	case a := <-ch:
		if a.Error != "" {
			return fmt.Errorf("%s: %s: %s", method, a.Error, a.Msg)
		}
		if out == nil {
			return nil
		}
		return json.Unmarshal(a.Result, out)
	case <-ctx.Done():
		return fmt.Errorf("%s: no answer within 60s", method)
	}
}

func (f *firefox) name() string { return "Firefox" }

func (f *firefox) open(url string) error {
	return f.call("browsingContext.navigate", map[string]any{"context": f.context, "url": url, "wait": "complete"}, nil)
}

// evaluate runs expr in the page, awaiting a promise, and returns BiDi's
// serialisation of its value.
func (f *firefox) evaluate(expr string) (json.RawMessage, error) {
	var res struct {
		Type             string
		Result           json.RawMessage
		ExceptionDetails struct{ Text string }
	}
	if err := f.call("script.evaluate", map[string]any{"expression": expr, "target": map[string]string{"context": f.context},
		"awaitPromise": true, "resultOwnership": "none"}, &res); err != nil {
		return nil, err
	}
	if res.Type == "exception" {
		return nil, fmt.Errorf("%s", res.ExceptionDetails.Text)
	}
	return res.Result, nil
}

func (f *firefox) eval(expr string, out any) error {
	raw, err := f.evaluate(`(async () => JSON.stringify(await (` + expr + `)))()`)
	if err != nil {
		return err
	}
	var v struct{ Type, Value string }
	if err := json.Unmarshal(raw, &v); err != nil {
		return err
	}
	if out == nil || v.Type != "string" {
		return nil
	}
	return json.Unmarshal([]byte(v.Value), out)
}

// click scrolls the element into view and clicks its centre with the mouse
// (input.performActions: trusted events, as a person's click).
func (f *firefox) click(css string) error {
	q, _ := json.Marshal(css)
	raw, err := f.evaluate(`(() => { const e = document.querySelector(` + string(q) + `); e && e.scrollIntoView({block: "center", behavior: "instant"}); return e; })()`)
	if err != nil {
		return err
	}
	var node struct{ Type, SharedID string }
	if err := json.Unmarshal(raw, &node); err != nil || node.Type != "node" {
		return fmt.Errorf("no element %s", css)
	}
	return f.call("input.performActions", map[string]any{"context": f.context, "actions": []any{map[string]any{
		"type": "pointer", "id": "mouse", "parameters": map[string]string{"pointerType": "mouse"},
		"actions": []any{
			map[string]any{"type": "pointerMove", "x": 0, "y": 0, "origin": map[string]any{"type": "element", "element": map[string]string{"sharedId": node.SharedID}}},
			map[string]any{"type": "pointerDown", "button": 0},
			map[string]any{"type": "pointerUp", "button": 0},
		},
	}}}, nil)
}

func (f *firefox) screenshot() ([]byte, error) {
	var res struct{ Data string }
	if err := f.call("browsingContext.captureScreenshot", map[string]any{"context": f.context}, &res); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(res.Data)
}

func (f *firefox) problems() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.logged...)
}

func (f *firefox) close() {
	if f.conn != nil {
		f.call("browser.close", map[string]any{}, nil)
		f.conn.CloseNow()
	}
	stop(f.cmd)
	os.RemoveAll(f.profile)
}
