import { test, expect, Page, TestInfo } from "@playwright/test";
import { createHash } from "node:crypto";
import { jsEnabled, open, signUp, unique, createOrg as createAnyOrg, whoami, registerClient, connectClient } from "./helpers";

// The org admin's OAuth clients pages (/admin/oauth-clients), with and without JavaScript: an
// MCP client connected in two orgs is listed with its source, scopes and connections, found by
// search, shown in detail, revoked for one org (its tokens stop there, and only there) and
// allowed again; an admin creates an org-owned client (ID and secret shown once) and deletes
// it; another org's client is "not found".
const CALLBACK = "http://127.0.0.1:7782/callback";

async function register(page: Page, name: string): Promise<string> {
  return registerClient(page, name, CALLBACK);
}

/** Authorizes `clientId` for the org `slug` as the signed-in user and exchanges the code. */
async function connect(page: Page, baseURL: string, clientId: string, slug: string) {
  const body = await connectClient(page, clientId, `${baseURL}/o/${slug}/mcp`, { scope: "mcp:read", callback: CALLBACK });
  return { access: body.access_token, refresh: body.refresh_token };
}

async function refresh(page: Page, clientId: string, refreshToken: string) {
  return page.request.post("/oauth/token", {
    form: { grant_type: "refresh_token", refresh_token: refreshToken, client_id: clientId },
  });
}

async function createOrg(page: Page, testInfo: TestInfo, slug: string) {
  await createAnyOrg(page, testInfo, slug, `Org ${slug}`);
}

async function switchOrg(page: Page, testInfo: TestInfo, slug: string) {
  await open(page, testInfo, "/admin/oauth-clients");
  await page.getByTestId("org-switcher").selectOption(slug);
  await page.locator("form.org-switcher").getByRole("button", { name: "Switch" }).click();
  await expect(page.getByTestId("org-switcher")).toHaveValue(slug);
}

