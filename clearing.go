package consent

import "strings"

// Matches reports whether a cookie or storage key named name is this item:
// the exact name, or any name with the prefix of a pattern ending in "*".
func (it Item) Matches(name string) bool {
	if prefix, ok := strings.CutSuffix(it.Name, "*"); ok {
		return strings.HasPrefix(name, prefix)
	}
	return name == it.Name
}

// CookieDeletions returns the document.cookie assignments that delete the
// cookie name wherever a script on host could have set it: host-only and on
// every parent domain of host (www.example.com, example.com), each with
// Path=/, with every ancestor of path and with each of extraPaths. A delete
// with another domain or path than the cookie's does nothing, and a page
// cannot read a cookie's domain or path, so all are tried.
func CookieDeletions(name, host, path string, extraPaths ...string) []string {
	domains := []string{""}
	if !isIPOrSingleLabel(host) {
		labels := strings.Split(host, ".")
		for i := 0; i+1 < len(labels); i++ {
			domains = append(domains, strings.Join(labels[i:], "."))
		}
	}
	paths := []string{"/"}
	for p := strings.TrimSuffix(path, "/"); strings.Count(p, "/") > 0 && p != ""; p = p[:strings.LastIndex(p, "/")] {
		paths = append(paths, p)
	}
	for _, p := range extraPaths {
		if p != "" && !containsString(paths, p) {
			paths = append(paths, p)
		}
	}
	var out []string
	for _, d := range domains {
		for _, p := range paths {
			c := name + "=; Max-Age=0; Path=" + p
			if d != "" {
				c += "; Domain=" + d
			}
			out = append(out, c)
		}
	}
	return out
}

func isIPOrSingleLabel(host string) bool {
	if !strings.Contains(host, ".") || strings.Contains(host, ":") {
		return true
	}
	for i := 0; i < len(host); i++ {
		if c := host[i]; c != '.' && !isDigit(c) {
			return false
		}
	}
	return true
}
