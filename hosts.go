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
