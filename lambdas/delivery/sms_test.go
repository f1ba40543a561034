package delivery_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/passwordless-go/cognito/lambdas/delivery"
)

func TestCountSMS(t *testing.T) {
	const smile = "\U0001F600" // outside the BMP: a surrogate pair, two UTF-16 units
	for _, c := range []struct {
		name  string
		s     string
		enc   string
		units int
		parts int
	}{
		{"empty", "", delivery.EncodingGSM7, 0, 0},
		{"gsm7 one", "a", delivery.EncodingGSM7, 1, 1},
		{"gsm7 160", strings.Repeat("a", 160), delivery.EncodingGSM7, 160, 1},
		{"gsm7 161", strings.Repeat("a", 161), delivery.EncodingGSM7, 161, 2},
		{"gsm7 306", strings.Repeat("a", 306), delivery.EncodingGSM7, 306, 2},
		{"gsm7 307", strings.Repeat("a", 307), delivery.EncodingGSM7, 307, 3},
		{"gsm7 accents of the basic table", "é è ù ì ò Ç Ø å Æ ß É Ä Ö Ñ Ü ä ö ñ ü à ¿ ¡ £ ¥ § ¤ Δ Ω", delivery.EncodingGSM7, 55, 1},
		{"euro counts twice", "€", delivery.EncodingGSM7, 2, 1},
		{"extension table", "\f^{}\\[~]|€", delivery.EncodingGSM7, 20, 1},
		{"159 plus euro", strings.Repeat("a", 159) + "€", delivery.EncodingGSM7, 161, 2},
		{"158 plus euro", strings.Repeat("a", 158) + "€", delivery.EncodingGSM7, 160, 1},
		// An escape sequence is not split: 152 septets and "€" do not share the first part.
		{"escape not split", strings.Repeat("a", 152) + "€" + strings.Repeat("a", 152), delivery.EncodingGSM7, 306, 3},
		{"o acute is UCS-2", "ó", delivery.EncodingUCS2, 1, 1},
		{"a acute is UCS-2", "Código válido", delivery.EncodingUCS2, 13, 1},
		{"lowercase c cedilla is UCS-2", "ç", delivery.EncodingUCS2, 1, 1},
		{"ucs2 70", "ó" + strings.Repeat("a", 69), delivery.EncodingUCS2, 70, 1},
		{"ucs2 71", "ó" + strings.Repeat("a", 70), delivery.EncodingUCS2, 71, 2},
		{"ucs2 134", strings.Repeat("中", 134), delivery.EncodingUCS2, 134, 2},
		{"ucs2 135", strings.Repeat("中", 135), delivery.EncodingUCS2, 135, 3},
		{"euro in ucs2 is one unit", "ó€", delivery.EncodingUCS2, 2, 1},
		{"emoji is two units", smile, delivery.EncodingUCS2, 2, 1},
		{"35 emoji", strings.Repeat(smile, 35), delivery.EncodingUCS2, 70, 1},
		{"36 emoji", strings.Repeat(smile, 36), delivery.EncodingUCS2, 72, 2},
		// A surrogate pair is not split: 66 units and an emoji do not share the first part.
		{"surrogate pair not split", strings.Repeat("中", 66) + smile + strings.Repeat("中", 66), delivery.EncodingUCS2, 134, 3},
		{"invalid UTF-8", "a\xffb", delivery.EncodingUCS2, 3, 1},
		// The reviewer's examples: 132 characters of Spanish, 75 of Chinese.
		{"spanish 132", "Tu código es 123456. Caduca en 10 minutos." + strings.Repeat("á", 90), delivery.EncodingUCS2, 132, 2},
		{"chinese 75", strings.Repeat("验", 75), delivery.EncodingUCS2, 75, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := delivery.CountSMS(c.s)
			if got.Encoding != c.enc || got.Units != c.units || got.Parts != c.parts {
				t.Errorf("CountSMS = %+v, want %s %d units %d parts", got, c.enc, c.units, c.parts)
			}
			if n := delivery.SMSParts(c.s); n != c.parts {
				t.Errorf("SMSParts = %d, want %d", n, c.parts)
			}
		})
	}
}

func TestCheckSMSOnePart(t *testing.T) {
	if err := delivery.CheckSMSOnePart("SMS", strings.Repeat("a", 160)); err != nil {
		t.Errorf("160 GSM-7 characters: %v", err)
	}
	err := delivery.CheckSMSOnePart("SMS template", "Tu código: "+strings.Repeat("1", 60))
	if !errors.Is(err, delivery.ErrSMSParts) {
		t.Fatalf("71 UCS-2 characters: %v", err)
	}
	for _, want := range []string{"SMS template is 2 SMS parts", "send as UCS-2, 70 characters per SMS", `"ó"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	err = delivery.CheckSMSOnePart("SMS template", strings.Repeat("€", 81))
	if !errors.Is(err, delivery.ErrSMSParts) || !strings.Contains(err.Error(), "2 SMS parts (162 GSM-7 characters, each of ^ { } \\ [ ~ ] | € counting twice)") {
		t.Errorf("81 euro signs: %v", err)
	}
}

func TestGSM7Only(t *testing.T) {
	for in, want := range map[string]string{
		"":                       "",
		"a***@e***.com":          "a***@e***.com",
		"ø€{}é":                  "ø***é",
		"[~]|^\\\f":              "*******",
		"ó***@e***.com":          "****@e***.com",
		"验\U0001F600 key":        "** key",
		"Müller & Söhne\x00\xff": "Müller & Söhne**",
	} {
		if got := delivery.GSM7Only(in); got != want || delivery.CountSMS(got).Encoding != delivery.EncodingGSM7 ||
			delivery.CountSMS(got).Units != utf8.RuneCountInString(got) {
			t.Errorf("GSM7Only(%q) = %q, want %q", in, got, want)
		}
	}
	for _, r := range "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡AZÄÖÑÜ§¿azäöñüà\f^{}\\[~]|€" {
		if !delivery.IsGSM7(r) {
			t.Errorf("IsGSM7(%q) = false", r)
		}
	}
	for _, r := range "óáíúçÁ`\t\x1b\u00a0\u2019验\U0001F600" {
		if delivery.IsGSM7(r) {
			t.Errorf("IsGSM7(%q) = true", r)
		}
	}
}
