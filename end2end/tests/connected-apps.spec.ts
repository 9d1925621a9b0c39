import { test, expect, Page, TestInfo } from "@playwright/test";
import { createHash, randomBytes } from "node:crypto";
import { jsEnabled, open, signUp, unique } from "./helpers";

// The apps connected to my account at /settings/connected-apps, with and without JavaScript:
// an MCP client connected through the real OAuth flow in two orgs is listed once per org with
// its permissions; disconnecting it in one org ends that connection's tokens at once and
// leaves the other org's connection working.
const CALLBACK = "http://127.0.0.1:7777/callback";

function pkce() {
  const verifier = randomBytes(32).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  return { verifier, challenge };
}

async function registerClient(page: Page, name: string): Promise<string> {
  const res = await page.request.post("/oauth/register", {
    data: { client_name: name, redirect_uris: [CALLBACK], token_endpoint_auth_method: "none" },
  });
  expect(res.status()).toBe(201);
  return (await res.json()).client_id;
}

/** Connects the client through consent in the org the MCP URL names; returns its tokens. */
async function connect(page: Page, clientId: string, slug: string, baseURL: string) {
  const { verifier, challenge } = pkce();
  const callbacks: string[] = [];
  await page.route(`${CALLBACK}**`, (route) => {
    callbacks.push(route.request().url());
    return route.fulfill({ status: 200, contentType: "text/plain", body: "callback received" });
  });
  const q = new URLSearchParams({
    response_type: "code",
    client_id: clientId,
    redirect_uri: CALLBACK,
    code_challenge: challenge,
    code_challenge_method: "S256",
    state: "st",
    scope: "mcp:read mcp:write",
    resource: `${baseURL}/o/${slug}/mcp`,
  });
  await page.goto(`/oauth/authorize?${q}`);
  await expect(page).toHaveURL(/\/oauth\/consent\//);
  await page.getByRole("button", { name: "Authorize" }).click();
  await expect.poll(() => callbacks.length).toBe(1);
  await page.unroute(`${CALLBACK}**`);
  const code = new URL(callbacks[0]).searchParams.get("code")!;
  const res = await page.request.post("/oauth/token", {
    form: { grant_type: "authorization_code", code, client_id: clientId, code_verifier: verifier, redirect_uri: CALLBACK },
  });
  expect(res.status()).toBe(200);
  return (await res.json()) as { access_token: string; refresh_token: string };
}

async function whoami(page: Page, slug: string, token: string) {
  return page.request.post(`/o/${slug}/mcp`, {
    headers: {
      Authorization: `Bearer ${token}`,
      Accept: "application/json, text/event-stream",
      "Content-Type": "application/json",
      "MCP-Protocol-Version": "2025-06-18",
    },
    data: { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "whoami", arguments: {} } },
  });
}

async function createOrg(page: Page, testInfo: TestInfo, name: string, slug: string) {
  await open(page, testInfo, "/orgs/new");
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByLabel("URL name").fill(slug);
  await page.getByRole("button", { name: "Create organization" }).click();
  await expect(page).toHaveURL(new RegExp(`/o/${slug}$`));
}

