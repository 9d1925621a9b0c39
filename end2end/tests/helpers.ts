import { spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as readline from "node:readline";
import { expect, Page, TestInfo } from "@playwright/test";

export const PASSWORD = "correct horse battery staple";

/** A name unique to this run and project, so the js and nojs runs never collide. */
export function unique(testInfo: TestInfo, what: string): string {
  const id = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  return `${what}-${testInfo.project.name}-${id}`;
}

export function jsEnabled(testInfo: TestInfo): boolean {
  return testInfo.project.use.javaScriptEnabled !== false;
}

/**
 * Opens a page; with JavaScript on, waits until it is hydrated so clicks go through Leptos.
 * The debug wasm is ~12 MB and each test's fresh browser context compiles it again: with the
 * SDK flows running next to it on 2 cores that has taken over 10 s, hence the longer wait.
 */
export async function open(page: Page, testInfo: TestInfo, path: string) {
  await page.goto(path);
  if (jsEnabled(testInfo)) {
    await expect(page.locator("body[data-hydrated]")).toHaveCount(1, { timeout: 30_000 });
  }
}

/**
 * Signs up; by default also follows the verification link mailed to the address (an account
 * that hasn't is invited rather than added to orgs), as most tests want a settled account.
 */
export async function signUp(page: Page, testInfo: TestInfo, email: string, name = "", { verify = true } = {}) {
  await open(page, testInfo, "/signup");
  if (name) await page.getByLabel("Name", { exact: false }).fill(name);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/$/);
  if (verify) await verifyEmail(page, email);
}

/** Creates an organization (named "Acme {slug}" unless `name` is given) as the signed-in page's user (who becomes its admin). */
export async function createOrg(page: Page, testInfo: TestInfo, slug: string, name = `Acme ${slug}`) {
  await open(page, testInfo, "/orgs/new");
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByLabel("URL name").fill(slug);
  await page.getByRole("button", { name: "Create organization" }).click();
  await expect(page).toHaveURL(new RegExp(`/o/${slug}$`));
}

/**
 * Signs `member` up, then `admin`, who creates the organization `slug` and adds `member` to it
 * with `role` on the members page. The admin stays signed in.
 */
export async function orgWithMember(page: Page, testInfo: TestInfo, admin: string, member: string, slug: string, role = "querier") {
  await signUp(page, testInfo, member);
  await logOut(page);
  await signUp(page, testInfo, admin);
  await createOrg(page, testInfo, slug);
  await open(page, testInfo, "/admin/members");
  await page.getByLabel("Email").fill(member);
  await page.locator("#add-role").selectOption(role);
  await page.getByRole("button", { name: "Add member" }).click();
  await expect(page.getByText(`Added ${member} as ${role}.`)).toBeVisible();
  await expect(page.locator(`tr[data-email="${member}"]`)).toBeVisible();
}

