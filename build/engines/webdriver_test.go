package engines

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// webkit is WebKitGTK's MiniBrowser driven by WebKitWebDriver over classic
// W3C WebDriver (plain HTTP and JSON), on an X display of its own (Xvfb):
// WebKitGTK has no headless mode. Each webkit is a new MiniBrowser process
// in automation mode, whose website data is ephemeral: a fresh profile.
//
// Classic WebDriver reports no console messages, so problems are what a
// recorder installed after each navigation sees (console.error, uncaught
// errors and unhandled rejections from then on), not what the page logged
// while it loaded.
type webkit struct {
	xvfb, driver *exec.Cmd
	base         string // the session's URL
	client       *http.Client
	log          syncBuffer // what Xvfb, the driver and MiniBrowser print
}

func startWebKit() (*webkit, error) {
	for _, bin := range []string{"Xvfb", "WebKitWebDriver"} {
		if _, err := exec.LookPath(bin); err != nil {
			return nil, fmt.Errorf("%s not found; install it with: apt-get install -y xvfb webkit2gtk-driver (go run ./build test does)", bin)
		}
	}
	w := &webkit{client: &http.Client{Timeout: 60 * time.Second}}
	display, err := w.startXvfb()
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		w.close()
		return nil, err
	}
	w.driver = exec.Command("WebKitWebDriver", "--host=127.0.0.1", "--port="+strconv.Itoa(port))
	w.driver.Env = append(os.Environ(), "DISPLAY=:"+display)
	w.driver.Stdout, w.driver.Stderr = &w.log, &w.log
	if err := w.driver.Start(); err != nil {
		w.close()
		return nil, fmt.Errorf("start WebKitWebDriver: %w", err)
	}
	driver := "http://127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(20 * time.Second)
	for {
		var status struct{ Ready bool }
		if err := w.call("GET", driver+"/status", nil, &status); err == nil && status.Ready {
			break
		}
		if time.Now().After(deadline) {
			w.close()
			return nil, fmt.Errorf("WebKitWebDriver did not answer /status within 20s")
		}
		time.Sleep(50 * time.Millisecond) // polling the driver's status
	}
	var session struct{ SessionID string }
	if err := w.call("POST", driver+"/session", map[string]any{"capabilities": map[string]any{}}, &session); err != nil {
		w.close()
		return nil, fmt.Errorf("new WebKit session: %w\nXvfb, WebKitWebDriver and MiniBrowser said:\n%s", err, w.log.String())
	}
	w.base = driver + "/session/" + session.SessionID
	if err := w.sizeViewport(); err != nil {
		w.close()
		return nil, fmt.Errorf("size the window: %w", err)
	}
	return w, nil
}

// sizeViewport makes the viewport viewportWidth × viewportHeight: the
// window is that much larger than its viewport (MiniBrowser's own chrome).
func (w *webkit) sizeViewport() error {
	width, height := viewportWidth, viewportHeight
	for range 2 {
		if err := w.call("POST", w.base+"/window/rect", map[string]int{"width": width, "height": height}, nil); err != nil {
			return err
		}
		var inner [2]int
		if err := w.eval(`[innerWidth, innerHeight]`, &inner); err != nil {
			return err
		}
		width, height = width+viewportWidth-inner[0], height+viewportHeight-inner[1]
	}
	return nil
}

// startXvfb starts an X server on a display it picks itself and returns the
// display's number once the server accepts clients.
func (w *webkit) startXvfb() (string, error) {
	r, wr, err := os.Pipe()
	if err != nil {
		return "", err
	}
	defer r.Close()
	w.xvfb = exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1280x1024x24", "-nolisten", "tcp")
	w.xvfb.ExtraFiles = []*os.File{wr}
	w.xvfb.Stderr = &w.log
	err = w.xvfb.Start()
	wr.Close()
	if err != nil {
		return "", fmt.Errorf("start Xvfb: %w", err)
	}
	got := make(chan string, 1)
	go func() {
		// The number, then a newline, in two writes: closing the pipe
		// before the second would make Xvfb exit ("Cannot write display
		// number to fd 3").
		line, _ := bufio.NewReader(r).ReadString('\n')
		got <- strings.TrimSpace(line)
	}()
	select {
	case display := <-got:
		if display == "" {
			w.close()
			return "", fmt.Errorf("Xvfb exited without a display")
		}
		return display, nil
	case <-time.After(20 * time.Second):
		w.close()
		return "", fmt.Errorf("Xvfb did not report a display within 20s")
	}
}

