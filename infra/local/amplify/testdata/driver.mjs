// Test driver (not README code): runs the README's Amplify v6 client (./amplify-client.mjs, copied
// beside this file by the Go test) under Node against the local harness. It reads its settings
// from the environment, asks the Go test's bench server for what a person or a browser would
// provide (the emailed code, a registered passkey) and prints one JSON line per step; the Go test
// checks the tokens against the local HTTP API.
import * as client from "./amplify-client.mjs";
import { fetchAuthSession } from "aws-amplify/auth";

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error("driver: " + name + " is not set");
  return v;
};
const email = env("AMPLIFY_TEST_EMAIL");
const bench = env("AMPLIFY_TEST_BENCH");

function report(step, fields) {
  process.stdout.write(JSON.stringify(Object.assign({ step }, fields)) + "\n");
}

async function benchCall(path, body) {
  const res = await fetch(bench + path, body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error("bench " + path + ": " + res.status + " " + (await res.text()));
  return res.json();
}

async function tokens() {
  return { accessToken: await client.accessToken(), me: await client.callApi("GET", "/me") };
}

function errorName(err) {
  return err && err.name ? err.name : String(err);
}

// --- software passkey authenticator, injected as the browser's WebAuthn ---------------------------

const b64url = (bytes) => Buffer.from(bytes).toString("base64url");
const fromB64url = (s) => new Uint8Array(Buffer.from(s, "base64url"));

// WebCrypto signs ECDSA as raw r||s; WebAuthn's ES256 wants ASN.1 DER.
function derSignature(raw) {
  const int = (b) => {
    let i = 0;
    while (i < b.length - 1 && b[i] === 0) i++;
    b = b.slice(i);
    return b[0] & 0x80 ? Uint8Array.of(0, ...b) : b;
  };
  const r = int(raw.slice(0, 32));
  const s = int(raw.slice(32));
  return Uint8Array.of(0x30, r.length + s.length + 4, 0x02, r.length, ...r, 0x02, s.length, ...s);
}

async function softAuthenticator(passkey) {
  const key = await crypto.subtle.importKey("pkcs8", Buffer.from(passkey.pkcs8, "base64"),
    { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
  let signCount = passkey.signCount;
  const calls = [];
  const credentials = {
    async get({ publicKey }) {
      calls.push(publicKey);
      if (!(publicKey.challenge instanceof ArrayBuffer)) throw new TypeError("challenge is not an ArrayBuffer");
      const rpId = publicKey.rpId || new URL(passkey.origin).hostname;
      if (rpId !== passkey.rpId) throw new DOMException("no credential for " + rpId, "NotAllowedError");
      signCount++;
      const rpIdHash = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(rpId)));
      const authData = Uint8Array.of(...rpIdHash, passkey.flags,
        (signCount >>> 24) & 255, (signCount >>> 16) & 255, (signCount >>> 8) & 255, signCount & 255);
      const clientDataJSON = new TextEncoder().encode(JSON.stringify({
        type: "webauthn.get", challenge: b64url(new Uint8Array(publicKey.challenge)), origin: passkey.origin, crossOrigin: false,
      }));
      const clientDataHash = new Uint8Array(await crypto.subtle.digest("SHA-256", clientDataJSON));
      const raw = new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, key,
        Uint8Array.of(...authData, ...clientDataHash)));
      const json = {
        id: passkey.credentialId, rawId: passkey.credentialId, type: "public-key",
        response: {
          clientDataJSON: b64url(clientDataJSON), authenticatorData: b64url(authData),
          signature: b64url(derSignature(raw)), userHandle: passkey.userHandle,
        },
        authenticatorAttachment: "platform", clientExtensionResults: {},
      };
      return { id: json.id, type: json.type, toJSON: () => json };
    },
  };
  const PublicKeyCredential = {
    parseRequestOptionsFromJSON(options) {
      const out = Object.assign({}, options, { challenge: fromB64url(options.challenge).buffer });
      if (options.allowCredentials) {
        out.allowCredentials = options.allowCredentials.map((c) => Object.assign({}, c, { id: fromB64url(c.id).buffer }));
      }
      return out;
    },
  };
  return { credentials, PublicKeyCredential, calls };
}

// --- the steps -------------------------------------------------------------------------------------

async function main() {
  client.configurePasswordless({
    userPoolId: env("AMPLIFY_TEST_POOL_ID"),
    userPoolClientId: env("AMPLIFY_TEST_CLIENT_ID"),
    userPoolEndpoint: env("AMPLIFY_TEST_COGNITO_URL"),
    apiUrl: env("AMPLIFY_TEST_API_URL"),
  });

  await client.signUpWithEmail(email);
  await client.signUpWithEmail(email); // the account exists: no error, as the README asks
  report("signup", {});

  // Email code: a wrong code is refused (another CODE round), the right one signs in.
  const sent = await client.startEmailCodeSignIn(email);
  report("code_sent", sent);
  const { code } = await benchCall("/code?to=" + encodeURIComponent(email) + "&n=1");
  const wrong = String((Number(code[0]) + 1) % 10) + code.slice(1);
  const refused = await client.answerEmailCode(wrong);
  report("wrong_code", refused);
  const accepted = await client.answerEmailCode(code);
  if (!accepted.signedIn) throw new Error("the right code did not sign in: " + JSON.stringify(accepted));
  report("email_otp", await tokens());
  // Amplify refreshes expired tokens with GetTokensFromRefreshToken: force one.
  await fetchAuthSession({ forceRefresh: true });
  report("refreshed", await tokens());

  // Device key: a WebCrypto P-256 key registered through the API with the code sign-in's token.
  const key = await client.webCryptoDeviceKey();
  const keyId = await client.registerDeviceKey(key.publicKey, "Node test");
  report("key_registered", { keyId, publicKey: key.publicKey });
  await client.signOut();
  const other = await client.webCryptoDeviceKey(); // a key nobody registered, under the same keyId
  try {
    await client.signInWithDeviceKey(email, keyId, other.sign);
    report("wrong_key", { signedIn: true });
  } catch (err) {
    report("wrong_key", { signedIn: false, error: errorName(err) });
  }
  await client.signInWithDeviceKey(email, keyId, key.sign);
  report("device_key", await tokens());

  // Passkey: the Go test registers one (software authenticator) with this sign-in's token and
  // hands over its private key; this process plays the browser's navigator.credentials.
  const passkey = await benchCall("/passkey", { accessToken: await client.accessToken() });
  const soft = await softAuthenticator(passkey);
  Object.defineProperty(globalThis, "navigator", { value: { credentials: soft.credentials }, configurable: true, writable: true });
  Object.defineProperty(globalThis, "PublicKeyCredential", { value: soft.PublicKeyCredential, configurable: true, writable: true });
  await client.signOut();
  await client.signInWithPasskey(email);
  report("passkey", Object.assign(await tokens(), {
    credentialId: passkey.credentialId,
    requests: soft.calls.map((o) => ({ rpId: o.rpId, userVerification: o.userVerification, challengeLength: o.challenge.byteLength })),
  }));

  await client.signOut();
  let afterSignOut = "";
  try {
    await client.accessToken();
  } catch (err) {
    afterSignOut = errorName(err);
  }
  report("signed_out", { error: afterSignOut });
  report("done", {});
}

main().catch((err) => {
  report("error", { name: errorName(err), message: String(err && err.message), stack: String(err && err.stack) });
  process.exitCode = 1;
});
