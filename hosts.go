package consent

import "strings"

// ValidHost reports whether h is a host name as categories declare them:
// lowercase letters, digits and '-' in dot-separated labels of at most 63,
// at least two labels, at most 253 characters; no scheme, port, path or
// wildcard.
func ValidHost(h string) bool {
	if len(h) == 0 || len(h) > 253 || !strings.Contains(h, ".") {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !(c >= 'a' && c <= 'z' || isDigit(c) || c == '-') {
				return false
			}
		}
	}
	return true
}

// MatchesHost reports whether host is declared (a host as ValidHost
// accepts) or one of its subdomains: "baidu.com" matches baidu.com and
// hm.baidu.com, not notbaidu.com. Case and a trailing dot on host are
// ignored.
func MatchesHost(declared, host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	return host == declared || strings.HasSuffix(host, "."+declared)
}

// ValidOrigin reports whether o is a web origin as a browser serialises it:
// "http://" or "https://", a host ValidHost accepts, and an optional port
// (1–65535, no leading zero, not the scheme's default); no path, no slash.
// Site.Sources holds such origins.
func ValidOrigin(o string) bool {
	rest, ok := strings.CutPrefix(o, "https://")
	def := "443"
	if !ok {
		if rest, ok = strings.CutPrefix(o, "http://"); !ok {
			return false
		}
		def = "80"
	}
	host, port, hasPort := strings.Cut(rest, ":")
	if !ValidHost(host) {
		return false
	}
	if !hasPort {
		return true
	}
	if port == "" || port[0] == '0' || len(port) > 5 || port == def {
		return false
	}
	n := 0
	for i := 0; i < len(port); i++ {
		if !isDigit(port[i]) {
			return false
		}
		n = n*10 + int(port[i]-'0')
	}
	return n <= 65535
}
