package delivery

import (
	"errors"
	"fmt"
	"strings"
)

// SMS encodings, as CountSMS reports them.
const (
	// EncodingGSM7 is the GSM 7-bit default alphabet (3GPP TS 23.038 section 6.2.1): 160
	// septets in a single message, 153 in each part of a concatenated one.
	EncodingGSM7 = "GSM-7"
	// EncodingUCS2 is UCS-2 (UTF-16 on today's networks): 70 code units in a single message, 67
	// in each part of a concatenated one.
	EncodingUCS2 = "UCS-2"
)

// Capacities of one SMS, in the units of its encoding. A single message carries 140 octets of
// user data; a part of a concatenated message loses 6 octets to the user data header that
// numbers the parts (3GPP TS 23.040 section 9.2.3.24.1), leaving 134: 153 septets or 67 UCS-2
// code units.
const (
	GSM7SingleSeptets = 160
	GSM7PartSeptets   = 153
	UCS2SingleUnits   = 70
	UCS2PartUnits     = 67
)

// ErrSMSParts is wrapped by CheckSMSOnePart's error: the text is sent and billed as more than
// one SMS.
var ErrSMSParts = errors.New("more than one SMS part")

// gsm7Basic is the GSM 7-bit default alphabet (3GPP TS 23.038 section 6.2.1, table 6.2.1.1)
// in table order, less the escape to the extension table (0x1B): one septet each. 0x09 is the
// capital C with cedilla, as the standard's table has it; a lowercase 'ç' is not in the table
// and counts as UCS-2 here (some carriers substitute it, not all: counting it as UCS-2 can only
// over-count).
const gsm7Basic = "@£$¥èéùìòÇ\nØø\rÅå" +
	"Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ" +
	" !\"#¤%&'()*+,-./" +
	"0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNO" +
	"PQRSTUVWXYZÄÖÑÜ§" +
	"¿abcdefghijklmno" +
	"pqrstuvwxyzäöñüà"

// gsm7Extension is the default alphabet extension table (3GPP TS 23.038 section 6.2.1.1, table
// 6.2.1.1.1): two septets each, the escape 0x1B and the character.
const gsm7Extension = "\f^{}\\[~]|€"

// SMSCount is how an SMS text is encoded and billed.
type SMSCount struct {
	// Encoding is EncodingGSM7 when every character is in the GSM 7-bit default alphabet or its
	// extension table, EncodingUCS2 otherwise.
	Encoding string
	// Units is the length in the encoding's units: septets for GSM-7 (an extension-table
	// character such as '€' is two), UTF-16 code units for UCS-2 (a character outside the Basic
	// Multilingual Plane, such as most emoji, is two).
	Units int
	// Parts is the number of SMS the text is sent as, and billed as: 0 for the empty text, 1 up
	// to 160 septets or 70 UCS-2 units, else one per 153 septets or 67 units, a two-unit
	// character never split across parts.
	Parts int
	// First is the first character that forced UCS-2 (0 for GSM-7).
	First rune
}

// CountSMS counts the SMS parts s is sent as, the way carriers and AWS End User Messaging SMS
// count them ("SMS character limits" and "message parts" in the AWS End User Messaging SMS
// User Guide, https://docs.aws.amazon.com/sms-voice/latest/userguide/sms-limitations-character.html):
// the GSM 7-bit default alphabet and its extension table (3GPP TS 23.038) when every
// character is in them, else UCS-2; one message up to 160 septets or 70 UCS-2 units, else a
// concatenated message (3GPP TS 23.040) of 153 septets or 67 units per part. Invalid UTF-8
// counts as UCS-2 (each bad byte as U+FFFD, one unit).
func CountSMS(s string) SMSCount {
	c := SMSCount{Encoding: EncodingGSM7}
	for _, r := range s {
		if !IsGSM7(r) {
			c.Encoding, c.First = EncodingUCS2, r
			break
		}
	}
	single, part := GSM7SingleSeptets, GSM7PartSeptets
	if c.Encoding == EncodingUCS2 {
		single, part = UCS2SingleUnits, UCS2PartUnits
	}
	// Pack greedily: a two-unit character (an escape sequence, a surrogate pair) that does not
	// fit in what is left of a part starts the next one.
	used := 0
	for _, r := range s {
		n := 1
		if c.Encoding == EncodingGSM7 && strings.ContainsRune(gsm7Extension, r) ||
			c.Encoding == EncodingUCS2 && r > 0xFFFF {
			n = 2
		}
		c.Units += n
		if c.Parts == 0 || used+n > part {
			c.Parts++
			used = 0
		}
		used += n
	}
	if c.Units <= single {
		c.Parts = min(c.Parts, 1)
	}
	return c
}

// IsGSM7 reports whether r is in the GSM 7-bit default alphabet or its extension table (3GPP
// TS 23.038): an SMS of such characters only is sent as GSM-7, 160 characters in one part.
func IsGSM7(r rune) bool {
	return strings.ContainsRune(gsm7Basic, r) || strings.ContainsRune(gsm7Extension, r)
}

// GSM7Only returns s with every character outside GSM-7's basic alphabet replaced by '*', so
// that each character of the result is one septet: for a value a user chose (a masked address, a
// key name) put into an SMS. A character outside GSM-7 would make the SMS UCS-2 (70 characters a
// part), and one of the extension table (€ [ ] { } ~ \ | ^, form feed) takes two septets, so
// either would let the value render longer than the one-part check assumed.
func GSM7Only(s string) string {
	return strings.Map(func(r rune) rune {
		if strings.ContainsRune(gsm7Basic, r) {
			return r
		}
		return '*'
	}, s)
}

// SMSParts is CountSMS(s).Parts: the number of SMS s is sent and billed as, 0 for "".
func SMSParts(s string) int { return CountSMS(s).Parts }

// CheckSMSOnePart returns an error wrapping ErrSMSParts, starting with name and saying why,
// when the rendered SMS s is more than one SMS part.
func CheckSMSOnePart(name, s string) error {
	c := CountSMS(s)
	if c.Parts <= 1 {
		return nil
	}
	if c.Encoding == EncodingUCS2 {
		return fmt.Errorf("%s is %d SMS parts (%d UCS-2 characters): accented or non-Latin characters (here %q) send as UCS-2, %d characters per SMS: %w",
			name, c.Parts, c.Units, string(c.First), UCS2SingleUnits, ErrSMSParts)
	}
	return fmt.Errorf("%s is %d SMS parts (%d GSM-7 characters, each of %s counting twice): %d characters per SMS: %w",
		name, c.Parts, c.Units, strings.Join(strings.Split(strings.ReplaceAll(gsm7Extension, "\f", ""), ""), " "), GSM7SingleSeptets, ErrSMSParts)
}