export async function logIn(page: Page, testInfo: TestInfo, email: string, password = PASSWORD) {
  await open(page, testInfo, "/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

export async function logOut(page: Page) {
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login\?signed_out=1$/);
  await expect(page.getByText("You have signed out.")).toBeVisible();
}

export interface Mail {
  to: string[];
  subject: string;
  text: string;
  html: string;
  /** The first link of the plain-text body. */
  link: string;
}

const taken = new Set<string>();

/**
 * The next mail to `to` whose subject contains `subject`, as the SMTP server of the tests
 * received it (each mail a JSON file in GATEHOUSE_E2E_MAIL_DIR).
 */
export async function waitForMail(to: string, subject: string): Promise<Mail> {
  const dir = process.env.GATEHOUSE_E2E_MAIL_DIR;
  if (!dir) throw new Error("GATEHOUSE_E2E_MAIL_DIR is not set (see playwright.config.ts)");
  const deadline = Date.now() + 20_000;
  for (;;) {
    const names = fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => n.endsWith(".json")).sort() : [];
    for (const name of names) {
      if (taken.has(name)) continue;
      const mail = JSON.parse(fs.readFileSync(path.join(dir, name), "utf8"));
      if (mail.to.includes(to) && mail.subject.includes(subject)) {
        taken.add(name);
        const link = (mail.text.match(/https?:\/\/\S+/) ?? [""])[0];
        return { ...mail, link };
      }
    }
    if (Date.now() > deadline) throw new Error(`no mail to ${to} about "${subject}" within 20 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Follows the verification link mailed to `email` the quick way: the link's page and its
 * button's form post, as a browser without JavaScript sends them (the page itself has its own
 * test in accounts.spec.ts).
 */
export async function verifyEmail(page: Page, email: string) {
  const mail = await waitForMail(email, "Verify your email");
  const pathname = new URL(mail.link).pathname;
  const html = await (await page.request.get(pathname)).text();
  const csrf = html.match(/name="csrf" value="([^"]+)"/)?.[1] ?? "";
  const token = pathname.split("/").pop() ?? "";
  const res = await page.request.post("/fn/confirm_email", {
    form: { csrf, token },
    headers: { Accept: "text/html" },
    maxRedirects: 0,
  });
  expect(res.status()).toBe(302);
}

/** The TOTP code (RFC 6238: SHA-1, 6 digits, 30 s) an authenticator app shows for a base32 secret. */
export function totp(secret: string, offsetSeconds = 0): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of secret.replace(/\s+/g, "").toUpperCase()) {
    bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  }
  const key = Buffer.from((bits.match(/.{8}/g) ?? []).map((b) => parseInt(b, 2)));
  const counter = Math.floor((Date.now() / 1000 + offsetSeconds) / 30);
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const mac = crypto.createHmac("sha1", key).update(msg).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return value.toString().padStart(6, "0");
}

// ---- an MCP client's side of an authorization ----

/** Where the test's MCP client wants its code (answered by the test through page.route). */
export const CALLBACK = "http://127.0.0.1:7777/callback";

export function pkce() {
  const verifier = crypto.randomBytes(32).toString("base64url");
  const challenge = crypto.createHash("sha256").update(verifier).digest("base64url");
  return { verifier, challenge };
}

/** Registers a public MCP client (RFC 7591) sending people back to `callback`: its client ID. */
export async function registerClient(page: Page, name: string, callback = CALLBACK): Promise<string> {
  const res = await page.request.post("/oauth/register", {
    data: { client_name: name, redirect_uris: [callback], token_endpoint_auth_method: "none" },
  });
  expect(res.status()).toBe(201);
  return (await res.json()).client_id;
}

export interface AuthorizationOptions {
  scope?: string;
  /** The redirect URI the client registered. */
  callback?: string;
}

/** Starts an authorization; the app's callback is answered by the test, which records its URL. */
export async function startAuthorization(page: Page, clientId: string, resource: string, { scope = "mcp:read mcp:write", callback = CALLBACK }: AuthorizationOptions = {}) {
  const { verifier, challenge } = pkce();
  const callbacks: string[] = [];
  await page.route(`${callback}**`, (route) => {
    callbacks.push(route.request().url());
    return route.fulfill({ status: 200, contentType: "text/plain", body: "callback received" });
  });
  const q = new URLSearchParams({
    response_type: "code",
    client_id: clientId,
    redirect_uri: callback,
    code_challenge: challenge,
    code_challenge_method: "S256",
    state: "st-123",
    scope,
    resource,
  });
  await page.goto(`/oauth/authorize?${q}`);
  return { verifier, callbacks };
}

/** Authorizes `clientId` on the consent screen as the signed-in user: the code and PKCE verifier. */
export async function authorizeCode(page: Page, clientId: string, resource: string, options: AuthorizationOptions = {}) {
  const callback = options.callback ?? CALLBACK;
  const { verifier, callbacks } = await startAuthorization(page, clientId, resource, options);
  await expect(page).toHaveURL(/\/oauth\/consent\//);
  await page.getByRole("button", { name: "Authorize" }).click();
  await expect.poll(() => callbacks.length).toBe(1);
  await page.unroute(`${callback}**`);
  const code = new URL(callbacks[0]).searchParams.get("code")!;
  expect(code).toBeTruthy();
  return { code, verifier };
}

/** Authorizes a public client and exchanges the code: the token response. */
export async function connectClient(page: Page, clientId: string, resource: string, options: AuthorizationOptions = {}) {
  const { code, verifier } = await authorizeCode(page, clientId, resource, options);
  const res = await page.request.post("/oauth/token", {
    form: { grant_type: "authorization_code", code, client_id: clientId, code_verifier: verifier, redirect_uri: options.callback ?? CALLBACK },
  });
  expect(res.status()).toBe(200);
  return (await res.json()) as { access_token: string; refresh_token: string };
}

/** Calls the org's MCP endpoint with a bearer token: the `whoami` tool. */
export async function whoami(page: Page, slug: string, token: string) {
  return whoamiAt(page, `/o/${slug}/mcp`, token);
}

/** The `whoami` tool at the MCP endpoint `path` with a bearer token. */
export async function whoamiAt(page: Page, path: string, token: string) {
  return page.request.post(path, {
    headers: {
      Authorization: `Bearer ${token}`,
      Accept: "application/json, text/event-stream",
      "Content-Type": "application/json",
      "MCP-Protocol-Version": "2025-06-18",
    },
    data: { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "whoami", arguments: {} } },
  });
}

/**
 * Starts an organization's own MCP server written with the MCP TypeScript SDK
 * (support/upstream_ts_sdk.mjs, JSON answers), trusting Gatehouse at `gatehouse`: its endpoint,
 * and how to stop it.
 */
export async function startUpstream(gatehouse: string, sdk: "typescript" | "python" = "typescript"): Promise<{ url: string; stop: () => void }> {
  const [program, script] =
    sdk === "typescript"
      ? [process.execPath, path.join(__dirname, "..", "support", "upstream_ts_sdk.mjs")]
      : ["python3", path.join(__dirname, "..", "support", "upstream_mcpserver.py")];
  const child = spawn(program, [script], {
    cwd: path.join(__dirname, ".."),
    env: { ...process.env, GATEHOUSE: gatehouse },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = readline.createInterface({ input: child.stdout! });
  const first: string = await new Promise((resolve, reject) => {
    lines.once("line", resolve);
    child.once("exit", (code) => reject(new Error(`the upstream MCP server exited (${code})`)));
  });
  const port = /^READY (\d+)$/.exec(first)?.[1];
  if (!port) throw new Error(`the upstream MCP server did not start: ${first}`);
  return { url: `http://127.0.0.1:${port}/mcp`, stop: () => child.kill() };
}

/** Adds `url` as the org's MCP server `name` on /admin/mcp-servers, as its signed-in admin. */
export async function addMcpServer(page: Page, testInfo: TestInfo, name: string, url: string) {
  await open(page, testInfo, "/admin/mcp-servers");
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByLabel("Endpoint (Streamable HTTP)").fill(url);
  await page.getByRole("button", { name: "Add MCP server" }).click();
  await expect(page.getByText(new RegExp(`Added ${name}: \\d+ tools listed`)).first()).toBeVisible();
}
