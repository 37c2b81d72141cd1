package scan

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"workly.ai/consent"
	"workly.ai/consent/catalog"
)

// -site reads the project's own web/site.json (registry and all), and a
// category's services are expanded.
func TestReadSite(t *testing.T) {
	s, err := ReadSite("../../web/site.json", catalog.Default())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, ok := s.Declaring(consent.KindCookie, "consent"); !ok {
		t.Error("the consent cookie is not declared")
	}
	data, err := os.ReadFile("../../web/site.json")
	if err != nil {
		t.Fatal(err)
	}
	withService := strings.Replace(string(data), `"id": "analytics",`, `"id": "analytics", "services": ["baidu-tongji"],`, 1)
	if withService == string(data) {
		t.Fatal(`web/site.json has no "id": "analytics",: the test needs another anchor`)
	}
	file := filepath.Join(t.TempDir(), "site.json")
	os.WriteFile(file, []byte(withService), 0o644)
	s, err = ReadSite(file, catalog.Default())
	if err != nil {
		t.Fatal(err)
	}
	if c, _, ok := s.Declaring(consent.KindHost, "hm.baidu.com"); !ok || c.ID != "analytics" {
		t.Errorf("hm.baidu.com not declared by analytics: %v", ok)
	}
	os.WriteFile(file, []byte(strings.Replace(withService, "baidu-tongji", "no-such-service", 1)), 0o644)
	if _, err := ReadSite(file, catalog.Default()); err == nil || !strings.Contains(err.Error(), `unknown service "no-such-service"`) {
		t.Errorf("unknown service: %v", err)
	}
}