test("admin OAuth clients: list, search, details, revoke for one org only, create and delete", async ({ page, baseURL }, testInfo) => {
  test.setTimeout(180_000);
  const project = testInfo.project.name;
  const admin = `${unique(testInfo, "ada")}@example.com`;
  const acme = unique(testInfo, "acme");
  const beta = unique(testInfo, "beta");
  const clientName = `Claude ${project} ${Date.now().toString(36)}`;
  const betaOnly = `Beta tool ${project} ${Date.now().toString(36)}`;

  await signUp(page, testInfo, admin);
  await createOrg(page, testInfo, acme);
  await createOrg(page, testInfo, beta);

  // One MCP client connected in both orgs; another only in Beta.
  const clientId = await register(page, clientName);
  const inAcme = await connect(page, baseURL!, clientId, acme);
  const inBeta = await connect(page, baseURL!, clientId, beta);
  const betaClientId = await register(page, betaOnly);
  await connect(page, baseURL!, betaClientId, beta);
  expect((await whoami(page, acme, inAcme.access)).status()).toBe(200);
  expect((await whoami(page, beta, inBeta.access)).status()).toBe(200);

  // Acme's list: the client, with its source, scopes and connections; not Beta's other client.
  await switchOrg(page, testInfo, acme);
  await open(page, testInfo, "/admin/oauth-clients");
  await expect(page.getByRole("heading", { level: 1 })).toContainText(`OAuth clients in Org ${acme}`);
  const row = page.locator(`tr[data-client-id="${clientId}"]`);
  await expect(row).toContainText(clientName);
  await expect(row).toContainText("Dynamically registered");
  await expect(row).toContainText("Self-registered");
  await expect(row).toContainText(CALLBACK);
  await expect(row).toContainText("mcp:read");
  await expect(row.getByTestId("active-connections")).toHaveText("1");
  await expect(page.locator(`tr[data-client-id="${betaClientId}"]`)).toHaveCount(0);
  await page.screenshot({ path: `screenshots/admin-clients-${project}.png`, fullPage: true });

  // Search and filter: a GET form; the query stays in the URL and in the form.
  await page.getByLabel("Search").fill(clientId);
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page).toHaveURL(new RegExp(`q=${clientId}`));
  if (jsEnabled(testInfo)) await expect(page.locator("body[data-hydrated]")).toHaveCount(1, { timeout: 30_000 });
  await expect(row).toBeVisible();
  await expect(page.getByLabel("Search")).toHaveValue(clientId);
  await open(page, testInfo, `/admin/oauth-clients?q=${encodeURIComponent(betaOnly)}`);
  await expect(page.getByTestId("clients-empty")).toHaveText("No client matches this search.");
  await open(page, testInfo, "/admin/oauth-clients?source=admin");
  await expect(row).toHaveCount(0);
  await open(page, testInfo, "/admin/oauth-clients?source=dynamic&blocked=no");
  await expect(row).toBeVisible();
  await expect(page.getByLabel("Source")).toHaveValue("dynamic");

  // Details: redirect URIs, granted scopes, the org's connections.
  await row.getByRole("link", { name: clientName }).click();
  await expect(page).toHaveURL(/\/admin\/oauth-clients\/[0-9a-f-]{36}$/);
  const detailUrl = page.url();
  await expect(page.getByTestId("client-name")).toHaveText(clientName);
  await expect(page.getByTestId("client-facts")).toContainText(clientId);
  await expect(page.getByTestId("client-facts")).toContainText(CALLBACK);
  await expect(page.getByTestId("client-facts")).toContainText("Public (no client secret; PKCE only)");
  await expect(page.getByTestId("granted-scopes")).toHaveText("mcp:read");
  await expect(page.getByTestId("client-connections")).toContainText(admin);
  await page.screenshot({ path: `screenshots/admin-client-detail-${project}.png`, fullPage: true });

  // Another org's client, by client_id or an unknown id: not found, nothing revealed.
  for (const path of [`/admin/oauth-clients/${betaClientId}`, "/admin/oauth-clients/0190f0f0-0000-7000-8000-000000000000"]) {
    const res = await page.goto(path);
    expect(res?.status()).toBe(404);
    await expect(page.getByTestId("error-panel")).toContainText("There is no such OAuth client in this organization.");
    expect(await page.content()).not.toContain(betaOnly);
  }

  // Revoke for this org, after a confirmation: its token stops in Acme, not in Beta.
  await open(page, testInfo, "/admin/oauth-clients");
  await row.getByText("Revoke for this organization…").click();
  await expect(row.getByText(/Other organizations are not affected/)).toBeVisible();
  await row.getByRole("button", { name: "Revoke for this organization" }).click();
  await expect(page.getByText(`Revoked “${clientName}” for Org ${acme}`)).toBeVisible();
  await expect(row.getByTestId("blocked-badge")).toBeVisible();
  await expect(row.getByTestId("active-connections")).toHaveText("0");
  expect((await whoami(page, acme, inAcme.access)).status()).toBe(401);
  expect((await refresh(page, clientId, inAcme.refresh)).status()).toBe(400);
  expect((await whoami(page, beta, inBeta.access)).status()).toBe(200);
  const fresh = await refresh(page, clientId, inBeta.refresh);
  expect(fresh.status()).toBe(200);
  expect((await whoami(page, beta, (await fresh.json()).access_token)).status()).toBe(200);
  // A new authorization in Acme is refused with the reason.
  await page.goto(`/oauth/authorize?${new URLSearchParams({
    response_type: "code", client_id: clientId, redirect_uri: CALLBACK, state: "st", scope: "mcp:read",
    code_challenge: createHash("sha256").update("x".repeat(43)).digest("base64url"), code_challenge_method: "S256",
    resource: `${baseURL}/o/${acme}/mcp`,
  })}`);
  await expect(page.getByTestId("policy-blocked")).toContainText(`An admin of Org ${acme} has blocked ${clientName}.`);
  await expect(page.getByRole("button", { name: "Authorize" })).toBeDisabled();
  await open(page, testInfo, "/admin/oauth-clients?blocked=yes");
  await expect(row).toBeVisible();

  // Allowed again.
  await row.getByRole("button", { name: "Allow again" }).click();
  await expect(page.getByText(`Allowed “${clientName}” in Org ${acme} again.`)).toBeVisible();
  await open(page, testInfo, detailUrl.replace(baseURL!, ""));
  await expect(page.getByTestId("blocked-badge")).toHaveCount(0);

  // Create a client owned by the org: ID and secret shown once, with a warning.
  await open(page, testInfo, "/admin/oauth-clients");
  await page.getByTestId("new-client").click();
  await expect(page).toHaveURL(/\/admin\/oauth-clients\/new$/);
  if (jsEnabled(testInfo)) await expect(page.locator("body[data-hydrated]")).toHaveCount(1, { timeout: 30_000 });
  const ownName = `Reporting bot ${project}`;
  // A bad redirect URI is refused next to its field, nothing created; the form comes back as
  // it was typed (without JavaScript too, where the page is loaded again).
  await page.getByLabel("Name", { exact: true }).fill(ownName);
  await page.getByLabel("Redirect URIs").fill("http://reports.example.com/cb");
  await page.getByLabel("Description").fill("Sends the weekly report");
  await page.getByLabel("mcp:write").check();
  await page.getByLabel("Public").check();
  await page.getByRole("button", { name: "Create client" }).click();
  await expect(page.locator("#redirect_uris-error")).toBeVisible();
  await expect(page.getByTestId("created-client")).toHaveCount(0);
  await expect(page.getByLabel("Name", { exact: true })).toHaveValue(ownName);
  await expect(page.getByLabel("Redirect URIs")).toHaveValue("http://reports.example.com/cb");
  await expect(page.getByLabel("Description")).toHaveValue("Sends the weekly report");
  await expect(page.getByLabel("mcp:read")).toBeChecked();
  await expect(page.getByLabel("mcp:write")).toBeChecked();
  await expect(page.getByLabel("Public")).toBeChecked();
  // Shown once: the page loaded afresh has the empty form again.
  await open(page, testInfo, "/admin/oauth-clients/new");
  await expect(page.getByLabel("Name", { exact: true })).toHaveValue("");
  await expect(page.getByLabel("Redirect URIs")).toHaveValue("");
  await expect(page.getByLabel("mcp:write")).not.toBeChecked();
  await expect(page.getByLabel("Confidential")).toBeChecked();
  await page.getByLabel("Name", { exact: true }).fill(ownName);
  await page.getByLabel("Redirect URIs").fill("https://reports.example.com/oauth/callback");
  await page.getByLabel("Description").fill("Sends the weekly report");
  await page.getByRole("button", { name: "Create client" }).click();
  const created = page.getByTestId("created-client");
  await expect(created).toContainText(`Created the OAuth client “${ownName}”.`);
  const values = created.getByTestId("copy-value");
  await expect(values).toHaveCount(2);
  const ownId = await values.nth(0).inputValue();
  const ownSecret = await values.nth(1).inputValue();
  expect(ownId).toMatch(/^gc_/);
  expect(ownSecret).toMatch(/^gate_cs_/);
  await expect(created).toContainText("it won't be shown again");
  await expect(created.getByRole("button", { name: "Copy" })).toHaveCount(2);
  await page.screenshot({ path: `screenshots/admin-client-new-${project}.png`, fullPage: true });
  // The secret authenticates the client at the token endpoint (the code is bad, the client good).
  const asClient = (secret: string) =>
    page.request.post("/oauth/token", {
      headers: { Authorization: `Basic ${Buffer.from(`${ownId}:${secret}`).toString("base64")}` },
      form: { grant_type: "authorization_code", code: "nope", redirect_uri: "https://reports.example.com/oauth/callback", code_verifier: "v".repeat(43) },
    });
  expect((await (await asClient(ownSecret)).json()).error).toBe("invalid_grant");
  expect((await asClient("gate_cs_wrong")).status()).toBe(401);
  // Shown once: a reload doesn't show it again.
  await open(page, testInfo, "/admin/oauth-clients/new");
  await expect(page.getByTestId("created-client")).toHaveCount(0);
  expect(await page.content()).not.toContain(ownSecret);

  // Introspection answers only the token's own client or a resource server of the org: the
  // org's own client sees nothing until an admin makes it one, on its page.
  const again = await connect(page, baseURL!, clientId, acme);
  const introspect = () =>
    page.request.post("/oauth/introspect", {
      headers: { Authorization: `Basic ${Buffer.from(`${ownId}:${ownSecret}`).toString("base64")}` },
      form: { token: again.access },
    });
  expect(await (await introspect()).json()).toEqual({ active: false });
  await open(page, testInfo, `/admin/oauth-clients?q=${encodeURIComponent(ownName)}`);
  const own = page.locator(`tr[data-client-id="${ownId}"]`);
  await expect(own).toContainText("Admin-created");
  await expect(own).toContainText("This organization");
  await expect(own.getByTestId("resource-server-badge")).toHaveCount(0);
  await own.getByRole("link", { name: ownName }).click();
  if (jsEnabled(testInfo)) await expect(page.locator("body[data-hydrated]")).toHaveCount(1, { timeout: 30_000 });
  const trust = page.getByTestId("client-trust");
  await trust.getByLabel(/Resource server/).check();
  await trust.getByRole("button", { name: "Save permissions" }).click();
  await expect(page.getByText(`Saved what “${ownName}” may do: it may introspect this organization's tokens; it must use PKCE.`)).toBeVisible();
  await expect(trust.getByLabel(/Resource server/)).toBeChecked();
  await page.screenshot({ path: `screenshots/admin-client-permissions-${project}.png`, fullPage: true });
  const answer = await (await introspect()).json();
  expect(answer.active).toBe(true);
  expect(answer.org).toBe(acme);
  expect(answer.role).toBe("admin");
  await open(page, testInfo, `/admin/oauth-clients?q=${encodeURIComponent(ownName)}`);
  await expect(own.getByTestId("resource-server-badge")).toBeVisible();
  // A public client can't be given it: the panel isn't offered on a dynamic client's page.
  await open(page, testInfo, detailUrl.replace(baseURL!, ""));
  await expect(page.getByTestId("client-trust")).toHaveCount(0);

  // Listed as the org's own; delete it after a confirmation: its credentials stop working.
  await open(page, testInfo, `/admin/oauth-clients?q=${encodeURIComponent(ownName)}`);
  await expect(own).toContainText("Admin-created");
  await expect(own).toContainText("This organization");
  await expect(row.getByText("Delete…")).toHaveCount(0); // not the org's: revoke only
  await own.getByRole("link", { name: ownName }).click();
  await expect(page.getByTestId("client-facts")).toContainText("Confidential");
  await expect(page.getByText("Sends the weekly report")).toBeVisible();
  if (jsEnabled(testInfo)) await expect(page.locator("body[data-hydrated]")).toHaveCount(1, { timeout: 30_000 });
  await page.getByText("Delete…").click();
  await expect(page.getByText(/This can't be undone/)).toBeVisible();
  await page.getByRole("button", { name: "Delete client" }).click();
  await expect(page.getByText(`Deleted “${ownName}”.`)).toBeVisible();
  if (jsEnabled(testInfo)) {
    // The page says so and leads back to the list.
    await page.getByTestId("client-deleted").getByRole("link", { name: "All OAuth clients" }).click();
  }
  await expect(page).toHaveURL(/\/admin\/oauth-clients$/);
  await expect(page.locator(`tr[data-client-id="${ownId}"]`)).toHaveCount(0);
  expect((await asClient(ownSecret)).status()).toBe(401);
});
