// A misbehaving OpenID Connect provider for the single sign-on tests: what a compromised,
// misconfigured or impersonated provider would send. Real providers (oidc-provider) never
// issue such ID tokens, so this one forges them with node's own crypto, no library.
//
// Environment: OIDC_CERT, OIDC_KEY (PEM files), OIDC_PORT (0: any free one), OIDC_CLIENT_ID,
// OIDC_CLIENT_SECRET, OIDC_REDIRECT_URI. Prints "READY <port>" once it listens; the issuer is
// https://127.0.0.1:<port>.
//
// The authorization endpoint signs nobody in: it sends the browser straight back with a code.
// What is wrong with the answer is chosen by a `flaw` parameter the test adds to the
// authorization URL:
//   none            a correct ID token (the control: the forger itself works)
//   wrong_issuer    `iss` names another issuer
//   wrong_audience  `aud` names another client
//   expired         `exp` is in the past
//   unsigned        `alg: none`, no signature
//   wrong_nonce     `nonce` is not the one Gatehouse sent
//   other_key       signed by a key that is not in the provider's JWKS (same `kid`)
//   refused         no code: `error=access_denied` (the person is disabled upstream)
// The person is `sub-<login_hint>` with that address, verified; `forged@acme.example` without
// a hint.
//
// `POST /rotate` replaces the signing key (the JWKS then lists only the new one, with a new
// `kid`), as a provider rotating its keys does; `GET /stats` says how often the discovery
// document and the JWKS were fetched.
import crypto from 'node:crypto';
import { serveIssuer } from './oidc_https.mjs';

let generation = 1;
let kid = 'forger-1';
let signingKey = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const fetched = { discovery: 0, jwks: 0 };
const otherKey = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const clientId = process.env.OIDC_CLIENT_ID;
const clientSecret = process.env.OIDC_CLIENT_SECRET;
const redirectUri = process.env.OIDC_REDIRECT_URI;

const b64url = (value) => Buffer.from(value).toString('base64url');
const json = (res, status, body) => {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
};

function idToken(issuer, grant) {
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    iss: grant.flaw === 'wrong_issuer' ? 'https://impostor.example' : issuer,
    sub: `sub-${grant.email}`,
    aud: grant.flaw === 'wrong_audience' ? 'some-other-client' : clientId,
    iat: grant.flaw === 'expired' ? now - 7200 : now,
    exp: grant.flaw === 'expired' ? now - 3600 : now + 300,
    nonce: grant.flaw === 'wrong_nonce' ? 'not-the-nonce-gatehouse-sent' : grant.nonce,
    email: grant.email,
    email_verified: true,
  };
  if (grant.flaw === 'unsigned') {
    return `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}.`;
  }
  const input = `${b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid }))}.${b64url(JSON.stringify(claims))}`;
  const key = grant.flaw === 'other_key' ? otherKey.privateKey : signingKey.privateKey;
  return `${input}.${crypto.sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}

async function body(req) {
  let data = '';
  for await (const chunk of req) data += chunk;
  return new URLSearchParams(data);
}

function authenticated(req) {
  const basic = (req.headers.authorization || '').replace(/^Basic /, '');
  const [id, secret] = Buffer.from(basic, 'base64').toString().split(':').map(decodeURIComponent);
  return id === clientId && secret === clientSecret;
}

serveIssuer((issuer) => async (req, res) => {
  const url = new URL(req.url, issuer);
  if (url.pathname === '/.well-known/openid-configuration') {
    fetched.discovery += 1;
    return json(res, 200, {
      issuer,
      authorization_endpoint: `${issuer}/auth`,
      token_endpoint: `${issuer}/token`,
      jwks_uri: `${issuer}/jwks`,
      response_types_supported: ['code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      token_endpoint_auth_methods_supported: ['client_secret_basic'],
      code_challenge_methods_supported: ['S256'],
    });
  }
  if (url.pathname === '/jwks') {
    fetched.jwks += 1;
    const jwk = signingKey.publicKey.export({ format: 'jwk' });
    return json(res, 200, { keys: [{ ...jwk, kid, use: 'sig', alg: 'RS256' }] });
  }
  if (url.pathname === '/rotate' && req.method === 'POST') {
    generation += 1;
    kid = `forger-${generation}`;
    signingKey = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    return json(res, 200, { kid });
  }
  if (url.pathname === '/stats') return json(res, 200, fetched);
  if (url.pathname === '/auth') {
    const q = url.searchParams;
    const back = new URL(q.get('redirect_uri') === redirectUri ? redirectUri : 'about:blank');
    back.searchParams.set('state', q.get('state') || '');
    if (q.get('flaw') === 'refused') {
      back.searchParams.set('error', 'access_denied');
      back.searchParams.set('error_description', 'User is disabled');
    } else {
      const grant = {
        flaw: q.get('flaw') || 'none',
        nonce: q.get('nonce'),
        email: q.get('login_hint') || 'forged@acme.example',
      };
      back.searchParams.set('code', b64url(JSON.stringify(grant)));
    }
    res.writeHead(303, { location: back.toString() });
    return res.end();
  }
  if (url.pathname === '/token' && req.method === 'POST') {
    const form = await body(req);
    if (!authenticated(req)) return json(res, 401, { error: 'invalid_client' });
    let grant;
    try {
      grant = JSON.parse(Buffer.from(form.get('code') || '', 'base64url').toString());
    } catch {
      return json(res, 400, { error: 'invalid_grant' });
    }
    return json(res, 200, {
      access_token: crypto.randomBytes(16).toString('hex'),
      token_type: 'Bearer',
      expires_in: 300,
      id_token: idToken(issuer, grant),
    });
  }
  res.writeHead(404);
  res.end();
});
