// Package phone parses E.164 phone numbers, finds their region and tells mobile numbers from
// premium-rate, toll-free, shared-cost, VoIP and other kinds, as Google's libphonenumber does.
//
// It is a small reimplementation of the parts of github.com/nyaruka/phonenumbers (the Go port of
// libphonenumber) that sign-in codes need: Parse (international format only), Number.Region and
// Number.Type. The numbering-plan data in zdata.go is generated from that library's metadata
// (go generate, or `go test -run TestGeneratedData -update`), and the tests check the data is
// current and that every answer agrees with the library. The library itself is not linked into
// the functions: with its protobuf runtime it adds about 7.3 MB to a Lambda binary (8.1 MB to
// 15.4 MB for the CreateAuthChallenge function on linux/arm64, because protobuf's reflective
// MethodByName calls make the Go linker keep every exported method of every type) and about
// 20 ms and 2.5 MB of allocations to each cold start (it decodes all of its metadata in init).
// This package decodes nothing at start-up and compiles a region's patterns when first used.
//
//go:generate go test -run TestGeneratedData -update .
package phone

import (
	"errors"
	"regexp"
	"sort"
	"strconv"
	"sync"
)

// Type is the kind of a number, as libphonenumber's PhoneNumberType.
type Type int

// Number types.
const (
	Unknown Type = iota
	FixedLine
	Mobile
	// FixedLineOrMobile is a number whose region does not tell fixed lines from mobiles (the
	// North American Numbering Plan among others).
	FixedLineOrMobile
	TollFree
	PremiumRate
	SharedCost
	VoIP
	PersonalNumber
	Pager
	UAN
	Voicemail
)

var typeNames = [...]string{"unknown", "fixed line", "mobile", "fixed line or mobile", "toll free",
	"premium rate", "shared cost", "VoIP", "personal number", "pager", "UAN", "voicemail"}

func (t Type) String() string {
	if t < 0 || int(t) >= len(typeNames) {
		return "type " + strconv.Itoa(int(t))
	}
	return typeNames[t]
}

// NonGeographic is the region of numbers under a global calling code such as +800 or +882.
const NonGeographic = "001"

// Errors of Parse.
var (
	ErrFormat      = errors.New("phone: not a + followed by digits")
	ErrCountryCode = errors.New("phone: unknown country calling code")
	ErrTooShort    = errors.New("phone: too short")
	ErrTooLong     = errors.New("phone: too long")
)

// Length bounds, as in libphonenumber.
const (
	minNSN   = 2
	maxNSN   = 17
	maxCCLen = 3
	maxInput = 250 // libphonenumber's MAX_INPUT_STRING_LENGTH
)

// Number is a parsed phone number.
type Number struct {
	// CountryCode is the country calling code (44 for +44).
	CountryCode int
	// National is the national significant number: the digits after the country code, without
	// a national (trunk) prefix such as the 0 in "+44 07911 123456".
	National string
}

// E164 returns the number in E.164 format, "+447911123456".
func (n Number) E164() string { return "+" + strconv.Itoa(n.CountryCode) + n.National }

// Parse parses a number in international format: '+' followed by ASCII digits only (what Cognito
// stores in phone_number). A national prefix written after the country code is removed where
// libphonenumber removes it, so "+4407911123456" and "+447911123456" are the same Number.
func Parse(s string) (Number, error) {
	if len(s) > maxInput {
		return Number{}, ErrTooLong
	}
	if len(s) < 2 || s[0] != '+' {
		return Number{}, ErrFormat
	}
	d := s[1:]
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return Number{}, ErrFormat
		}
	}
	if d[0] == '0' {
		return Number{}, ErrCountryCode
	}
	if len(d) <= minNSN {
		return Number{}, ErrTooShort
	}
	cc, national := 0, ""
	for i := 1; i <= maxCCLen && i <= len(d); i++ {
		c, _ := strconv.Atoi(d[:i])
		if len(regionsFor(c)) > 0 {
			cc, national = c, d[i:]
			break
		}
	}
	if cc == 0 {
		return Number{}, ErrCountryCode
	}
	if len(national) < minNSN {
		return Number{}, ErrTooShort
	}
	if t := metadataFor(cc, regionsFor(cc)[0]); t != nil {
		if p, ok := stripNationalPrefix(national, t); ok {
			switch lengthResult(p, t) {
			case tooShort, localOnly, invalidLength:
			default:
				national = p
			}
		}
	}
	switch {
	case len(national) < minNSN:
		return Number{}, ErrTooShort
	case len(national) > maxNSN:
		return Number{}, ErrTooLong
	}
	return Number{CountryCode: cc, National: national}, nil
}

