// Amplify JS v6 (aws-amplify 6.22.1): email codes, device keys and passkeys over CUSTOM_WITHOUT_SRP.
import { Amplify } from "aws-amplify";
import { confirmSignIn, fetchAuthSession, signIn, signOut, signUp } from "aws-amplify/auth";

export { signOut };

const passwordless = {
  userPoolId: "YOUR_USER_POOL_ID", // stack output UserPoolId
  userPoolClientId: "YOUR_USER_POOL_CLIENT_ID", // stack output UserPoolClientId
  apiUrl: "YOUR_API_URL", // stack output ApiUrl
  userPoolEndpoint: "", // "": Cognito's own; `make dev` prints a local one
};

export function configurePasswordless(settings) {
  Object.assign(passwordless, settings);
  const cognito = { userPoolId: passwordless.userPoolId, userPoolClientId: passwordless.userPoolClientId };
  if (passwordless.userPoolEndpoint) cognito.userPoolEndpoint = passwordless.userPoolEndpoint;
  Amplify.configure({ Auth: { Cognito: cognito } });
}

function namedError(name, message) {
  const err = new Error(message);
  err.name = name;
  return err;
}

function base64(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes)));
}

// Cognito's SignUp needs a password; nobody can use it (the app client allows no password flow).
// An address that already has an account is no error: go on to sign in.
export async function signUpWithEmail(email) {
  const password = "Aa1!" + base64(crypto.getRandomValues(new Uint8Array(24)));
  try {
    await signUp({ username: email, password });
  } catch (err) {
    if (err.name !== "UsernameExistsException") throw err;
  }
}

// signIn sends InitiateAuth; the first (NONCE) round's parameters come back as additionalInfo.
// ClientMetadata given to signIn never reaches the triggers: the method is named in confirmSignIn.
async function startSignIn(username) {
  const out = await signIn({ username, options: { authFlowType: "CUSTOM_WITHOUT_SRP" } });
  const params = out.nextStep.additionalInfo || {};
  if (out.nextStep.signInStep !== "CONFIRM_SIGN_IN_WITH_CUSTOM_CHALLENGE" || params.kind !== "NONCE") {
    throw namedError("UnexpectedSignInStep", "unexpected sign-in step " + out.nextStep.signInStep);
  }
  return params; // { kind: "NONCE", nonce, methods, USERNAME, passkeyOptions? }
}

async function answer(challengeResponse, clientMetadata) {
  const out = await confirmSignIn({ challengeResponse, options: { clientMetadata } });
  return { signedIn: out.isSignedIn, params: out.nextStep.additionalInfo || {} };
}

function codeRound(params) {
  if (params.kind !== "CODE") throw namedError("UnexpectedSignInStep", "expected a code round, got " + params.kind);
  return { deliveryMedium: params.deliveryMedium, destination: params.destination,
    codeStatus: params.codeStatus, resendAfter: Number(params.resendAfter) };
}

// Email code, step 1: "sent" (a new code), "kept" (the earlier code still works) or "wait" (ask
// again with resendEmailCode after resendAfter seconds).
export async function startEmailCodeSignIn(email) {
  await startSignIn(email);
  const round = await answer("-", { signInMethod: "email_otp" });
  return codeRound(round.params);
}

// Email code, step 2: { signedIn: true }, or { signedIn: false, ... } after a wrong code (the same
// code may be tried again); NotAuthorizedException once the attempts are used up.
export async function answerEmailCode(code) {
  const round = await answer(code, { signInMethod: "email_otp" });
  return round.signedIn ? { signedIn: true } : { signedIn: false, ...codeRound(round.params) };
}

export async function resendEmailCode() {
  const round = await answer("-", { signInMethod: "email_otp", action: "resend" });
  return codeRound(round.params);
}

// The access token for your API (Authorization: Bearer ...), refreshed by Amplify when needed.
export async function accessToken() {
  const { tokens } = await fetchAuthSession();
  if (!tokens || !tokens.accessToken) throw namedError("NotSignedIn", "not signed in");
  return tokens.accessToken.toString();
}

export async function callApi(method, path, body) {
  const res = await fetch(passwordless.apiUrl.replace(/\/$/, "") + path, {
    method,
    headers: Object.assign({ Authorization: "Bearer " + (await accessToken()) },
      body === undefined ? {} : { "Content-Type": "application/json" }),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const out = await res.json().catch(() => ({}));
  if (!res.ok) throw namedError(out.code || "HttpError", out.message || res.status + " " + method + " " + path);
  return out;
}

// Device keys. signPayload(text) returns the base64 signature of the UTF-8 text: RSA PKCS#1 v1.5
// or ECDSA P-256 (DER or raw r||s), with SHA-256 (react-native-biometrics' createSignature, or
// the WebCrypto key below). Register right after a code sign-in (at most 5 minutes old).
export async function registerDeviceKey(publicKey, name) {
  const { keyId } = await callApi("POST", "/device-keys", { publicKey, name });
  return keyId; // keep it with the key
}

export async function signInWithDeviceKey(username, keyId, signPayload) {
  const { nonce, USERNAME } = await startSignIn(username);
  const payload = ["passwordless-device-key-v1", passwordless.userPoolId, passwordless.userPoolClientId, USERNAME, nonce].join("|");
  const signature = await signPayload(payload);
  const round = await answer(JSON.stringify({ keyId, signature }), { signInMethod: "device_key" });
  if (!round.signedIn) throw namedError("DeviceKeyRefused", "the device key was refused");
}

// A web app's device key: ECDSA P-256 in WebCrypto, not extractable (keep the CryptoKeyPair in
// IndexedDB). publicKey is base64 DER SubjectPublicKeyInfo; signatures are base64 raw r||s.
export async function webCryptoDeviceKey() {
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
  return webCryptoSigner(pair);
}

export async function webCryptoSigner(pair) {
  return {
    pair,
    publicKey: base64(await crypto.subtle.exportKey("spki", pair.publicKey)),
    sign: async (text) => base64(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey,
      new TextEncoder().encode(text))),
  };
}

// Passkeys (registered as in "Passkeys (WebAuthn)"). getAssertion(options) takes the request
// options JSON and returns the assertion JSON; the default is the browser's WebAuthn.
export async function signInWithPasskey(username, getAssertion = browserAssertion) {
  const { passkeyOptions } = await startSignIn(username);
  if (!passkeyOptions) throw namedError("PasskeyUnavailable", "passkeys are not enabled");
  const assertion = await getAssertion(JSON.parse(passkeyOptions));
  const round = await answer(JSON.stringify(assertion), { signInMethod: "passkey" });
  if (!round.signedIn) throw namedError("PasskeyRefused", "the passkey was refused");
}

export async function browserAssertion(options) {
  const credential = await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options) });
  return credential.toJSON();
}
