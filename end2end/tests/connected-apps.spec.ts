import { test, expect, Page, TestInfo } from "@playwright/test";
import { jsEnabled, open, signUp, unique, createOrg as createAnyOrg, whoami, registerClient, connectClient } from "./helpers";

// The apps connected to my account at /settings/connected-apps, with and without JavaScript:
// an MCP client connected through the real OAuth flow in two orgs is listed once per org with
// its permissions; disconnecting it in one org ends that connection's tokens at once and
// leaves the other org's connection working.
/** Connects the client through consent in the org the MCP URL names; returns its tokens. */
async function connect(page: Page, clientId: string, slug: string, baseURL: string) {
  return connectClient(page, clientId, `${baseURL}/o/${slug}/mcp`);
}

async function createOrg(page: Page, testInfo: TestInfo, name: string, slug: string) {
  await createAnyOrg(page, testInfo, slug, name);
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
