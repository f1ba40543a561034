// Magic links in a browser: fetch and Cognito's JSON API, no SDK needed.
const magicLinkConfig = {
  clientId: "YOUR_USER_POOL_CLIENT_ID", // stack output UserPoolClientId
  region: "eu-west-1", // stack output Region
  endpoint: "", // "": https://cognito-idp.<region>.amazonaws.com/
  sameDevice: false, // true when the stack sets MagicLink.SameDevice
};

async function cognitoCall(operation, body) {
  const url = magicLinkConfig.endpoint || `https://cognito-idp.${magicLinkConfig.region}.amazonaws.com/`;
  const res = await fetch(url, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-amz-json-1.1",
      "X-Amz-Target": "AWSCognitoIdentityProviderService." + operation,
    },
    body: JSON.stringify(body),
  });
  const out = await res.json().catch(() => ({}));
  if (!res.ok) {
    const type = out.__type || res.headers.get("x-amzn-ErrorType") || "Error";
    throw namedError(type.split("#").pop().split(":")[0], out.message || out.Message || res.statusText);
  }
  return out;
}

function namedError(name, message) {
  const err = new Error(message);
  err.name = name;
  return err;
}

// A CUSTOM_AUTH sign-in: InitiateAuth, then one answer to its first (nonce) round.
async function magicLinkRound(username, answer, metadata) {
  const init = await cognitoCall("InitiateAuth", {
    AuthFlow: "CUSTOM_AUTH", ClientId: magicLinkConfig.clientId, AuthParameters: { USERNAME: username },
  });
  return cognitoCall("RespondToAuthChallenge", {
    ClientId: magicLinkConfig.clientId, ChallengeName: "CUSTOM_CHALLENGE", Session: init.Session,
    ChallengeResponses: { USERNAME: init.ChallengeParameters.USERNAME, ANSWER: answer },
    ClientMetadata: Object.assign({ signInMethod: "magic_link" }, metadata),
  });
}

// Emails a link to the account's verified address. redirectUrl: one of MagicLink.RedirectURLs
// (optional: the first). Unknown addresses get the same answer and no email.
async function requestMagicLink(email, redirectUrl) {
  const metadata = {};
  if (redirectUrl) metadata.redirectUrl = redirectUrl;
  if (magicLinkConfig.sameDevice) metadata.deviceHash = await magicLinkDeviceHash();
  const round = await magicLinkRound(email, "-", metadata);
  const p = round.ChallengeParameters || {};
  if (p.kind !== "LINK") throw namedError("MagicLinkUnavailable", "magic links are not enabled");
  // codeStatus "sent", or "kept" (asked again too soon: the earlier link still works).
  return { destination: p.destination, codeStatus: p.codeStatus,
    expiresIn: Number(p.expiresIn), resendAfter: Number(p.resendAfter) };
}

// On the landing page, before any other script: reads #ml= and removes it from the address bar
// and the history at once. Returns null when there is no link.
function readMagicLinkFromLocation() {
  const fragment = location.hash;
  if (!fragment.startsWith("#ml=")) return null;
  history.replaceState(null, "", location.pathname + location.search);
  let link;
  try {
    const bytes = Uint8Array.from(atob(fragment.slice(4).replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
    link = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    link = null;
  }
  if (!link || typeof link.u !== "string" || typeof link.s !== "string" || typeof link.e !== "number") {
    throw namedError("MalformedLink", "this is not a sign-in link");
  }
  return { userName: link.u, secret: link.s, expiresAt: new Date(link.e * 1000), expired: Date.now() >= link.e * 1000 };
}

// Call after one explicit user action (a "Sign in" button), on any device. Returns the tokens
// ({AccessToken, IdToken, RefreshToken, ExpiresIn, TokenType}).
async function completeMagicLink(link) {
  if (link.expired) throw namedError("LinkExpired", "this link has expired: ask for a new one");
  const metadata = { action: "complete" };
  const device = magicLinkConfig.sameDevice && localStorage.getItem("magicLinkDevice");
  if (device) metadata.deviceSecret = device;
  let out;
  try {
    out = await magicLinkRound(link.userName, link.secret, metadata);
  } catch (e) {
    if (e.name !== "NotAuthorizedException") throw e;
  }
  if (!out || !out.AuthenticationResult) {
    // Used, replaced, expired, another browser's (sameDevice) or the account is locked.
    throw namedError("LinkRefused", "this link no longer works: ask for a new one");
  }
  return out.AuthenticationResult;
}

// sameDevice: a random secret this browser keeps; requests carry its SHA-256.
async function magicLinkDeviceHash() {
  const b64url = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  let secret = localStorage.getItem("magicLinkDevice");
  if (!secret) {
    secret = b64url(crypto.getRandomValues(new Uint8Array(32)));
    localStorage.setItem("magicLinkDevice", secret);
  }
  return b64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(secret))));
}

// Sign-in page:
//   const sent = await requestMagicLink(email, "https://app.example.com/signin"); // "check your inbox"
// Landing page (https://app.example.com/signin), first thing:
//   const link = readMagicLinkFromLocation();
//   if (link) signInButton.onclick = async () => { const tokens = await completeMagicLink(link); };