// Region returns the ISO 3166 region code of the number ("GB", "JM"), NonGeographic for global
// numbers, or "" when no region's numbering plan claims it.
func (n Number) Region() string {
	regions := regionsFor(n.CountryCode)
	switch len(regions) {
	case 0:
		return ""
	case 1:
		return regions[0]
	}
	for _, r := range regions {
		t := metadataFor(n.CountryCode, r)
		if t == nil {
			continue
		}
		if t.leadingDigits != "" {
			if compile(t.leadingDigits, false).MatchString(n.National) {
				return r
			}
		} else if typeOf(n.National, t) != Unknown {
			return r
		}
	}
	return ""
}

// Type returns the kind of the number in its region's numbering plan (Unknown for a number
// that is not valid there).
func (n Number) Type() Type {
	r := n.Region()
	if r == "" {
		return Unknown
	}
	t := metadataFor(n.CountryCode, r)
	if t == nil {
		return Unknown
	}
	return typeOf(n.National, t)
}

// CountryCodeFor returns the calling code of region ("GB" gives 44), or 0 for an unknown region.
func CountryCodeFor(region string) int {
	if t := territoryFor(region); t != nil {
		return t.cc
	}
	return 0
}

// MainRegion returns the main region of calling code cc ("US" for 1, "GB" for 44), NonGeographic
// for a global code, or "" for an unknown one.
func MainRegion(cc int) string {
	if r := regionsFor(cc); len(r) > 0 {
		return r[0]
	}
	return ""
}

// ExampleMobile returns an example mobile national number of region, or "" if it has none.
func ExampleMobile(region string) string {
	if t := territoryFor(region); t != nil {
		return t.exampleMobile
	}
	return ""
}

// IsType reports whether national matches region's pattern for typ (Mobile or FixedLine; the
// rest as Type). It does not check the number against other types.
func IsType(region, national string, typ Type) bool {
	t := territoryFor(region)
	if t == nil || !matches(national, t.general) {
		return false
	}
	switch typ {
	case Mobile:
		if t.sameMobileFixed {
			return matches(national, t.descs[dFixedLine])
		}
		return matches(national, t.descs[dMobile])
	case FixedLine, FixedLineOrMobile:
		return matches(national, t.descs[dFixedLine])
	}
	for i, dt := range descTypes {
		if dt == typ {
			return matches(national, t.descs[i])
		}
	}
	return false
}

// Index of each desc in territory.descs, in the order libphonenumber tests them.
const (
	dPremiumRate = iota
	dTollFree
	dSharedCost
	dVoIP
	dPersonalNumber
	dPager
	dUAN
	dVoicemail
	dFixedLine
	dMobile
	numDescs
)

var descTypes = [numDescs]Type{PremiumRate, TollFree, SharedCost, VoIP, PersonalNumber, Pager, UAN, Voicemail, FixedLine, Mobile}

// desc is a libphonenumber PhoneNumberDesc: a pattern of national numbers and their lengths.
type desc struct {
	pattern string // "" when the region has no numbers of the kind
	lengths []int8 // possible lengths; empty: any (those of the general desc)
}

// territory is a libphonenumber PhoneMetadata, reduced to what Parse, Region and Type read.
type territory struct {
	id              string
	cc              int
	leadingDigits   string
	npParse         string // national prefix for parsing
	npTransform     string // national prefix transform rule
	sameMobileFixed bool
	general         desc
	localOnly       []int8 // lengths of local-only numbers (general desc)
	descs           [numDescs]desc
	exampleMobile   string
}

// callingCode maps a calling code to its regions, the main region first.
type callingCode struct {
	cc      int
	regions []string
}

func regionsFor(cc int) []string {
	i := sort.Search(len(callingCodes), func(i int) bool { return callingCodes[i].cc >= cc })
	if i < len(callingCodes) && callingCodes[i].cc == cc {
		return callingCodes[i].regions
	}
	return nil
}

// territoryFor returns the metadata of a geographic region.
func territoryFor(region string) *territory {
	if region == NonGeographic || region == "" {
		return nil
	}
	i := sort.Search(len(territories), func(i int) bool { return territories[i].id >= region })
	if i < len(territories) && territories[i].id == region {
		return &territories[i]
	}
	return nil
}

