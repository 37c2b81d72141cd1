// Package testsite builds the site and the real consentd, and starts
// consentd, for the test tiers that drive browsers against it (build/e2e,
// build/engines): one way to do it, so that a change to consentd's flags
// reaches every tier.
package testsite

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"workly.ai/consent"
	"workly.ai/consent/server/cookiekey"
)

// built is the module root Build last built: Start gives consentd its
// development cookie key (cookiekey.Dev), whose public half the build baked in.
var built string

// Build builds the site as a user does (go run ./build, from root, the
// module root) and consentd into dir, and returns the binary's path.
func Build(root, dir string) (string, error) {
	built = root
	build := exec.Command("go", "run", "./build")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go run ./build: %v\n%s", err, out)
	}
	bin := filepath.Join(dir, "consentd")
	gobuild := exec.Command("go", "build", "-o", bin, "./server/cmd/consentd")
	gobuild.Dir = root
	if out, err := gobuild.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build consentd: %v\n%s", err, out)
	}
	return bin, nil
}

// Key is where Start keeps the signing key of the store in data: beside it,
// never inside (consentd refuses a key inside -data).
func Key(data string) string { return data + "-signing.key" }

// Start starts consentd bin on addr (port 0: a free one) with its store in
// data and its key at Key(data), the development cookie key of the module
// Build built (if it ran), extra flags after those, and returns its URL once
// it listens.
func Start(bin, data, addr string, extra ...string) (*exec.Cmd, string, error) {
	flags := []string{"-addr", addr, "-data", data, "-key", Key(data)}
	if built != "" {
		flags = append(flags, "-cookie-key", cookiekey.Dev(built))
	}
	cmd := exec.Command(bin, append(flags, extra...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	lines := bufio.NewScanner(stderr)
	found := make(chan string, 1)
	go func() {
		for lines.Scan() {
			if _, after, ok := strings.Cut(lines.Text(), "addr=http://"); ok && strings.Contains(lines.Text(), "listening") {
				found <- "http://" + strings.Fields(after)[0]
				break
			}
		}
		for lines.Scan() { // keep draining so the server never blocks on its log
		}
	}()
	select {
	case addr := <-found:
		return cmd, addr, nil
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		return nil, "", fmt.Errorf("consentd did not start listening within 20s")
	}
}

// Exported runs consentd bin's export of the store in data (JSONL) and
// returns each receipt's acknowledgement by receipt id, and how many times
// each id appears.
func Exported(bin, data string) (acks map[string]consent.Ack, times map[string]int, err error) {
	out, err := exec.Command(bin, "export", "-data", data).Output()
	if err != nil {
		return nil, nil, fmt.Errorf("consentd export: %w", err)
	}
	acks, times = map[string]consent.Ack{}, map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var rec struct {
			Receipt struct{ ID string }
			Ack     consent.Ack
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			return nil, nil, fmt.Errorf("export line %q: %w", line, err)
		}
		acks[rec.Receipt.ID] = rec.Ack
		times[rec.Receipt.ID]++
	}
	return acks, times, nil
}
