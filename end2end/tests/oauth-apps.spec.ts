import { test, expect, Page, TestInfo } from "@playwright/test";
import { jsEnabled, open, signUp, unique, CALLBACK, authorizeCode, whoamiAt } from "./helpers";

// A member's own OAuth apps at /settings/oauth-apps, with and without JavaScript: bad input is
// refused next to its field, a confidential app's client ID and secret are shown once and the
// secret really works at /oauth/token through the real authorization flow, edits are saved,
// rotation stops the old secret at once, deletion ends the app's tokens, and nobody else can
// even see the app.
/** Authorizes `clientId` through the consent screen; returns the code and PKCE verifier. */
async function authorize(page: Page, clientId: string, resource: string) {
  return authorizeCode(page, clientId, resource, { scope: "mcp:read" });
}

/** The token endpoint, authenticating as apps made here registered: HTTP Basic (client_secret_basic). A bogus code tells client auth apart from the grant. */
async function tokenRequest(page: Page, clientId: string, secret: string, code = "bogus", verifier = "x".repeat(43)) {
  const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString("base64");
  return page.request.post("/oauth/token", {
    headers: { Authorization: `Basic ${basic}` },
    form: {
      grant_type: "authorization_code",
      code,
      code_verifier: verifier,
      redirect_uri: CALLBACK,
    },
  });
}

async function whoami(page: Page, token: string) {
  return whoamiAt(page, "/mcp", token);
}

async function createOrg(page: Page, testInfo: TestInfo, name: string, slug: string) {
  await open(page, testInfo, "/orgs/new");
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByLabel("URL name").fill(slug);
  await page.getByRole("button", { name: "Create organization" }).click();
  await expect(page).toHaveURL(new RegExp(`/o/${slug}$`));
}

async function fillNewApp(page: Page, name: string, uris: string) {
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByLabel("Redirect URIs").fill(uris);
}

