// An OpenID Connect provider for the single sign-on tests: node `oidc-provider` (an OpenID
// certified implementation), over HTTPS with the test's certificate, its sign-in form the
// library's development one (any login, any password).
//
// Environment: OIDC_CERT, OIDC_KEY (PEM files), OIDC_PORT (0: any free one), OIDC_CLIENT_ID,
// OIDC_CLIENT_SECRET, OIDC_REDIRECT_URI. Prints "READY <port>" once it listens; the issuer is
// https://127.0.0.1:<port>.
//
// People: the login name is the email address; the subject is "sub-" + that address; an
// address starting with "unverified" has email_verified false. Consent is granted by itself
// (a company's own provider doesn't ask its employees whether they may use their tools).
import Provider from 'oidc-provider';
import { serveIssuer } from './oidc_https.mjs';

serveIssuer((issuer) => {
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: process.env.OIDC_CLIENT_ID,
        client_secret: process.env.OIDC_CLIENT_SECRET,
        redirect_uris: [process.env.OIDC_REDIRECT_URI],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    features: { devInteractions: { enabled: true } },
    pkce: { required: () => true },
    cookies: { keys: ['gatehouse-sso-tests'] },
    async findAccount(ctx, id) {
      return {
        accountId: id,
        async claims() {
          return {
            sub: `sub-${id}`,
            email: id,
            email_verified: !id.startsWith('unverified'),
            name: id.split('@')[0],
          };
        },
      };
    },
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId
        || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope('openid email profile');
      await grant.save();
      return grant;
    },
  });
  // The library's own warnings about development settings are expected here.
  provider.on('server_error', (ctx, err) => console.error('server_error', err));
  return provider.callback();
});
