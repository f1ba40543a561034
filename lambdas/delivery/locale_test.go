package delivery_test

import (
	"strings"
	"testing"

	"github.com/passwordless-go/cognito/lambdas/delivery"
)

func TestPickLocale(t *testing.T) {
	has := func(tags ...string) func(string) bool {
		return func(s string) bool {
			for _, t := range tags {
				if t == s {
					return true
				}
			}
			return false
		}
	}
	for _, c := range []struct {
		cands []string
		want  string
	}{
		{[]string{"es"}, "es"},
		{[]string{"ES-mx"}, "es"},
		{[]string{" es_MX "}, "es"},
		{[]string{"pt-BR"}, "pt-br"},
		{[]string{"pt"}, ""},
		{[]string{"zh-hant-tw"}, "zh-hant"},
		{[]string{"fr", "es"}, "es"},
		{[]string{"", "es"}, "es"},
		{[]string{"e", "es"}, "es"},
		{[]string{"es\n", "x"}, "es"},
		{[]string{"es-" + strings.Repeat("a", 40)}, ""},
		{[]string{"<script>"}, ""},
		{[]string{"es-"}, ""},
		{[]string{"español"}, ""},
		{nil, ""},
	} {
		if got := delivery.PickLocale(has("es", "pt-br", "zh-hant"), c.cands...); got != c.want {
			t.Errorf("PickLocale(%q) = %q, want %q", c.cands, got, c.want)
		}
	}
}

func TestCheckLocaleTags(t *testing.T) {
	if err := delivery.CheckLocaleTags([]string{"es", "pt-br", "zh-hant-tw", "gsw"}); err != nil {
		t.Error(err)
	}
	for _, bad := range []string{"ES", "pt_br", "e", "es-", "english", "es-toolongsubtag", " es", ""} {
		if err := delivery.CheckLocaleTags([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	many := make([]string, delivery.MaxLocales+1)
	for i := range many {
		many[i] = "a" + string(rune('a'+i))
	}
	if err := delivery.CheckLocaleTags(many); err == nil {
		t.Error("too many locales accepted")
	}
	if !delivery.HasAppName("Acme") || delivery.HasAppName("") || delivery.HasAppName(delivery.DefaultAppName) {
		t.Error("HasAppName")
	}
}