test("OAuth apps: create with the secret once, use it, edit, rotate, delete; others get 404", async ({ page, browser, baseURL }, testInfo) => {
  test.setTimeout(150_000);
  const pageErrors: string[] = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));
  const project = testInfo.project.name;
  const email = `${unique(testInfo, "ada")}@example.com`;
  const slug = unique(testInfo, "acme");
  const appName = `Acme reporting ${project}`;
  await signUp(page, testInfo, email, "Ada");
  await createOrg(page, testInfo, `Acme ${slug}`, slug);

  // Nothing yet: the empty state links to the form.
  await open(page, testInfo, "/settings/oauth-apps");
  await expect(page.getByRole("heading", { name: "OAuth apps", level: 1 })).toBeVisible();
  await expect(page.getByTestId("oauth-apps-empty")).toContainText("You haven't created any OAuth apps yet.");
  await page.getByTestId("oauth-apps-empty").getByRole("link", { name: "Create an OAuth app" }).click();
  await expect(page).toHaveURL(/\/settings\/oauth-apps\/new$/);
  if (jsEnabled(testInfo)) await expect(page.locator("body[data-hydrated]")).toHaveCount(1);
  await expect(page.getByLabel("mcp:read")).toBeChecked();
  await expect(page.getByLabel("Confidential")).toBeChecked();
  await page.screenshot({ path: `screenshots/oauth-apps-new-${project}.png`, fullPage: true });

  // Bad input: the message next to the field, nothing created, and the form as it was typed
  // (without JavaScript too, where the page is loaded again).
  const nameField = page.getByLabel("Name", { exact: true });
  const urisField = page.getByLabel("Redirect URIs");
  await fillNewApp(page, "   ", CALLBACK);
  await page.getByRole("button", { name: "Create app" }).click();
  await expect(page.locator("#name-error")).toContainText("Give the app a name");
  await expect(nameField).toHaveValue("   ");
  await expect(urisField).toHaveValue(CALLBACK);
  await fillNewApp(page, appName, "http://example.com/callback");
  await page.getByLabel("Description").fill("Nightly reports");
  await page.getByLabel("Public").check();
  await page.getByRole("button", { name: "Create app" }).click();
  await expect(page.locator("#redirect_uris-error")).toContainText("http is allowed only for loopback addresses");
  await expect(page.locator("#name-error")).toHaveCount(0);
  await expect(nameField).toHaveValue(appName);
  await expect(urisField).toHaveValue("http://example.com/callback");
  await expect(page.getByLabel("Description")).toHaveValue("Nightly reports");
  await expect(page.getByLabel("Public")).toBeChecked();
  await expect(page.getByLabel("mcp:read")).toBeChecked();
  await expect(page.getByLabel("mcp:write")).not.toBeChecked();
  await fillNewApp(page, appName, `${CALLBACK}\nhttps://app.example.com/cb#frag`);
  await page.getByLabel("Confidential").check();
  await page.getByRole("button", { name: "Create app" }).click();
  await expect(page.locator("#redirect_uris-error")).toContainText("must not contain a fragment");
  await expect(urisField).toHaveValue(`${CALLBACK}\nhttps://app.example.com/cb#frag`);
  await expect(page.getByLabel("Confidential")).toBeChecked();
  await fillNewApp(page, appName, CALLBACK);
  await page.getByLabel("mcp:read").uncheck();
  await page.getByRole("button", { name: "Create app" }).click();
  await expect(page.locator("#scopes-error")).toContainText("Choose at least one permission");
  await expect(page).toHaveURL(/\/settings\/oauth-apps\/new/);
  await expect(nameField).toHaveValue(appName);
  await expect(page.getByLabel("mcp:read")).not.toBeChecked();
  await expect(page.getByLabel("Description")).toHaveValue("Nightly reports");

  // Create a confidential app: its page shows the client ID and the secret, once.
  await fillNewApp(page, appName, `${CALLBACK}\nhttps://app.example.com/oauth/callback`);
  await page.getByLabel("Description").fill("Nightly reports");
  await page.getByLabel("mcp:read").check();
  await page.getByLabel("mcp:write").check();
  await page.getByRole("button", { name: "Create app" }).click();
  await expect(page).toHaveURL(/\/settings\/oauth-apps\/[0-9a-f-]{36}$/);
  const appUrl = new URL(page.url()).pathname;
  const creds = page.getByTestId("app-credentials");
  await expect(creds).toContainText(`Created the OAuth app “${appName}”.`);
  const clientId = await creds.getByTestId("client-id-box").getByTestId("copy-value").inputValue();
  expect(clientId).toMatch(/^gc_[0-9A-Za-z]{24}$/);
  const secret = await creds.getByTestId("client-secret-box").getByTestId("copy-value").inputValue();
  expect(secret).toMatch(/^gate_cs_/);
  await expect(creds).toContainText("it won't be shown again");
  await expect(creds.getByRole("button", { name: "Copy" })).toHaveCount(2);
  await expect(page.getByTestId("app-client-id")).toHaveText(clientId);
  await expect(page.getByTestId("app-type")).toContainText("Confidential");
  await expect(page.getByTestId("secret-hint")).toHaveText(`gate_cs_…${secret.slice(-4)}`);
  await expect(page.getByTestId("app-status")).toHaveText("Not used yet");
  await page.screenshot({ path: `screenshots/oauth-app-${project}.png`, fullPage: true });

  // The secret works at /oauth/token: the whole authorization code flow, as this app.
  const { code, verifier } = await authorize(page, clientId, `${baseURL}/mcp`);
  expect((await tokenRequest(page, clientId, "gate_cs_wrong", code, verifier)).status()).toBe(401);
  const tokenRes = await tokenRequest(page, clientId, secret, code, verifier);
  expect(tokenRes.status()).toBe(200);
  const access = (await tokenRes.json()).access_token as string;
  expect(access).toMatch(/^gate_at_/);
  expect((await whoami(page, access)).status()).toBe(200);

  // Reloaded: the secret is gone for good; the app is in use.
  await open(page, testInfo, appUrl);
  await expect(page.getByTestId("app-credentials")).toHaveCount(0);
  expect(await page.content()).not.toContain(secret);
  await expect(page.getByTestId("app-status")).toHaveText("Active");
  await expect(page.getByTestId("app-overview")).toContainText("1 active connection");

  // The list: name, client ID, type, created, last used, status.
  await open(page, testInfo, "/settings/oauth-apps");
  const row = page.locator(`tr[data-client-id="${clientId}"]`);
  await expect(row).toContainText(appName);
  await expect(row).toContainText(clientId);
  await expect(row.getByTestId("app-type")).toHaveText("Confidential");
  await expect(row.getByTestId("app-status")).toHaveText("Active");
  await expect(row.locator("time")).toHaveCount(2);
  await page.screenshot({ path: `screenshots/oauth-apps-${project}.png`, fullPage: true });

  // Somebody else (and an unknown id) gets a 404 that reveals nothing.
  const other = await browser.newContext({ baseURL, javaScriptEnabled: jsEnabled(testInfo) });
  const eve = await other.newPage();
  await signUp(eve, testInfo, `${unique(testInfo, "eve")}@example.com`);
  for (const path of [appUrl, "/settings/oauth-apps/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "/settings/oauth-apps/nope"]) {
    const res = await eve.goto(path);
    expect(res?.status()).toBe(404);
    await expect(eve.getByRole("heading", { name: "Not found" })).toBeVisible();
    expect(await eve.content()).not.toContain(appName);
  }
  await open(eve, testInfo, "/settings/oauth-apps");
  await expect(eve.getByTestId("oauth-apps-empty")).toBeVisible();
  await other.close();

  // Edit: a bad redirect URI is refused next to the field; then a new name is saved.
  await row.getByRole("link", { name: appName }).click();
  await expect(page).toHaveURL(new RegExp(`${appUrl}$`));
  if (jsEnabled(testInfo)) await expect(page.locator("body[data-hydrated]")).toHaveCount(1);
  await expect(page.getByLabel("Redirect URIs")).toHaveValue(`${CALLBACK}\nhttps://app.example.com/oauth/callback`);
  await page.getByLabel("Name", { exact: true }).fill(`${appName} typed`);
  await page.getByLabel("Redirect URIs").fill("javascript:alert(1)");
  await page.getByLabel("mcp:write").uncheck();
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page.locator("#redirect_uris-error")).toContainText("scheme is not allowed");
  // Nothing saved, and the form is as it was typed, not as saved.
  await expect(page.getByTestId("app-name")).toHaveText(appName);
  await expect(page.getByLabel("Name", { exact: true })).toHaveValue(`${appName} typed`);
  await expect(page.getByLabel("Redirect URIs")).toHaveValue("javascript:alert(1)");
  await expect(page.getByLabel("mcp:write")).not.toBeChecked();
  await expect(page.getByLabel("Description")).toHaveValue("Nightly reports");
  await page.getByLabel("mcp:write").check();
  const renamed = `${appName} v2`;
  await page.getByLabel("Name", { exact: true }).fill(renamed);
  await page.getByLabel("Redirect URIs").fill(CALLBACK);
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page.getByTestId("app-notice")).toHaveText(`Saved the changes to “${renamed}”.`);
  await expect(page.getByTestId("app-name")).toHaveText(renamed);
  await expect(page.getByLabel("Redirect URIs")).toHaveValue(CALLBACK);

  // Rotate the secret, after a confirmation: the new one is shown once, the old one is refused.
  await page.getByText("Rotate secret…").click();
  await page.getByRole("button", { name: "Rotate secret" }).click();
  const rotated = page.getByTestId("app-credentials");
  await expect(rotated).toContainText("Generated a new client secret");
  const newSecret = await rotated.getByTestId("client-secret-box").getByTestId("copy-value").inputValue();
  expect(newSecret).toMatch(/^gate_cs_/);
  expect(newSecret).not.toBe(secret);
  const oldTry = await tokenRequest(page, clientId, secret);
  expect(oldTry.status()).toBe(401);
  expect((await oldTry.json()).error).toBe("invalid_client");
  const newTry = await tokenRequest(page, clientId, newSecret);
  expect(newTry.status()).toBe(400);
  expect((await newTry.json()).error).toBe("invalid_grant");

  // Delete, after a confirmation: back to the list, and the app's tokens stop working.
  await page.getByText("Delete app…").click();
  await page.getByRole("button", { name: "Delete app" }).click();
  await expect(page).toHaveURL(/\/settings\/oauth-apps$/);
  await expect(page.getByTestId("oauth-apps-notice")).toContainText(`Deleted the OAuth app “${renamed}”.`);
  await expect(page.getByTestId("oauth-apps-empty")).toBeVisible();
  expect((await whoami(page, access)).status()).toBe(401);
  expect((await tokenRequest(page, clientId, newSecret)).status()).toBe(401);
  expect((await page.goto(appUrl))?.status()).toBe(404);
  // With JavaScript, every step above ran in the hydrated app, which never failed.
  expect(pageErrors).toEqual([]);
});

test("a public OAuth app has a client ID and no secret", async ({ page }, testInfo) => {
  await signUp(page, testInfo, `${unique(testInfo, "pat")}@example.com`);
  await open(page, testInfo, "/settings/oauth-apps/new");
  await fillNewApp(page, `CLI ${testInfo.project.name}`, "cursor://anysphere.cursor-mcp/oauth/callback\nhttp://127.0.0.1/cb");
  await page.getByLabel("Public").check();
  await page.getByRole("button", { name: "Create app" }).click();
  const creds = page.getByTestId("app-credentials");
  await expect(creds).toContainText("This is a public app: it has no client secret");
  await expect(creds.getByTestId("client-id-box").getByTestId("copy-value")).toHaveValue(/^gc_/);
  await expect(creds.getByTestId("client-secret-box")).toHaveCount(0);
  await expect(page.getByTestId("app-type")).toContainText("Public");
  await expect(page.getByText("Rotate secret…")).toHaveCount(0);
  await open(page, testInfo, "/settings/oauth-apps");
  await expect(page.locator(`tr[data-name="CLI ${testInfo.project.name}"]`).getByTestId("app-type")).toHaveText("Public");
});
