// Package browser holds the real-browser end-to-end tests against the local harness
// (infra/local/harness), every step through the built Lambda functions, in headless Chromium
// driven through the DevTools protocol (chromedp):
//
//   - passkeys: with a virtual WebAuthn authenticator, a page registers a passkey and signs in
//     with it (TestPasskeyInChromium);
//   - magic links: a page served from an allowed origin runs the README's own client code (the
//     ```js block between <!-- magic-link-client:begin --> and <!-- magic-link-client:end --> in
//     README.md, identical to magiclink-client.js here) with fetch against the local Cognito
//     endpoint and the HTTP API: it asks for a link; the link from the captured email opens in a
//     private browser context (another device); the landing page removes the fragment at once
//     and sends nothing before one click, then signs in and calls the HTTP API across origins;
//     the used link is refused (TestMagicLinkInChromium); with MagicLink.SameDevice the link
//     works only in the browser that asked (TestMagicLinkSameDeviceInChromium). So the
//     documented snippet, the CORS answers of both local endpoints and the fragment handling
//     are proven as a browser runs them.
//
// The tests skip when no Chromium is found (CHROMIUM_BIN, /usr/bin/chromium, then chromium or
// chromium-browser on PATH) unless REQUIRE_CHROMIUM=1, and when dynalite is missing unless
// REQUIRE_DYNALITE=1, like the other harness tests. The package has no non-test code.
package browser
