import { test, expect, Browser, Page, TestInfo } from "@playwright/test";
import { randomBytes } from "node:crypto";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { OAuthClientProvider, UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from "@modelcontextprotocol/sdk/shared/auth.js";
import type { FetchLike } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { PASSWORD, addMcpServer, logOut, open, signUp, startUpstream, unique } from "./helpers";

// The official MCP TypeScript SDK against a running Gatehouse: the SDK's own OAuth client does
// discovery, dynamic registration, PKCE, the code exchange and refreshes; Chromium (driven by
// Playwright) is the user's browser that signs in and approves on the consent screen. The
// app's loopback callback is answered by Playwright, so no callback server is needed.
//
// These are HTTP client flows, not page behaviour: they run once, in the `js` project.
test.beforeEach(async ({}, testInfo) => {
  test.skip(testInfo.project.name !== "js", "SDK flows run once, in the js project");
});

const ALL_TOOLS = [
  "whoami",
  "list_my_connections",
  "revoke_my_connection",
  "list_members",
  "query_activity",
  "list_oauth_clients",
  "list_tokens",
  "get_org_policy",
  "revoke_token",
  "set_org_policy",
];

/** Signs in (when the authorization sends the browser to the sign-in page) and approves. */
type Approver = (authorizationUrl: URL, callbackUrl: string) => Promise<string>;

/**
 * An `OAuthClientProvider` keeping everything in memory, as an app would in its keychain. The
 * SDK calls `redirectToAuthorization` when the user must sign in; here that hands the URL to a
 * Playwright page, which returns the callback URL the browser was sent to.
 */
class PlaywrightOAuthProvider implements OAuthClientProvider {
  readonly redirect: string;
  client?: OAuthClientInformationMixed;
  /** Every token response the SDK saved, oldest first. */
  readonly saved: OAuthTokens[] = [];
  readonly authorizationUrls: URL[] = [];
  readonly callbacks: URL[] = [];
  private verifier?: string;
  private lastState?: string;

  constructor(
    private readonly approve: Approver,
    private readonly name = "Gatehouse SDK e2e",
  ) {
    // Any loopback port: Playwright answers the callback, nothing listens there.
    this.redirect = `http://127.0.0.1:${20000 + Math.floor(Math.random() * 40000)}/callback`;
  }

  get redirectUrl(): string {
    return this.redirect;
  }

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: this.name,
      redirect_uris: [this.redirect],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  }

  state(): string {
    this.lastState = randomBytes(16).toString("base64url");
    return this.lastState;
  }

  clientInformation(): OAuthClientInformationMixed | undefined {
    return this.client;
  }

  saveClientInformation(info: OAuthClientInformationMixed): void {
    this.client = info;
  }

  tokens(): OAuthTokens | undefined {
    return this.saved[this.saved.length - 1];
  }

  saveTokens(tokens: OAuthTokens): void {
    this.saved.push(tokens);
  }

  async redirectToAuthorization(url: URL): Promise<void> {
    this.authorizationUrls.push(url);
    const callback = new URL(await this.approve(url, this.redirect));
    expect(callback.searchParams.get("state")).toBe(this.lastState);
    this.callbacks.push(callback);
  }

  saveCodeVerifier(verifier: string): void {
    this.verifier = verifier;
  }

  codeVerifier(): string {
    if (!this.verifier) throw new Error("no code verifier saved");
    return this.verifier;
  }

  invalidateCredentials(scope: "all" | "client" | "tokens" | "verifier" | "discovery"): void {
    if (scope === "all" || scope === "client") this.client = undefined;
    if (scope === "all" || scope === "tokens") this.saved.length = 0;
    if (scope === "all" || scope === "verifier") this.verifier = undefined;
  }

  /** The code of the last callback (the app reads it from its redirect URI). */
  code(): string {
    const cb = this.callbacks[this.callbacks.length - 1];
    const code = cb?.searchParams.get("code");
    if (!code) throw new Error(`no code in the callback: ${cb?.href}`);
    return code;
  }
}

/**
 * The browser side of an authorization: opens the URL the SDK built, signs in if asked, approves
 * on the consent screen (choosing `orgName` when given), and returns the callback URL.
 */
