// Package browser holds the real-browser end-to-end test of passkeys: headless Chromium, driven
// through the DevTools protocol (chromedp) with a virtual WebAuthn authenticator, registers a
// passkey and signs in with it against the local harness (infra/local/harness), every step through
// the built Lambda functions.
//
// The test skips when no Chromium is found (CHROMIUM_BIN, /usr/bin/chromium, then chromium or
// chromium-browser on PATH) unless REQUIRE_CHROMIUM=1, and when dynalite is missing unless
// REQUIRE_DYNALITE=1, like the other harness tests. The package has no non-test code.
package browser
