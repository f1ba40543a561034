// Package amplify proves the README's Amplify JS v6 client (section "Amplify JS v6 (web and
// React Native)"): its test runs that exact code (the ```js block between
// <!-- amplify-client:begin --> and <!-- amplify-client:end --> in README.md, identical to
// amplify-client.mjs here) under Node with aws-amplify from .tools/node_modules, Amplify pointed
// at the local harness's Cognito endpoint (Auth.Cognito.userPoolEndpoint), and signs in with an
// email code (a wrong code refused first), a WebCrypto P-256 device key registered through the
// HTTP API (a key that was not registered refused) and a passkey held by a software
// authenticator injected as navigator.credentials; every access token is checked with GET /me on
// the local HTTP API.
//
// Node and the npm package are installed by `make tools`. Without them the test fails when
// REQUIRE_NODE=1 or the repository's .tools directory exists (CI), and skips otherwise, saying
// how to install them. The package has no non-test code.
package amplify
