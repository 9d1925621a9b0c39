// An organization's own MCP server behind Gatehouse's gateway, written with the official MCP
// TypeScript SDK, stateless and answering with plain JSON. It accepts only Gatehouse's signed
// caller assertion, checked offline with `jose` against Gatehouse's published keys (issuer,
// audience = this server's own URL, expiry, EdDSA), and tells its tools who is calling.
//
// Environment: GATEHOUSE (its issuer URL). Prints "READY <port>" once it listens on 127.0.0.1;
// its endpoint is http://127.0.0.1:<port>/mcp.
//
// Tools: `search` (read-only: echoes the query and the caller), `purge` (marked destructive).
import http from 'node:http';
import * as jose from 'jose';
import { z } from 'zod';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

const gatehouse = process.env.GATEHOUSE;
const keys = jose.createRemoteJWKSet(new URL(`${gatehouse}/.well-known/jwks.json`));
let url;

/** The caller Gatehouse vouches for, or null. */
async function caller(req) {
  const token = (req.headers.authorization || '').replace(/^Bearer /, '');
  try {
    const { payload } = await jose.jwtVerify(token, keys, { issuer: gatehouse, audience: url, algorithms: ['EdDSA'] });
    return payload;
  } catch (e) {
    console.error(`refused a token: ${e.code || e.message}`);
    return null;
  }
}

function serverFor(who) {
  const server = new McpServer({ name: 'acme-docs', version: '1.0.0' });
  server.registerTool(
    'search',
    {
      description: 'Searches the docs.',
      inputSchema: { q: z.string() },
      annotations: { readOnlyHint: true },
    },
    async ({ q }) => ({
      content: [{ type: 'text', text: JSON.stringify({ q, email: who.email, role: who.role, org: who.org }) }],
    }),
  );
  server.registerTool(
    'purge',
    { description: 'Deletes every draft.', annotations: { destructiveHint: true } },
    async () => ({ content: [{ type: 'text', text: `purged by ${who.email}` }] }),
  );
  return server;
}

const listener = http.createServer(async (req, res) => {
  if (new URL(req.url, 'http://x').pathname !== '/mcp') {
    res.writeHead(404).end();
    return;
  }
  const who = await caller(req);
  if (!who) {
    res.writeHead(401, { 'www-authenticate': 'Bearer' }).end();
    return;
  }
  let body = '';
  for await (const chunk of req) body += chunk;
  // Stateless: a server and transport per request, as the SDK's stateless examples do.
  const server = serverFor(who);
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  res.on('close', () => {
    transport.close();
    server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, body ? JSON.parse(body) : undefined);
});

listener.listen(0, '127.0.0.1', () => {
  const { port } = listener.address();
  url = `http://127.0.0.1:${port}/mcp`;
  console.log(`READY ${port}`);
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
