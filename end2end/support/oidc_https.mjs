// The HTTPS listener both test OpenID Connect providers run on (oidc_provider.mjs and
// forging_oidc_provider.mjs), with the test's certificate.
//
// Environment: OIDC_CERT, OIDC_KEY (PEM files), OIDC_PORT (0: any free one). Prints
// "READY <port>" once it listens; the issuer is https://127.0.0.1:<port>.
import fs from 'node:fs';
import https from 'node:https';

/** Listens, then answers every request with what `handlerFor(issuer)` returns. */
export function serveIssuer(handlerFor) {
  const server = https.createServer({
    cert: fs.readFileSync(process.env.OIDC_CERT),
    key: fs.readFileSync(process.env.OIDC_KEY),
  });
  server.listen(Number(process.env.OIDC_PORT || 0), '127.0.0.1', () => {
    const port = server.address().port;
    server.on('request', handlerFor(`https://127.0.0.1:${port}`));
    console.log(`READY ${port}`);
  });
  for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
}
