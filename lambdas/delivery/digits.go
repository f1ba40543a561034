package delivery

// IsDigits reports whether s is exactly n ASCII decimal digits ('0' to '9'), the form of a
// one-time code of n digits. Any other byte, including a non-ASCII digit, or another length is
// false.
func IsDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
