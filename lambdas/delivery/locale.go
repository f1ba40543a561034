package delivery

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Locale selection: a message can be sent in the user's language when templates for it are
// configured. The locale is a BCP 47 language tag ("es", "en-GB", "pt-BR"); it comes from the
// ClientMetadata key MetaLocale of the request when there is one, else from the user's
// attribute AttrLocale, else the default templates are used.
const (
	// MetaLocale is the ClientMetadata key naming the locale of the messages of a sign-in.
	MetaLocale = "locale"
	// AttrLocale is Cognito's standard user attribute holding the user's locale.
	AttrLocale = "locale"
	// MaxLocales caps the locales configured per function.
	MaxLocales = 20
	// maxLocaleTagLength caps a locale tag, in bytes.
	maxLocaleTagLength = 35
)

// localeTagRE is the form a configured locale tag takes: a 2-3 letter language and optional
// subtags of 2-8 letters or digits, lower case (see NormalizeLocale).
var localeTagRE = regexp.MustCompile(`^[a-z]{2,3}(-[a-z0-9]{2,8})*$`)

// NormalizeLocale returns tag in the form locales are configured and looked up in: trimmed,
// lower case, "_" read as "-" ("en_GB" and "EN-gb" become "en-gb"), and ok false when the
// result is not a language tag ([a-z]{2,3} followed by subtags of 2-8 letters or digits, at
// most 35 bytes). A malformed tag is never an error to the sender: it means the default.
func NormalizeLocale(tag string) (string, bool) {
	t := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(tag), "_", "-"))
	if t == "" || len(t) > maxLocaleTagLength || !localeTagRE.MatchString(t) {
		return "", false
	}
	return t, true
}

// CheckLocaleTag checks a configured locale tag: it must be in the normalised form
// (NormalizeLocale returns it unchanged) so that lookups find it.
func CheckLocaleTag(tag string) error {
	n, ok := NormalizeLocale(tag)
	if !ok || n != tag {
		return fmt.Errorf("locale %q is not a lower-case language tag such as \"es\" or \"pt-br\" (^[a-z]{2,3}(-[a-z0-9]{2,8})*$)", Shorten(tag))
	}
	return nil
}

// CheckLocaleTags checks every key of a configuration's locales (CheckLocaleTag) and their
// number (at most MaxLocales).
func CheckLocaleTags(tags []string) error {
	var errs []error
	if len(tags) > MaxLocales {
		errs = append(errs, fmt.Errorf("%d locales, at most %d", len(tags), MaxLocales))
	}
	sort.Strings(tags)
	for _, t := range tags {
		if err := CheckLocaleTag(t); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// PickLocale returns the first of candidates (in order: the ClientMetadata value, then the
// user's attribute) that, normalised, names a configured locale, either exactly or after
// dropping subtags from the end ("es-mx" finds "es"); has reports whether a normalised tag is
// configured. It returns "" (the default templates) when none does. The result is always a
// configured tag or "", so it is safe to log; the candidates are not.
func PickLocale(has func(tag string) bool, candidates ...string) string {
	for _, c := range candidates {
		t, ok := NormalizeLocale(c)
		if !ok {
			continue
		}
		for t != "" {
			if has(t) {
				return t
			}
			i := strings.LastIndexByte(t, '-')
			if i < 0 {
				break
			}
			t = t[:i]
		}
	}
	return ""
}

// maxLocalesJSON caps a *_LOCALES_JSON variable, in bytes (Lambda's whole environment is 4 KB).
const maxLocalesJSON = 64 << 10

// DecodeLocalesJSON decodes a *_LOCALES_JSON variable (a JSON object keyed by locale tag) into
// out, refusing unknown fields, trailing data and more than 64 KiB. The tags and templates are
// checked by the caller's configuration.
func DecodeLocalesJSON(s string, out any) error {
	if len(s) > maxLocalesJSON {
		return fmt.Errorf("longer than %d bytes", maxLocalesJSON)
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("not a JSON object of locales: %w", err)
	}
	if dec.More() {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}

// CompileLocales checks the tags of locales (CheckLocaleTags) and compiles each locale's
// templates with compile, in tag order. Errors name their locale; compile's own error is
// unwrapped once (its package prefix dropped) so the caller's prefix stays the only one.
func CompileLocales[L, T any](locales map[string]L, compile func(L) (T, error)) (map[string]T, error) {
	tags := make([]string, 0, len(locales))
	for tag := range locales {
		tags = append(tags, tag)
	}
	if err := CheckLocaleTags(tags); err != nil {
		return nil, err
	}
	out := make(map[string]T, len(tags))
	var errs []error
	for _, tag := range tags { // sorted by CheckLocaleTags
		t, err := compile(locales[tag])
		if err != nil {
			if inner := errors.Unwrap(err); inner != nil {
				err = inner
			}
			errs = append(errs, fmt.Errorf("locale %s: %w", tag, err))
			continue
		}
		out[tag] = t
	}
	return out, errors.Join(errs...)
}

// ForLocale returns the value locales holds for the first configured candidate (PickLocale) and
// its tag, else def and "".
func ForLocale[T any](locales map[string]T, def T, candidates ...string) (T, string) {
	if len(locales) == 0 {
		return def, ""
	}
	tag := PickLocale(func(s string) bool { _, ok := locales[s]; return ok }, candidates...)
	if tag == "" {
		return def, ""
	}
	return locales[tag], tag
}