// metadataFor returns the metadata of region, or of the global calling code cc when region is
// NonGeographic.
func metadataFor(cc int, region string) *territory {
	if region != NonGeographic {
		return territoryFor(region)
	}
	i := sort.Search(len(territories), func(i int) bool {
		t := &territories[i]
		return t.id > NonGeographic || t.id == NonGeographic && t.cc >= cc
	})
	if i < len(territories) && territories[i].id == NonGeographic && territories[i].cc == cc {
		return &territories[i]
	}
	return nil
}

// regexps caches compiled patterns by source and anchoring.
var regexps sync.Map // patternKey -> *regexp.Regexp

type patternKey struct {
	pattern string
	full    bool // "^(?:p)$" (a full match); else "^(?:p)" (a prefix)
}

// compile returns the compiled pattern, anchored at the start and, if full, at the end; cached.
// The patterns come from the generated data, which a test compiles in full, so a failure here is
// a bug: it panics like regexp.MustCompile.
func compile(pattern string, full bool) *regexp.Regexp {
	k := patternKey{pattern, full}
	if re, ok := regexps.Load(k); ok {
		return re.(*regexp.Regexp)
	}
	src := "^(?:" + pattern + ")"
	if full {
		src += "$"
	}
	re := regexp.MustCompile(src)
	regexps.Store(k, re)
	return re
}

func fullMatch(pattern, s string) bool { return compile(pattern, true).MatchString(s) }

// matches is libphonenumber's isNumberMatchingDesc.
func matches(national string, d desc) bool {
	if d.pattern == "" {
		return false
	}
	if len(d.lengths) > 0 {
		ok := false
		for _, l := range d.lengths {
			if int(l) == len(national) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return fullMatch(d.pattern, national)
}

// typeOf is libphonenumber's getNumberTypeHelper.
func typeOf(national string, t *territory) Type {
	if !matches(national, t.general) {
		return Unknown
	}
	for i := dPremiumRate; i <= dVoicemail; i++ {
		if matches(national, t.descs[i]) {
			return descTypes[i]
		}
	}
	if matches(national, t.descs[dFixedLine]) {
		if t.sameMobileFixed || matches(national, t.descs[dMobile]) {
			return FixedLineOrMobile
		}
		return FixedLine
	}
	if !t.sameMobileFixed && matches(national, t.descs[dMobile]) {
		return Mobile
	}
	return Unknown
}

// stripNationalPrefix is libphonenumber's maybeStripNationalPrefixAndCarrierCode: it returns the
// number without its national prefix (transformed where the region says so) and true, or false
// when there is nothing to strip.
func stripNationalPrefix(national string, t *territory) (string, bool) {
	if t.npParse == "" {
		return "", false
	}
	prefix := compile(t.npParse, false)
	groups := prefix.FindStringSubmatchIndex(national)
	if groups == nil {
		return "", false
	}
	viable := fullMatch(t.general.pattern, national)
	numGroups := len(groups)/2 - 1
	if t.npTransform == "" || groups[numGroups*2] < 0 {
		rest := national[groups[1]:]
		if viable && !fullMatch(t.general.pattern, rest) {
			return "", false
		}
		return rest, true
	}
	transformed := prefix.ReplaceAllString(national, t.npTransform)
	if viable && !fullMatch(t.general.pattern, transformed) {
		return "", false
	}
	return transformed, true
}

type lengthVerdict int

const (
	possible lengthVerdict = iota
	localOnly
	tooShort
	tooLong
	invalidLength
)

// lengthResult is libphonenumber's testNumberLength for type UNKNOWN (the general desc).
func lengthResult(national string, t *territory) lengthVerdict {
	lengths := t.general.lengths
	if len(lengths) == 0 || lengths[0] == -1 {
		return invalidLength
	}
	n := len(national)
	for _, l := range t.localOnly {
		if int(l) == n {
			return localOnly
		}
	}
	switch {
	case int(lengths[0]) == n:
		return possible
	case int(lengths[0]) > n:
		return tooShort
	case int(lengths[len(lengths)-1]) < n:
		return tooLong
	}
	for _, l := range lengths[1:] {
		if int(l) == n {
			return possible
		}
	}
	return invalidLength
}
