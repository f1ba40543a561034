package phone

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

var libTypes = map[phonenumbers.PhoneNumberType]Type{
	phonenumbers.FIXED_LINE:           FixedLine,
	phonenumbers.MOBILE:               Mobile,
	phonenumbers.FIXED_LINE_OR_MOBILE: FixedLineOrMobile,
	phonenumbers.TOLL_FREE:            TollFree,
	phonenumbers.PREMIUM_RATE:         PremiumRate,
	phonenumbers.SHARED_COST:          SharedCost,
	phonenumbers.VOIP:                 VoIP,
	phonenumbers.PERSONAL_NUMBER:      PersonalNumber,
	phonenumbers.PAGER:                Pager,
	phonenumbers.UAN:                  UAN,
	phonenumbers.VOICEMAIL:            Voicemail,
	phonenumbers.UNKNOWN:              Unknown,
}

// agree fails unless Parse, E164, Region and Type give what the library gives for s.
func agree(t *testing.T, s string) {
	t.Helper()
	want, werr := phonenumbers.Parse(s, "")
	got, gerr := Parse(s)
	if (werr == nil) != (gerr == nil) {
		t.Errorf("Parse(%q): library error %v, ours %v", s, werr, gerr)
		return
	}
	if werr != nil {
		return
	}
	if w, g := phonenumbers.Format(want, phonenumbers.E164), got.E164(); w != g {
		t.Errorf("Parse(%q) = %s, library %s", s, g, w)
	}
	if w, g := phonenumbers.GetRegionCodeForNumber(want), got.Region(); w != g {
		t.Errorf("Region(%q) = %q, library %q", s, g, w)
	}
	wt, ok := libTypes[phonenumbers.GetNumberType(want)]
	if !ok {
		t.Fatalf("unmapped library type %v", phonenumbers.GetNumberType(want))
	}
	if g := got.Type(); g != wt {
		t.Errorf("Type(%q) = %v, library %v", s, g, wt)
	}
}

// TestAgreesWithLibraryOnExamples: every example number of every kind in every region, written
// with and without the region's national prefix after the country code, and with its last
// digits changed or cut.
func TestAgreesWithLibraryOnExamples(t *testing.T) {
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range coll.GetMetadata() {
		cc := "+" + strconv.Itoa(int(m.GetCountryCode()))
		for _, d := range []*phonenumbers.PhoneNumberDesc{m.GetGeneralDesc(), m.GetFixedLine(), m.GetMobile(), m.GetTollFree(),
			m.GetPremiumRate(), m.GetSharedCost(), m.GetPersonalNumber(), m.GetVoip(), m.GetPager(), m.GetUan(), m.GetVoicemail()} {
			ex := d.GetExampleNumber()
			if ex == "" {
				continue
			}
			variants := []string{cc + ex, cc + m.GetNationalPrefix() + ex, cc + "0" + ex, cc + ex[:len(ex)-1], cc + ex + "9",
				cc + ex[:len(ex)-1] + string('0'+(ex[len(ex)-1]-'0'+5)%10)}
			for _, s := range variants {
				agree(t, s)
				n++
			}
		}
	}
	if n < 1000 {
		t.Fatalf("only %d examples", n)
	}
}

// TestAgreesWithLibraryOnRandomNumbers: random digit strings after a random known calling code.
func TestAgreesWithLibraryOnRandomNumbers(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var ccs []int
	for cc := range phonenumbers.GetSupportedCallingCodes() {
		ccs = append(ccs, cc)
	}
	for range 20000 {
		var b strings.Builder
		b.WriteString("+" + strconv.Itoa(ccs[r.IntN(len(ccs))]))
		for range r.IntN(16) + 1 {
			b.WriteByte(byte('0' + r.IntN(10)))
		}
		agree(t, b.String())
	}
	for range 5000 {
		var b strings.Builder
		b.WriteByte('+')
		for range r.IntN(20) + 1 {
			b.WriteByte(byte('0' + r.IntN(10)))
		}
		agree(t, b.String())
	}
}

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		in, e164, region string
		typ              Type
	}{
		{"+447911123456", "+447911123456", "GG", Mobile},
		{"+4407911123456", "+447911123456", "GG", Mobile},
		{"+447400123456", "+447400123456", "GB", Mobile},
		{"+4407400123456", "+447400123456", "GB", Mobile},
		{"+449098790000", "+449098790000", "GB", PremiumRate},
		{"+18765550123", "+18765550123", "JM", Mobile},
		{"+12015550123", "+12015550123", "US", FixedLineOrMobile},
		{"+4915123456789", "+4915123456789", "DE", Mobile},
		{"+33612345678", "+33612345678", "FR", Mobile},
		{"+61412345678", "+61412345678", "AU", Mobile},
		{"+353851234567", "+353851234567", "IE", Mobile},
		{"+447700900123", "+447700900123", "", Unknown}, // Ofcom's range for drama: no region
		{"+4407700900123", "+447700900123", "", Unknown},
	} {
		n, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if n.E164() != tt.e164 || n.Region() != tt.region || n.Type() != tt.typ {
			t.Errorf("Parse(%q) = %s %q %v, want %s %q %v", tt.in, n.E164(), n.Region(), n.Type(), tt.e164, tt.region, tt.typ)
		}
		agree(t, tt.in)
	}
	for _, bad := range []string{"", "+", "+0", "+12", "447911123456", "+44 7911 123456", "+44-7911123456",
		"+４47911123456", "+999123456", "+44" + strings.Repeat("1", 300), "\x00"} {
		if n, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) = %v, want an error", bad, n)
		}
	}
}

func TestRegionData(t *testing.T) {
	for r, cc := range map[string]int{"GB": 44, "US": 1, "JM": 1, "DE": 49, "IE": 353, "XX": 0, "001": 0, "": 0} {
		if got := CountryCodeFor(r); got != cc {
			t.Errorf("CountryCodeFor(%q) = %d, want %d", r, got, cc)
		}
	}
	for cc, r := range map[int]string{1: "US", 44: "GB", 800: "001", 999: "", 0: ""} {
		if got := MainRegion(cc); got != r {
			t.Errorf("MainRegion(%d) = %q, want %q", cc, got, r)
		}
	}
	for _, r := range []string{"US", "CA", "GB", "DE", "FR", "AU", "IE"} {
		ex := ExampleMobile(r)
		n, err := Parse("+" + strconv.Itoa(CountryCodeFor(r)) + ex)
		if err != nil || n.Region() != r || (n.Type() != Mobile && n.Type() != FixedLineOrMobile) || !IsType(r, ex, Mobile) {
			t.Errorf("%s example mobile %q: %v %q %v", r, ex, err, n.Region(), n.Type())
		}
	}
	if IsType("GB", "9098790000", Mobile) || !IsType("GB", "9098790000", PremiumRate) || IsType("XX", "1", Mobile) {
		t.Error("IsType")
	}
}

// FuzzParse: '+' and digits agree with the library; anything else (which the library may read,
// with letters, spaces, extensions) is refused; nothing panics. Parse is not
// idempotent on its own output, as in the library: "+11100000000000" is +1 100000000000, whose
// E.164 form parses as +1 00000000000 (the NANP national prefix 1 stripped again).
func FuzzParse(f *testing.F) {
	for _, s := range []string{"+447911123456", "+4407911123456", "+18765550123", "+", "+0", "+8821234", "+11100000000000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.HasPrefix(s, "+") && strings.Trim(s[1:], "0123456789") == "" {
			agree(t, s)
		} else if n, err := Parse(s); err == nil {
			t.Fatalf("Parse(%q) = %v, want an error", s, n)
		}
	})
}