func (w *webkit) name() string { return "WebKit" }

func (w *webkit) open(url string) error {
	if err := w.call("POST", w.base+"/url", map[string]string{"url": url}, nil); err != nil {
		return err
	}
	return w.call("POST", w.base+"/execute/sync", map[string]any{"script": errorRecorder, "args": []any{}}, nil)
}

func (w *webkit) eval(expr string, out any) error {
	script := `const done = arguments[0];
		(async () => JSON.stringify(await (` + expr + `)))().then(v => done({value: v === undefined ? null : v}), e => done({error: String(e && e.stack || e)}));`
	var res struct {
		Value *string
		Error string
	}
	if err := w.call("POST", w.base+"/execute/async", map[string]any{"script": script, "args": []any{}}, &res); err != nil {
		return err
	}
	if res.Error != "" {
		return fmt.Errorf("%s", res.Error)
	}
	if out == nil || res.Value == nil {
		return nil
	}
	return json.Unmarshal([]byte(*res.Value), out)
}

func (w *webkit) click(css string) error {
	var el map[string]string
	if err := w.call("POST", w.base+"/element", map[string]string{"using": "css selector", "value": css}, &el); err != nil {
		return err
	}
	for _, id := range el { // the one key is the W3C element identifier
		return w.call("POST", w.base+"/element/"+id+"/click", map[string]any{}, nil)
	}
	return fmt.Errorf("no element %s", css)
}

func (w *webkit) screenshot() ([]byte, error) {
	var b64 string
	if err := w.call("GET", w.base+"/screenshot", nil, &b64); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(b64)
}

func (w *webkit) problems() []string {
	var out []string
	if err := w.eval(`window.__engineProblems || []`, &out); err != nil {
		return []string{"reading the page's problems: " + err.Error()}
	}
	return out
}

func (w *webkit) close() {
	if w.base != "" {
		w.call("DELETE", w.base, nil, nil)
	}
	for _, c := range []*exec.Cmd{w.driver, w.xvfb} {
		stop(c)
	}
}

// stop ends a process the test started: SIGTERM, so that it cleans up (Xvfb
// removes its socket and lock file), and SIGKILL after 10 s.
func stop(c *exec.Cmd) {
	if c == nil || c.Process == nil {
		return
	}
	done := make(chan struct{})
	go func() { c.Wait(); close(done) }()
	c.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		c.Process.Kill()
		<-done
	}
}

// syncBuffer is a bytes.Buffer that processes may write to concurrently.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// call sends one WebDriver command and decodes its value into out.
func (w *webkit) call(method, url string, body, out any) error {
	var rd *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var res struct {
		Value json.RawMessage
	}
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		return fmt.Errorf("%s %s: HTTP %d, undecodable answer: %w", method, url, resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error, Message string }
		json.Unmarshal(res.Value, &e)
		return fmt.Errorf("WebDriver %s: %s", e.Error, e.Message)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(res.Value, out)
}

// errorRecorder keeps the page's console errors, uncaught errors and
// unhandled rejections in window.__engineProblems.
const errorRecorder = `if (!window.__engineProblems) {
	const p = window.__engineProblems = [];
	const error = console.error.bind(console);
	console.error = (...a) => { p.push("console.error: " + a.map(String).join(" ")); error(...a); };
	addEventListener("error", e => p.push("uncaught: " + e.message));
	addEventListener("unhandledrejection", e => p.push("unhandled rejection: " + String(e.reason)));
}`

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
