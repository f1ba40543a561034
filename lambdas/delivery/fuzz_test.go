package delivery_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/passwordless-go/cognito/lambdas/delivery"
)

// Bad input never panics; masks never show more than two characters of an address, and a
// parsed template renders its literal text unchanged.
func FuzzInputs(f *testing.F) {
	f.Add("john@example.com", "+447400123456", "a {{.Code}} b", "1h:20,24h:100", "GB,+44")
	f.Add("\u202e@\xff", "+", "{{", ":", ",")
	f.Fuzz(func(t *testing.T, addr, number, src, limits, countries string) {
		m := delivery.MaskEmail(addr)
		if utf8.RuneCountInString(strings.ReplaceAll(strings.SplitN(m, "@", 2)[0], "*", "")) > 1 {
			t.Fatalf("MaskEmail(%q) = %q", addr, m)
		}
		_ = delivery.MaskPhone(number)
		_ = delivery.LooksLikeEmail(addr)
		_, _ = delivery.SMSNumber(number, []string{"GB", "+1"})
		_, _ = delivery.ParseLimits(limits, 1000)
		_, _ = delivery.ParseCountries(countries)
		if tm, err := delivery.ParseTemplate("t", src, false, "Code"); err == nil {
			if got := tm.Render(func(string) string { return "" }); !tm.Uses("Code") && got != src {
				t.Fatalf("template without placeholders rendered %q from %q", got, src)
			}
			_ = tm.HTMLFromText().Render(func(string) string { return "<&>" })
		}
	})
}
