import { defineConfig } from "@playwright/test";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

// Gatehouse is started by Playwright on its own port and a fresh SQLite file, from the binary
// that `cargo leptos build` made (GATEHOUSE_BIN overrides its path).
const port = Number(process.env.GATEHOUSE_E2E_PORT ?? 3100);
const baseURL = `http://127.0.0.1:${port}`;
const root = path.resolve(__dirname, "..");
const bin = process.env.GATEHOUSE_BIN ?? path.join(root, "target", "debug", "gatehouse");
const db = path.join(os.tmpdir(), `gatehouse-e2e-${process.pid}-${Date.now()}.db`);
// Mail goes over SMTP to a real SMTP server (aiosmtpd, support/mail_sink.py) that writes each
// message into this directory; the tests read links from there. Set once here, inherited by
// the workers (which load this file again).
const smtpPort = Number(process.env.GATEHOUSE_E2E_SMTP_PORT ?? port + 25);
process.env.GATEHOUSE_E2E_MAIL_DIR ??= path.join(os.tmpdir(), `gatehouse-e2e-mail-${process.pid}-${Date.now()}`);
const mailDir = process.env.GATEHOUSE_E2E_MAIL_DIR;

// Client ID metadata documents are served over real HTTPS by support/doc_server.mjs, with a
// certificate from a CA made here once (openssl); Gatehouse trusts that CA through
// GATEHOUSE_EXTRA_CA_FILE and may fetch from loopback through the setting named unsafe.
const docsPort = Number(process.env.GATEHOUSE_E2E_DOCS_PORT ?? port + 26);
process.env.GATEHOUSE_E2E_METADATA_URL ??= `https://localhost:${docsPort}/client.json`;
process.env.GATEHOUSE_E2E_TLS_DIR ??= makeTestCa();
const tlsDir = process.env.GATEHOUSE_E2E_TLS_DIR;

// Single sign-on goes to a real OpenID Connect provider (node oidc-provider,
// support/oidc_provider.mjs) over HTTPS with the same test CA; Chromium is told to accept its
// certificate in the SSO tests.
const oidcPort = Number(process.env.GATEHOUSE_E2E_OIDC_PORT ?? port + 27);
process.env.GATEHOUSE_E2E_OIDC_ISSUER ??= `https://127.0.0.1:${oidcPort}`;
process.env.GATEHOUSE_E2E_OIDC_CLIENT_ID ??= "gatehouse-e2e";
process.env.GATEHOUSE_E2E_OIDC_CLIENT_SECRET ??= "the-e2e-providers-secret";

function makeTestCa(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gatehouse-e2e-tls-"));
  const run = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  run("req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Gatehouse e2e CA",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
  run("req", ...ec, "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=localhost");
  fs.writeFileSync(path.join(dir, "leaf.ext"),
    "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n");
  run("x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "leaf.pem",
    "-days", "2", "-extfile", "leaf.ext");
  fs.mkdirSync(path.join(dir, "docs"));
  const clientId = process.env.GATEHOUSE_E2E_METADATA_URL!;
  fs.writeFileSync(path.join(dir, "docs", "client.json"), JSON.stringify({
    client_id: clientId,
    client_name: "Gatehouse e2e metadata client",
    client_uri: "https://localhost/",
    // Any loopback port, as Claude Code's document does.
    redirect_uris: ["http://127.0.0.1/callback"],
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
    token_endpoint_auth_method: "none",
  }));
  return dir;
}

export default defineConfig({
  testDir: "./tests",
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 2,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: process.env.CI ? "list" : [["list"], ["html", { open: "never" }]],
  use: {
    baseURL,
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"],
    },
  },
  projects: [
    { name: "js", use: { javaScriptEnabled: true } },
    { name: "nojs", use: { javaScriptEnabled: false } },
  ],
  webServer: [
    {
      command: `python3 ${path.join(__dirname, "support", "mail_sink.py")} --dir ${mailDir} --port ${smtpPort}`,
      port: smtpPort,
      reuseExistingServer: false,
      timeout: 30_000,
      stdout: "pipe",
      stderr: "pipe",
    },
    {
      command: `node ${path.join(__dirname, "support", "doc_server.mjs")} ${docsPort} ${tlsDir}`,
      port: docsPort,
      reuseExistingServer: false,
      timeout: 30_000,
      stdout: "pipe",
      stderr: "pipe",
    },
    {
      command: `node ${path.join(__dirname, "support", "oidc_provider.mjs")}`,
      port: oidcPort,
      reuseExistingServer: false,
      timeout: 30_000,
      stdout: "pipe",
      stderr: "pipe",
      env: {
        OIDC_CERT: path.join(tlsDir, "leaf.pem"),
        OIDC_KEY: path.join(tlsDir, "leaf.key"),
        OIDC_PORT: String(oidcPort),
        OIDC_CLIENT_ID: process.env.GATEHOUSE_E2E_OIDC_CLIENT_ID,
        OIDC_CLIENT_SECRET: process.env.GATEHOUSE_E2E_OIDC_CLIENT_SECRET,
        OIDC_REDIRECT_URI: `${baseURL}/login/sso/callback`,
      },
    },
    {
      command: `${bin} serve`,
      cwd: root,
      url: `${baseURL}/readyz`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: "pipe",
      stderr: "pipe",
      env: {
        GATEHOUSE_PUBLIC_URL: baseURL,
        GATEHOUSE_BIND: `127.0.0.1:${port}`,
        GATEHOUSE_DATABASE_URL: `sqlite://${db}?mode=rwc`,
        RUST_LOG: "warn",
        // Every test signs people up from 127.0.0.1; the per-address limit has its own Rust test.
        GATEHOUSE_SIGNUPS_PER_HOUR: "100000",
        GATEHOUSE_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
        GATEHOUSE_MAIL_FROM: "Gatehouse <no-reply@gatehouse.test>",
        GATEHOUSE_EXTRA_CA_FILE: path.join(tlsDir, "ca.pem"),
        GATEHOUSE_UNSAFE_METADATA_FROM_LOOPBACK: "on",
        // The gateway tests start their upstream MCP servers on loopback.
        GATEHOUSE_UPSTREAM_ALLOWED_HOSTS: "127.0.0.1",
      },
    },
  ],
});
