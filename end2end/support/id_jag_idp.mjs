// An enterprise identity provider issuing Identity Assertion JWT Authorization Grants (ID-JAG,
// the MCP extension "enterprise-managed authorization"), for the tests of Gatehouse's RFC 7523
// jwt-bearer grant. Keys, JWKS and signatures are done with `jose` (panva), a real JOSE library.
//
// Environment: OIDC_CERT, OIDC_KEY (PEM files), OIDC_PORT (0: any free one). Prints
// "READY <port>"; the issuer is https://127.0.0.1:<port>.
//
//   POST /clients {client_id, client_secret, mcp_client_id}
//                                                   registers an MCP client here, with the
//                                                   client ID it has at the MCP authorization
//                                                   server (extension §6.1: the IdP admin's mapping)
//   GET  /.well-known/openid-configuration, /jwks   discovery and the published keys (RS256, ES256)
//   GET  /login?sub=…&email=…                       stands in for a person's browser sign-in: an
//                                                   ID token for the MCP client (leg 1)
//   POST /token                                     RFC 8693 token exchange of that ID token for
//                                                   an ID-JAG (leg 2), client_secret_basic or _post
//   POST /mint   {claims, header, key, omit}        any ID-JAG, right or wrong, for refusal tests:
//                                                   `key` is rsa (default), ec, other (a key it
//                                                   doesn't publish, same kid), hmac or none
//   POST /rotate                                    replaces the RSA key (JWKS lists only the new one)
import crypto from 'node:crypto';
import * as jose from 'jose';
import { serveIssuer } from './oidc_https.mjs';

const clients = new Map(); // client_id → { secret, mcpClientId }
const ID_JAG = 'urn:ietf:params:oauth:token-type:id-jag';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

let generation = 1;
let rsa = { kid: 'idp-rsa-1', ...(await jose.generateKeyPair('RS256', { extractable: true })) };
const ec = { kid: 'idp-ec-1', ...(await jose.generateKeyPair('ES256', { extractable: true })) };
const unpublished = await jose.generateKeyPair('RS256');
const hmacSecret = new TextEncoder().encode('a-shared-secret-anyone-could-know-0123456789');

const json = (res, status, body) => {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
};

async function read(req) {
  let data = '';
  for await (const chunk of req) data += chunk;
  return data;
}

async function jwks() {
  const pub = async (k, alg) => ({ ...(await jose.exportJWK(k.publicKey)), kid: k.kid, alg, use: 'sig' });
  return { keys: [await pub(rsa, 'RS256'), await pub(ec, 'ES256')] };
}

/** Signs `claims` as an ID-JAG with `key`; `header` members replace the default header's. */
async function sign(claims, header = {}, key = 'rsa') {
  const typ = 'oauth-id-jag+jwt';
  if (key === 'none') {
    const b64 = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
    return `${b64({ alg: 'none', typ, ...header })}.${b64(claims)}.`;
  }
  const [alg, kid, secret] = {
    rsa: ['RS256', rsa.kid, rsa.privateKey],
    ec: ['ES256', ec.kid, ec.privateKey],
    other: ['RS256', rsa.kid, unpublished.privateKey],
    hmac: ['HS256', rsa.kid, hmacSecret],
  }[key];
  return new jose.SignJWT(claims).setProtectedHeader({ alg, kid, typ, ...header }).sign(secret);
}

function defaults(issuer, claims) {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: issuer,
    jti: crypto.randomUUID(),
    iat: now,
    exp: now + 300,
    ...claims,
  };
}

/** The authenticated client's ID, or null. */
function clientOf(req, form) {
  const basic = (req.headers.authorization || '').replace(/^Basic /, '');
  const [id, secret] = basic
    ? Buffer.from(basic, 'base64').toString().split(':').map(decodeURIComponent)
    : [form.get('client_id'), form.get('client_secret')];
  return clients.get(id)?.secret === secret ? id : null;
}

serveIssuer((issuer) => async (req, res) => {
  const url = new URL(req.url, issuer);
  try {
    if (url.pathname === '/.well-known/openid-configuration') {
      return json(res, 200, {
        issuer,
        authorization_endpoint: `${issuer}/auth`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256', 'ES256'],
        grant_types_supported: ['authorization_code', TOKEN_EXCHANGE],
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      });
    }
    if (url.pathname === '/jwks') return json(res, 200, await jwks());
    if (url.pathname === '/rotate' && req.method === 'POST') {
      generation += 1;
      rsa = { kid: `idp-rsa-${generation}`, ...(await jose.generateKeyPair('RS256', { extractable: true })) };
      return json(res, 200, { kid: rsa.kid });
    }
    if (url.pathname === '/clients' && req.method === 'POST') {
      const c = JSON.parse(await read(req));
      clients.set(c.client_id, { secret: c.client_secret, mcpClientId: c.mcp_client_id });
      return json(res, 201, { client_id: c.client_id });
    }
    if (url.pathname === '/login') {
      const sub = url.searchParams.get('sub');
      const clientId = url.searchParams.get('client_id');
      const idToken = await new jose.SignJWT({ email: url.searchParams.get('email') || undefined, email_verified: true })
        .setProtectedHeader({ alg: 'RS256', kid: rsa.kid })
        .setIssuer(issuer)
        .setSubject(sub)
        .setAudience(clientId)
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(rsa.privateKey);
      return json(res, 200, { id_token: idToken });
    }
    if (url.pathname === '/token' && req.method === 'POST') {
      const form = new URLSearchParams(await read(req));
      const client = clientOf(req, form);
      if (!client) return json(res, 401, { error: 'invalid_client' });
      if (form.get('grant_type') !== TOKEN_EXCHANGE || form.get('requested_token_type') !== ID_JAG) {
        return json(res, 400, { error: 'unsupported_grant_type' });
      }
      let subject;
      try {
        // The ID token must be this provider's, issued to the client asking (extension §4.1).
        const keys = jose.createLocalJWKSet(await jwks());
        ({ payload: subject } = await jose.jwtVerify(form.get('subject_token') || '', keys, { issuer, audience: client }));
      } catch (e) {
        return json(res, 400, { error: 'invalid_grant', error_description: `subject_token: ${e.message}` });
      }
      const scope = form.get('scope') || undefined;
      const assertion = await sign(defaults(issuer, {
        sub: subject.sub,
        email: subject.email,
        aud: form.get('audience'),
        resource: form.get('resource'),
        client_id: clients.get(client).mcpClientId,
        scope,
      }));
      return json(res, 200, {
        issued_token_type: ID_JAG,
        access_token: assertion,
        token_type: 'N_A',
        expires_in: 300,
        ...(scope ? { scope } : {}),
      });
    }
    if (url.pathname === '/mint' && req.method === 'POST') {
      const { claims = {}, header = {}, key = 'rsa', omit = [] } = JSON.parse((await read(req)) || '{}');
      const all = defaults(issuer, claims);
      for (const name of omit) delete all[name];
      return json(res, 200, { assertion: await sign(all, header, key) });
    }
    res.writeHead(404);
    return res.end();
  } catch (e) {
    return json(res, 500, { error: 'server_error', error_description: String(e) });
  }
});
