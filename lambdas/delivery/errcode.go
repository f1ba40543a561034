package delivery

import (
	"context"
	"errors"
)

// ErrorCode names an AWS error without its message (which can quote an address): the AWS error
// code kept to letters, digits, '.', '-' and '_' (64 at most; "unknown" when nothing is left),
// or "deadline exceeded", "canceled", or "transport" for any other error.
func ErrorCode(err error) string {
	var api interface{ ErrorCode() string }
	switch {
	case errors.As(err, &api) && api.ErrorCode() != "":
		return sanitizeCode(api.ErrorCode())
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline exceeded"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	return "transport"
}

// sanitizeCode keeps an error code to letters, digits, '.', '-' and '_' (64 at most).
func sanitizeCode(s string) string {
	b := make([]byte, 0, min(len(s), 64))
	for i := 0; i < len(s) && len(b) < 64; i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' {
			b = append(b, c)
		}
	}
	if len(b) == 0 {
		return "unknown"
	}
	return string(b)
}
