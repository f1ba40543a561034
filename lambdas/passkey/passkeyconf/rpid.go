package passkeyconf

import (
	"errors"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// validateRPID is protocol.ValidateRPID of github.com/go-webauthn/webauthn v0.18.2
// (BSD-3-Clause; Copyright (c) 2025 github.com/go-webauthn/webauthn authors), copied with its
// error texts so that Config.Validate accepts, refuses and reports exactly what it did when it
// called the library, without linking it. The passkey package's tests compare the two.
//
// It performs non-exhaustive checks that the string is most likely a domain string, as relying
// party IDs must be: localhost or a domain of two or more labels, without scheme, port, path,
// query or fragment components, and not an IP address. No IDNA normalization is performed.
func validateRPID(value string) (err error) {
	if len(value) == 0 {
		return errors.New("empty value provided")
	}

	if ip := net.ParseIP(value); ip != nil {
		return errDomainIsIPAddress
	}

	var rpid *url.URL

	if rpid, err = url.Parse(value); err != nil {
		return err
	}

	if rpid.Scheme != "" && rpid.Opaque != "" && rpid.Path == "" {
		return errors.New("the port component must be empty")
	}

	if rpid.Scheme != "" {
		if rpid.Host != "" && rpid.Path != "" {
			return errors.New("the path component must be empty")
		}

		if rpid.Host != "" && rpid.RawQuery != "" {
			return errors.New("the query component must be empty")
		}

		if rpid.Host != "" && rpid.Fragment != "" {
			return errors.New("the fragment component must be empty")
		}

		if rpid.Host != "" && rpid.Port() != "" {
			return errors.New("the port component must be empty")
		}

		return errors.New("the scheme component must be empty")
	}

	if rpid.RawQuery != "" {
		return errors.New("the query component must be empty")
	}

	if rpid.RawFragment != "" || rpid.Fragment != "" {
		return errors.New("the fragment component must be empty")
	}

	if rpid.Host == "" {
		if strings.Contains(rpid.Path, "/") {
			return errors.New("the path component must be empty")
		}
	}

	return validateDomainString(value)
}

const (
	maxDomainLength           = 253
	maxDomainLabelLength      = 63
	forbiddenDomainCodePoints = " #/:<>?@[\\]^|%"
)

var (
	errDomainIsIPAddress        = errors.New("the value must be a domain and not an IP address")
	errDomainNotADomain         = errors.New("the domain component must actually be a domain")
	errDomainEmptyLabel         = errors.New("the domain must not contain an empty label")
	errDomainLabelHyphen        = errors.New("the domain labels must not begin or end with a hyphen")
	errDomainLabelTooLong       = errors.New("the domain labels must not exceed 63 characters")
	errDomainTooLong            = errors.New("the domain must not exceed 253 characters")
	errDomainForbiddenCharacter = errors.New("the domain must not contain a forbidden character")
	errDomainFinalLabelNumeric  = errors.New("the final domain label must not be a number")
	errDomainNotASCII           = errors.New("the domain must not contain non-ascii characters, apply IDNA normalization to it first")
)

func validateDomainString(value string) error {
	if len(value) > maxDomainLength {
		return errDomainTooLong
	}

	labels := strings.Split(value, ".")

	for _, label := range labels {
		if len(label) == 0 {
			return errDomainEmptyLabel
		}

		if len(label) > maxDomainLabelLength {
			return errDomainLabelTooLong
		}

		if label[0] == '-' || label[len(label)-1] == '-' {
			return errDomainLabelHyphen
		}

		if strings.ContainsAny(label, forbiddenDomainCodePoints) {
			return errDomainForbiddenCharacter
		}

		for _, r := range label {
			if r < 0x20 || r == 0x7F {
				return errDomainForbiddenCharacter
			}

			if r > 0x7F {
				return errDomainNotASCII
			}
		}
	}

	if isNumericDomainLabel(labels[len(labels)-1]) {
		return errDomainFinalLabelNumeric
	}

	if len(labels) == 1 && value != "localhost" {
		return errDomainNotADomain
	}

	return nil
}

func isNumericDomainLabel(label string) bool {
	if label == "" {
		return false
	}

	if strings.Trim(label, "0123456789") == "" {
		return true
	}

	_, err := strconv.ParseUint(label, 0, 64)

	return err == nil
}
