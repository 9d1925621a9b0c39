import { test, expect, Page, TestInfo } from "@playwright/test";
import { CALLBACK, createOrg as createAnyOrg, open, registerClient, signUp, startAuthorization, unique } from "./helpers";

// The OAuth consent screen in Chromium, with and without JavaScript: an MCP client registers,
// sends the user to /oauth/authorize, and gets its code (or access_denied) at its callback.

async function createOrg(page: Page, testInfo: TestInfo, name: string, slug: string) {
  await createAnyOrg(page, testInfo, slug, name);
}

test("consent with an org picker, then a token; Deny returns access_denied", async ({ page, baseURL }, testInfo) => {
  const email = `${unique(testInfo, "ada")}@example.com`;
  const acme = unique(testInfo, "acme");
  const beta = unique(testInfo, "beta");
  await signUp(page, testInfo, email, "Ada");
  await createOrg(page, testInfo, `Acme ${acme}`, acme);
  await createOrg(page, testInfo, `Beta ${beta}`, beta);

  const clientId = await registerClient(page, "Playwright MCP client");
  const { verifier, callbacks } = await startAuthorization(page, clientId, `${baseURL}/mcp`);
  await expect(page).toHaveURL(/\/oauth\/consent\//);
  const consent = page.getByTestId("consent");
  await expect(consent.getByRole("heading", { level: 1 })).toHaveText("Playwright MCP client wants to access your Gatehouse account");
  await expect(page.getByTestId("unverified")).toBeVisible();
  // Not https, so the scheme is shown: a look-alike can't pass for a web site.
  await expect(page.getByTestId("redirect-host")).toHaveText("http://127.0.0.1:7777");
  await expect(page.getByTestId("consent-user")).toHaveText(email);
  await expect(page.getByTestId("scopes")).toContainText("mcp:read");
  // The picker lists both orgs; choose Acme.
  await expect(page.getByLabel(`Acme ${acme}`)).toBeVisible();
  await expect(page.getByLabel(`Beta ${beta}`)).toBeVisible();
  await page.screenshot({ path: `screenshots/consent-${testInfo.project.name}.png`, fullPage: true });
  await page.getByLabel(`Acme ${acme}`).check();
  await page.getByRole("button", { name: "Authorize" }).click();
  await expect.poll(() => callbacks.length).toBe(1);
  const cb = new URL(callbacks[0]);
  expect(cb.searchParams.get("state")).toBe("st-123");
  expect(cb.searchParams.get("iss")).toBe(baseURL);
  const code = cb.searchParams.get("code")!;
  expect(code).toBeTruthy();

  // The app exchanges the code: the token is for Acme.
  const token = await page.request.post("/oauth/token", {
    form: { grant_type: "authorization_code", code, client_id: clientId, code_verifier: verifier, redirect_uri: CALLBACK },
  });
  expect(token.status()).toBe(200);
  const body = await token.json();
  expect(body.access_token).toMatch(/^gate_at_/);
  expect(body.scope).toBe("mcp:read mcp:write");

  // Deny (prompt=consent, so the screen shows again) → access_denied at the app.
  await page.unroute(`${CALLBACK}**`);
  const denied = await startAuthorization(page, clientId, `${baseURL}/o/${beta}/mcp`);
  await expect(page.getByLabel(`Acme ${acme}`)).toHaveCount(0); // /o/{beta}/mcp: only Beta
  await expect(page.getByLabel(`Beta ${beta}`)).toBeChecked();
  await page.getByRole("button", { name: "Deny" }).click();
  await expect.poll(() => denied.callbacks.length).toBe(1);
  const deniedUrl = new URL(denied.callbacks[0]);
  expect(deniedUrl.searchParams.get("error")).toBe("access_denied");
  expect(deniedUrl.searchParams.get("state")).toBe("st-123");
});

test("an unregistered redirect URI gets an error page, not a redirect", async ({ page }, testInfo) => {
  await signUp(page, testInfo, `${unique(testInfo, "eve")}@example.com`);
  const clientId = await registerClient(page, "Another client");
  const res = await page.goto(`/oauth/authorize?response_type=code&client_id=${clientId}&redirect_uri=${encodeURIComponent("https://evil.example/cb")}`);
  expect(res?.status()).toBe(400);
  await expect(page.getByTestId("authorize-error")).toContainText("is not registered for Another client");
  expect(page.url()).toContain("/oauth/authorize");
});
