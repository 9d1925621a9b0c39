import { test, expect } from "@playwright/test";
import { createHash, randomBytes } from "node:crypto";
import { createOrg, jsEnabled, open, signUp, unique } from "./helpers";

// An app that identifies itself with a Client ID Metadata Document (served over HTTPS by
// support/doc_server.mjs), seen by a person, with and without JavaScript: the consent screen
// names it by the domain that serves the document and shows its name as a claim; the admin's
// client list shows the document and when it was fetched.
test("a metadata-document app: consent names its domain, the admin list shows its document", async ({ page, baseURL }, testInfo) => {
  const admin = `${unique(testInfo, "ada")}@example.com`;
  const slug = unique(testInfo, "acme");
  await signUp(page, testInfo, admin);
  await createOrg(page, testInfo, slug);

  const clientId = process.env.GATEHOUSE_E2E_METADATA_URL!;
  const callback = `http://127.0.0.1:${30000 + Math.floor(Math.random() * 20000)}/callback`;
  const verifier = randomBytes(32).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  const query = new URLSearchParams({
    response_type: "code",
    client_id: clientId,
    redirect_uri: callback,
    code_challenge: challenge,
    code_challenge_method: "S256",
    state: "e2e-state",
    scope: "mcp",
    resource: `${baseURL}/o/${slug}/mcp`,
  });
  const callbacks: string[] = [];
  await page.route(`${callback}**`, (route) => {
    callbacks.push(route.request().url());
    return route.fulfill({ status: 200, contentType: "text/plain", body: "You can close this window." });
  });
  await page.goto(`/oauth/authorize?${query}`);
  await expect(page).toHaveURL(/\/oauth\/consent\//);
  if (jsEnabled(testInfo)) await expect(page.locator("body[data-hydrated]")).toHaveCount(1, { timeout: 30_000 });
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("localhost wants to access your Gatehouse account");
  await expect(page.getByTestId("claimed-name")).toHaveText("Gatehouse e2e metadata client");
  await expect(page.getByTestId("redirect-host")).toHaveText(/127\.0\.0\.1/);
  await expect(page.getByTestId("scopes")).toContainText("mcp:write");
  await page.screenshot({ path: `screenshots/consent-metadata-${testInfo.project.name}.png`, fullPage: true });
  await page.getByRole("button", { name: "Authorize" }).click();
  await expect.poll(() => callbacks.length).toBe(1);
  await expect(page).toHaveURL(new RegExp(`^${callback.replace(/[.]/g, "\\.")}`));
  const back = new URL(callbacks[0]);
  expect(back.searchParams.get("code")).toBeTruthy();
  expect(back.searchParams.get("state")).toBe("e2e-state");

  // The code is the document's client's: exchanged with the URL as client_id, no secret.
  const res = await page.request.post("/oauth/token", {
    form: {
      grant_type: "authorization_code",
      code: back.searchParams.get("code")!,
      code_verifier: verifier,
      redirect_uri: callback,
      client_id: clientId,
    },
  });
  expect(res.status()).toBe(200);
  expect((await res.json()).scope).toBe("mcp:read mcp:write");

  await open(page, testInfo, "/admin/oauth-clients?source=metadata");
  const row = page.locator(`tr[data-client-id="${clientId}"]`);
  await expect(row).toBeVisible();
  await expect(row).toContainText("Metadata document");
  await expect(row.getByTestId("metadata-fetched")).toBeVisible();
  await page.screenshot({ path: `screenshots/admin-clients-metadata-${testInfo.project.name}.png`, fullPage: true });
  await row.getByRole("link", { name: "Gatehouse e2e metadata client" }).click();
  await expect(page.getByTestId("metadata-document")).toContainText(clientId);
  await page.screenshot({ path: `screenshots/admin-client-metadata-${testInfo.project.name}.png`, fullPage: true });
});