test("connected apps: listed per org with permissions; disconnecting ends that connection only", async ({ page, baseURL }, testInfo) => {
  test.setTimeout(120_000);
  const pageErrors: string[] = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));
  const project = testInfo.project.name;
  const acme = unique(testInfo, "acme");
  const beta = unique(testInfo, "beta");
  const appName = `Playwright MCP client ${project}`;
  await signUp(page, testInfo, `${unique(testInfo, "ada")}@example.com`, "Ada");
  await createOrg(page, testInfo, `Acme ${acme}`, acme);
  await createOrg(page, testInfo, `Beta ${beta}`, beta);

  await open(page, testInfo, "/settings/connected-apps");
  await expect(page.getByRole("heading", { name: "Connected apps", level: 1 })).toBeVisible();
  await expect(page.getByTestId("connected-apps-empty")).toContainText("No apps are connected to your account.");

  const clientId = await registerClient(page, appName);
  const inAcme = await connect(page, clientId, acme, baseURL!);
  const inBeta = await connect(page, clientId, beta, baseURL!);
  expect((await whoami(page, acme, inAcme.access_token)).status()).toBe(200);

  // One panel per org, each with the app, its permissions and its last use.
  await open(page, testInfo, "/settings/connected-apps");
  const acmePanel = page.locator(`[data-testid="org-connections"][data-org="${acme}"]`);
  const betaPanel = page.locator(`[data-testid="org-connections"][data-org="${beta}"]`);
  await expect(acmePanel.getByRole("heading", { level: 2 })).toHaveText(`Acme ${acme}`);
  await expect(betaPanel.getByRole("heading", { level: 2 })).toHaveText(`Beta ${beta}`);
  const acmeRow = acmePanel.locator(`tr[data-client-id="${clientId}"]`);
  await expect(acmeRow).toContainText(appName);
  await expect(acmeRow).toContainText("mcp:read");
  await expect(acmeRow).toContainText("mcp:write");
  await expect(acmeRow).toContainText("dynamic registration");
  await expect(acmeRow.getByTestId("connection-status")).toHaveText("Active");
  await expect(acmeRow.locator("time")).toHaveCount(2); // connected, last used
  await expect(betaPanel.locator(`tr[data-client-id="${clientId}"]`)).toHaveCount(1);
  await page.screenshot({ path: `screenshots/connected-apps-${project}.png`, fullPage: true });

  // Disconnect in Acme, after a confirmation step.
  await acmeRow.getByText("Disconnect…").click();
  await acmeRow.getByRole("button", { name: "Disconnect" }).click();
  const done = jsEnabled(testInfo) ? page.getByTestId("row-result") : page.getByTestId("flash");
  await expect(done).toContainText(`Disconnected ${appName}.`);
  await expect(acmePanel).toHaveCount(0);
  await expect(betaPanel.locator(`tr[data-client-id="${clientId}"]`)).toHaveCount(1);

  // Its tokens stopped at once; the other org's connection still works.
  expect((await whoami(page, acme, inAcme.access_token)).status()).toBe(401);
  const refresh = await page.request.post("/oauth/token", {
    form: { grant_type: "refresh_token", refresh_token: inAcme.refresh_token, client_id: clientId },
  });
  expect(refresh.status()).toBe(400);
  expect((await refresh.json()).error).toBe("invalid_grant");
  expect((await whoami(page, beta, inBeta.access_token)).status()).toBe(200);

  // Reloaded: gone for good.
  await open(page, testInfo, "/settings/connected-apps");
  await expect(acmePanel).toHaveCount(0);
  await expect(betaPanel.locator(`tr[data-client-id="${clientId}"]`)).toHaveCount(1);
  expect(pageErrors).toEqual([]);
});

test("someone else's connection can't be disconnected", async ({ page, browser, baseURL }, testInfo) => {
  const slug = unique(testInfo, "own");
  await signUp(page, testInfo, `${unique(testInfo, "owner")}@example.com`);
  await createOrg(page, testInfo, `Own ${slug}`, slug);
  const clientId = await registerClient(page, `Owner's client ${testInfo.project.name}`);
  const tokens = await connect(page, clientId, slug, baseURL!);
  await open(page, testInfo, "/settings/connected-apps");
  const connectionId = await page.locator(`tr[data-client-id="${clientId}"]`).getAttribute("data-connection-id");
  expect(connectionId).toBeTruthy();

  // Another user replays the form with the owner's connection id: not found, nothing changes.
  const other = await browser.newContext({ baseURL, javaScriptEnabled: jsEnabled(testInfo) });
  const eve = await other.newPage();
  await signUp(eve, testInfo, `${unique(testInfo, "eve")}@example.com`);
  await open(eve, testInfo, "/settings/connected-apps");
  await expect(eve.getByTestId("connected-apps-empty")).toBeVisible();
  const csrf = await eve.locator('form.org-switcher input[name="csrf"], form input[name="csrf"]').first().inputValue();
  const res = await eve.request.post("/fn/revoke_connected_app", {
    form: { csrf, connection_id: connectionId! },
  });
  expect(res.status()).toBe(404);
  await other.close();
  expect((await whoami(page, slug, tokens.access_token)).status()).toBe(200);
});