function browserApprover(page: Page, email: string, orgName?: string): Approver {
  return async (authorizationUrl, callbackUrl) => {
    const callbacks: string[] = [];
    const pattern = `${callbackUrl}**`;
    await page.route(pattern, (route) => {
      callbacks.push(route.request().url());
      return route.fulfill({ status: 200, contentType: "text/plain", body: "You can close this window." });
    });
    try {
      await page.goto(authorizationUrl.href);
      if (new URL(page.url()).pathname === "/login") {
        await expect(page.locator("body[data-hydrated]")).toHaveCount(1);
        await page.getByLabel("Email").fill(email);
        await page.getByLabel("Password").fill(PASSWORD);
        await page.getByRole("button", { name: "Sign in" }).click();
      }
      // Remembered consent goes straight back to the app; otherwise the consent screen shows.
      await expect.poll(() => callbacks.length > 0 || /\/oauth\/consent\//.test(page.url())).toBe(true);
      if (callbacks.length === 0) {
        await expect(page.locator("body[data-hydrated]")).toHaveCount(1);
        await expect(page.getByTestId("consent-user")).toHaveText(email);
        if (orgName) {
          await page.getByLabel(orgName).check();
        }
        await page.getByRole("button", { name: "Authorize" }).click();
      }
      await expect.poll(() => callbacks.length).toBe(1);
      return callbacks[0];
    } finally {
      await page.unroute(pattern);
    }
  };
}

function transportFor(url: string, provider: PlaywrightOAuthProvider, fetchFn?: FetchLike) {
  return new StreamableHTTPClientTransport(new URL(url), { authProvider: provider, fetch: fetchFn });
}

/**
 * Connects the way the SDK's docs and examples do: connect; on `UnauthorizedError` the provider
 * has been through the browser, so `finishAuth(code)` on that transport, then connect again on a
 * fresh one.
 */
async function connect(url: string, provider: PlaywrightOAuthProvider, fetchFn?: FetchLike): Promise<Client> {
  const first = transportFor(url, provider, fetchFn);
  const client = new Client({ name: "gatehouse-e2e", version: "1.0.0" });
  try {
    await client.connect(first);
    return client;
  } catch (e) {
    if (!(e instanceof UnauthorizedError)) throw e;
  }
  await first.finishAuth(provider.code());
  const again = new Client({ name: "gatehouse-e2e", version: "1.0.0" });
  await again.connect(transportFor(url, provider, fetchFn));
  return again;
}

async function tool(client: Client, name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

/** A successful tool call's structured content. */
async function data(client: Client, name: string, args: Record<string, unknown> = {}): Promise<any> {
  const r = await tool(client, name, args);
  expect(r.isError ?? false, `${name}: ${JSON.stringify(r.content)}`).toBe(false);
  return r.structuredContent;
}

/** A fresh browser (its own cookies) for a second user. */
async function newUserPage(browser: Browser, baseURL: string | undefined): Promise<Page> {
  const context = await browser.newContext({ baseURL, javaScriptEnabled: true });
  return context.newPage();
}

async function createOrg(page: Page, testInfo: TestInfo, name: string, slug: string) {
  await open(page, testInfo, "/orgs/new");
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByLabel("URL name").fill(slug);
  await page.getByRole("button", { name: "Create organization" }).click();
  await expect(page).toHaveURL(new RegExp(`/o/${slug}$`));
}

async function addMember(page: Page, testInfo: TestInfo, email: string, role: string) {
  await open(page, testInfo, "/admin/members");
  await page.getByLabel("Email").fill(email);
  await page.locator("#add-role").selectOption(role);
  await page.getByRole("button", { name: "Add member" }).click();
  await expect(page.getByText(`Added ${email} as ${role}.`)).toBeVisible();
}

/** An admin signed up in `page` with a fresh org of their own. */
async function adminWithOrg(page: Page, testInfo: TestInfo, who: string) {
  const email = `${unique(testInfo, who)}@example.com`;
  const slug = unique(testInfo, "org");
  const orgName = `Org ${slug}`;
  await signUp(page, testInfo, email, who);
  await createOrg(page, testInfo, orgName, slug);
  return { email, slug, orgName };
}

test("401, discovery, registration, sign-in and consent in Chromium, then tools", async ({ page, baseURL }, testInfo) => {
  test.setTimeout(120_000);
  const { email, slug, orgName } = await adminWithOrg(page, testInfo, "ada");
  // Signed out, so the authorization goes through the sign-in page first.
  await logOut(page);

  const log: string[] = [];
  const logging: FetchLike = async (url, init) => {
    const res = await fetch(url, init);
    log.push(`${init?.method ?? "GET"} ${new URL(String(url)).pathname} ${res.status}`);
    return res;
  };
  const provider = new PlaywrightOAuthProvider(browserApprover(page, email, orgName));
  const client = await connect(`${baseURL}/mcp`, provider, logging);

  // The SDK's own way through: challenge, protected resource metadata, AS metadata, dynamic
  // registration, (browser), code exchange, then the initialize that works.
  const expected = [
    "POST /mcp 401",
    "GET /.well-known/oauth-protected-resource/mcp 200",
    "GET /.well-known/oauth-authorization-server 200",
    "POST /oauth/register 201",
    "POST /oauth/token 200",
    "POST /mcp 200",
  ];
  let at = 0;
  for (const line of log) if (line === expected[at]) at++;
  expect(at, `SDK requests: ${JSON.stringify(log, null, 1)}`).toBe(expected.length);

  const auth = provider.authorizationUrls[0];
  expect(auth.origin + auth.pathname).toBe(`${baseURL}/oauth/authorize`);
  expect(auth.searchParams.get("code_challenge_method")).toBe("S256");
  expect(auth.searchParams.get("resource")).toBe(`${baseURL}/mcp`);
  expect(provider.callbacks[0].searchParams.get("iss")).toBe(baseURL);
  expect(provider.client?.client_id).toBeTruthy();
  const tokens = provider.tokens()!;
  expect(tokens.access_token).toMatch(/^gate_at_/);
  expect(tokens.refresh_token).toMatch(/^gate_rt_/);
  expect(tokens.token_type.toLowerCase()).toBe("bearer");

  expect(client.getServerVersion()?.name).toBe("gatehouse");
  const { tools } = await client.listTools();
  expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(ALL_TOOLS));

  const me = await data(client, "whoami");
  expect(me.user.email).toBe(email);
  expect(me.organization.slug).toBe(slug);
  expect(me.role).toBe("admin");
  expect(me.credential.kind).toBe("mcp_oauth_pat");
  expect(me.credential.client_name).toBe("Gatehouse SDK e2e");
  expect(me.credential.resource).toBe(`${baseURL}/mcp`);
  await client.close();
});

test("a viewer connects to /o/{org}/mcp; querying activity is a tool error in plain words", async ({ page, browser, baseURL }, testInfo) => {
  test.setTimeout(120_000);
  const viewerPage = await newUserPage(browser, baseURL);
  const viewer = `${unique(testInfo, "vic")}@example.com`;
  await signUp(viewerPage, testInfo, viewer, "Vic");
  const { slug, orgName } = await adminWithOrg(page, testInfo, "ada");
  await addMember(page, testInfo, viewer, "viewer");

  const provider = new PlaywrightOAuthProvider(browserApprover(viewerPage, viewer, orgName));
  const client = await connect(`${baseURL}/o/${slug}/mcp`, provider);
  expect(provider.authorizationUrls[0].searchParams.get("resource")).toBe(`${baseURL}/o/${slug}/mcp`);

  const me = await data(client, "whoami");
  expect(me.user.email).toBe(viewer);
  expect(me.organization.slug).toBe(slug);
  expect(me.role).toBe("viewer");
  expect(me.credential.resource).toBe(`${baseURL}/o/${slug}/mcp`);

  const denied = await tool(client, "query_activity");
  expect(denied.isError).toBe(true);
  expect(denied.content).toEqual([
    { type: "text", text: "Your role viewer can't query organization data; ask an admin of the organization for access." },
  ]);
  await client.close();
  await viewerPage.context().close();
});

test("through the gateway: the SDK lists and calls the tools of the org's own MCP server as its member", async ({ page, browser, baseURL }, testInfo) => {
  test.setTimeout(120_000);
  const upstream = await startUpstream(baseURL!);
  try {
    const { email, slug, orgName } = await adminWithOrg(page, testInfo, "ada");
    await addMcpServer(page, testInfo, "docs", upstream.url);
    const querierPage = await newUserPage(browser, baseURL);
    const querier = `${unique(testInfo, "quinn")}@example.com`;
    await signUp(querierPage, testInfo, querier, "Quinn");
    await addMember(page, testInfo, querier, "querier");

    // The admin: Gatehouse's tools and both of the server's; the server hears who calls.
    const admin = await connect(`${baseURL}/o/${slug}/mcp`, new PlaywrightOAuthProvider(browserApprover(page, email, orgName)));
    const names = (await admin.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(["whoami", "docs__search", "docs__purge"]));
    const found = await tool(admin, "docs__search", { q: "refunds" });
    expect(found.isError ?? false, JSON.stringify(found.content)).toBe(false);
    expect(JSON.parse((found.content[0] as { text: string }).text)).toEqual({ q: "refunds", email, role: "admin", org: slug });
    expect((await tool(admin, "docs__purge")).content).toEqual([{ type: "text", text: `purged by ${email}` }]);
    await admin.close();

    // A querier: the destructive tool is neither listed nor callable.
    const q = await connect(`${baseURL}/o/${slug}/mcp`, new PlaywrightOAuthProvider(browserApprover(querierPage, querier, orgName)));
    const theirs = (await q.listTools()).tools.map((t) => t.name);
    expect(theirs).toContain("docs__search");
    expect(theirs).not.toContain("docs__purge");
    const seen = JSON.parse(((await tool(q, "docs__search", { q: "x" })).content[0] as { text: string }).text);
    expect(seen.role).toBe("querier");
    const refused = await tool(q, "docs__purge");
    expect(refused.isError).toBe(true);
    expect((refused.content[0] as { text: string }).text).toContain("docs__purge needs the admin role or higher");
    await q.close();
    await querierPage.context().close();
  } finally {
    upstream.stop();
  }
});

test("through the gateway: the server's progress reaches the SDK, and the SDK's cancellation reaches the server", async ({ page, baseURL }, testInfo) => {
  test.setTimeout(120_000);
  // The org's server written with the MCP Python SDK, answering with event streams.
  const upstream = await startUpstream(baseURL!, "python");
  try {
    const { email, slug, orgName } = await adminWithOrg(page, testInfo, "ada");
    await addMcpServer(page, testInfo, "crm", upstream.url);
    const client = await connect(`${baseURL}/o/${slug}/mcp`, new PlaywrightOAuthProvider(browserApprover(page, email, orgName)));

    const steps: Array<[number, number | undefined]> = [];
    const counted = await client.callTool({ name: "crm__count_to", arguments: { n: 3 } }, undefined, {
      onprogress: (p) => steps.push([p.progress, p.total]),
    });
    expect(counted.content).toEqual([{ type: "text", text: "counted to 3" }]);
    expect(steps).toEqual([[1, 3], [2, 3], [3, 3]]);

    const calls = async () => JSON.parse(((await tool(client, "crm__calls")).content[0] as { text: string }).text);
    const stop = new AbortController();
    const pending = client.callTool({ name: "crm__slow", arguments: { seconds: 60, tag: "sdk" } }, undefined, { signal: stop.signal, timeout: 90_000 });
    await expect.poll(async () => (await calls()).started).toContain("sdk");
    stop.abort("the user pressed stop");
    await expect(pending).rejects.toThrow();
    await expect.poll(async () => (await calls()).cancelled, { timeout: 10_000 }).toContain("sdk");
    await client.close();
  } finally {
    upstream.stop();
  }
});

test("after the access token expires the SDK refreshes and the refresh token rotates", async ({ page, baseURL }, testInfo) => {
  test.setTimeout(240_000);
  const { email, slug, orgName } = await adminWithOrg(page, testInfo, "ada");
  const url = `${baseURL}/o/${slug}/mcp`;
  const adminApp = await connect(url, new PlaywrightOAuthProvider(browserApprover(page, email, orgName), "Admin console"));
  expect((await data(adminApp, "set_org_policy", { access_token_ttl_secs: 60 })).policy.access_token_ttl_secs).toBe(60);

  try {
    // A new app connects now, so its access token gets the 60 second lifetime.
    const provider = new PlaywrightOAuthProvider(browserApprover(page, email, orgName), "Short-lived app");
    const client = await connect(url, provider);
    expect(provider.saved).toHaveLength(1);
    const first = provider.saved[0];
    expect(first.expires_in).toBe(60);
    const before = await data(client, "whoami");
    expect(before.user.email).toBe(email);
    const expiresAt = Date.parse(before.token_expires_at);
    const wait = expiresAt - Date.now() + 1_500;
    expect(wait).toBeLessThanOrEqual(62_000);

    await new Promise((resolve) => setTimeout(resolve, Math.max(wait, 0)));
    expect(Date.now()).toBeGreaterThan(expiresAt);

    // The next call gets 401 invalid_token; the SDK refreshes and retries by itself.
    const after = await data(client, "whoami");
    expect(after.user.email).toBe(email);
    expect(after.credential.connection_id).toBe(before.credential.connection_id);
    expect(Date.parse(after.token_expires_at)).toBeGreaterThan(Date.now());
    expect(provider.saved).toHaveLength(2);
    const second = provider.saved[1];
    expect(second.access_token).toMatch(/^gate_at_/);
    expect(second.access_token).not.toBe(first.access_token);
    expect(second.refresh_token).toMatch(/^gate_rt_/);
    expect(second.refresh_token).not.toBe(first.refresh_token);
    // Only one browser trip: the refresh needed no user.
    expect(provider.authorizationUrls).toHaveLength(1);
    await client.close();
  } finally {
    // The admin app's token predates the change (one hour), so it can restore the lifetime.
    expect((await data(adminApp, "set_org_policy", { access_token_ttl_secs: 3600 })).policy.access_token_ttl_secs).toBe(3600);
    await adminApp.close();
  }
});

test("a standard PAT from /settings/tokens works as a bearer header with the SDK", async ({ page, baseURL }, testInfo) => {
  test.setTimeout(120_000);
  const { email, slug } = await adminWithOrg(page, testInfo, "ada");
  await open(page, testInfo, "/settings/tokens");
  const name = `sdk ${unique(testInfo, "pat")}`;
  await page.getByLabel("Name").fill(name);
  await page.getByRole("button", { name: "Create token" }).click();
  // The secret is shown once, in a copy box labelled "Your new token".
  const secretBox = page.getByRole("textbox", { name: "Your new token" }).first();
  await expect(secretBox).toHaveValue(/^gate_pat_/);
  const pat = await secretBox.inputValue();

  const transport = new StreamableHTTPClientTransport(new URL(`${baseURL}/o/${slug}/mcp`), {
    requestInit: { headers: { Authorization: `Bearer ${pat}` } },
  });
  const client = new Client({ name: "gatehouse-e2e-pat", version: "1.0.0" });
  await client.connect(transport);
  const me = await data(client, "whoami");
  expect(me.user.email).toBe(email);
  expect(me.organization.slug).toBe(slug);
  expect(me.credential).toEqual({ kind: "pat", name });
  await client.close();
});

/** The same provider, identifying the app by a Client ID Metadata Document instead of registering. */
class MetadataDocumentProvider extends PlaywrightOAuthProvider {
  readonly clientMetadataUrl = process.env.GATEHOUSE_E2E_METADATA_URL!;
}

test("the SDK connects with a client ID metadata document, calls tools and refreshes", async ({ page, baseURL }, testInfo) => {
  test.setTimeout(120_000);
  const { email, slug, orgName } = await adminWithOrg(page, testInfo, "ada");
  const documentUrl = process.env.GATEHOUSE_E2E_METADATA_URL!;
  const registrations: string[] = [];
  const counting: FetchLike = async (url, init) => {
    if (new URL(String(url)).pathname === "/oauth/register") registrations.push(String(url));
    return fetch(url, init);
  };
  const provider = new MetadataDocumentProvider(browserApprover(page, email, orgName), "ignored by the document");
  const client = await connect(`${baseURL}/o/${slug}/mcp`, provider, counting);
  // The document's URL is the client ID; nothing was registered.
  expect(registrations).toEqual([]);
  expect(provider.client?.client_id).toBe(documentUrl);
  expect(provider.authorizationUrls[0].searchParams.get("client_id")).toBe(documentUrl);
  const tools = (await client.listTools()).tools.map((t) => t.name);
  expect(tools).toContain("whoami");
  const me = await data(client, "whoami");
  expect(me.user.email).toBe(email);

  // An access token the server no longer knows: the SDK refreshes with the document's client ID.
  provider.saved.push({ ...provider.saved[provider.saved.length - 1], access_token: "gate_at_notvalidanymore0000000000000000" });
  const again = await data(client, "whoami");
  expect(again.credential.connection_id).toBe(me.credential.connection_id);
  expect(provider.saved.length).toBeGreaterThanOrEqual(3);
  expect(provider.saved[provider.saved.length - 1].refresh_token).not.toBe(provider.saved[0].refresh_token);
  expect(provider.authorizationUrls).toHaveLength(1);
  await client.close();
});

// Last, in an org of its own: MCP stays off there, so nothing needs restoring.
test("an admin switches MCP off over MCP; the next call is refused", async ({ page, baseURL }, testInfo) => {
  test.setTimeout(120_000);
  const { email, slug, orgName } = await adminWithOrg(page, testInfo, "ada");
  const client = await connect(`${baseURL}/o/${slug}/mcp`, new PlaywrightOAuthProvider(browserApprover(page, email, orgName)));
  expect((await data(client, "whoami")).role).toBe("admin");
  expect((await data(client, "set_org_policy", { mcp_enabled: false })).policy.mcp_enabled).toBe(false);
  await expect(tool(client, "whoami")).rejects.toThrow("MCP server access disabled");
  await client.close();
});
