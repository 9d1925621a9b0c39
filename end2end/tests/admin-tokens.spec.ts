import { test, expect, Page, TestInfo } from "@playwright/test";
import { jsEnabled, logIn, logOut, open, signUp, unique, whoami, registerClient, connectClient } from "./helpers";

// The org admin's tokens page (/admin/tokens), with and without JavaScript: every personal
// token of the org — a member's standard PAT and their MCP OAuth PAT (an OAuth connection) —
// listed with owner, client and status, filtered with a GET form, disabled (the MCP endpoint
// refuses it at once), enabled again (it works again) and revoked after a confirmation.
const CALLBACK = "http://127.0.0.1:7781/callback";

async function addMember(page: Page, testInfo: TestInfo, email: string, role: string) {
  await open(page, testInfo, "/admin/members");
  await page.getByLabel("Email").fill(email);
  await page.locator("#add-role").selectOption(role);
  await page.getByRole("button", { name: "Add member" }).click();
  await expect(page.locator(`tr[data-email="${email}"]`)).toBeVisible();
}

/** Registers an MCP client and connects it to `slug` as the signed-in user: the tokens. */
async function connectNewClient(page: Page, baseURL: string, slug: string, name: string) {
  const clientId = await registerClient(page, name, CALLBACK);
  const body = await connectClient(page, clientId, `${baseURL}/o/${slug}/mcp`, { scope: "mcp:read", callback: CALLBACK });
  return { clientId, access: body.access_token, refresh: body.refresh_token };
}

test("admin tokens: list both kinds, filter, disable and enable, revoke; members are refused", async ({ page, baseURL }, testInfo) => {
  test.setTimeout(180_000);
  const admin = `${unique(testInfo, "admin")}@example.com`;
  const quinn = `${unique(testInfo, "quinn")}@example.com`;
  const slug = unique(testInfo, "acme");
  const patName = `Nightly export ${testInfo.project.name}`;
  const clientName = `Claude ${testInfo.project.name}`;

  await signUp(page, testInfo, quinn);
  await logOut(page);
  await signUp(page, testInfo, admin);
  await open(page, testInfo, "/orgs/new");
  await page.getByLabel("Name", { exact: true }).fill(`Acme ${slug}`);
  await page.getByLabel("URL name").fill(slug);
  await page.getByRole("button", { name: "Create organization" }).click();
  await expect(page).toHaveURL(new RegExp(`/o/${slug}$`));
  await addMember(page, testInfo, quinn, "querier");

  // An empty org: the page explains where tokens come from.
  await open(page, testInfo, "/admin/tokens");
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Personal tokens");
  await expect(page.getByTestId("tokens-empty")).toContainText("Nobody in this organization has a personal token yet");
  await logOut(page);

  // Quinn creates a standard PAT and connects an MCP client through OAuth.
  await logIn(page, testInfo, quinn);
  await expect(page).toHaveURL(/\/$/);
  await open(page, testInfo, "/settings/tokens");
  await page.getByLabel("Name", { exact: true }).fill(patName);
  await page.getByRole("button", { name: "Create token" }).click();
  const secretBox = page.getByTestId("copy-value");
  await expect(secretBox).toHaveValue(/^gate_pat_/);
  const pat = await secretBox.inputValue();
  const mcp = await connectNewClient(page, baseURL!, slug, clientName);
  expect((await whoami(page, slug, pat)).status()).toBe(200);
  expect((await whoami(page, slug, mcp.access)).status()).toBe(200);

  // Quinn is no admin: both admin pages are a 403 with a clear message.
  for (const path of ["/admin/tokens", "/admin/oauth-clients"]) {
    const res = await page.goto(path);
    expect(res?.status()).toBe(403);
    await expect(page.getByTestId("error-panel")).toContainText("You don't have access to this page");
    await expect(page.getByTestId("error-panel")).toContainText("querier");
    await expect(page.getByTestId("org-tokens")).toHaveCount(0);
  }
  await logOut(page);

  // The admin sees both tokens, with owner, client and status.
  await logIn(page, testInfo, admin);
  await expect(page).toHaveURL(/\/$/);
  await open(page, testInfo, "/admin/tokens");
  const patRow = page.locator(`tr[data-kind="pat"][data-owner="${quinn}"]`);
  const mcpRow = page.locator(`tr[data-kind="mcp_oauth_pat"][data-owner="${quinn}"]`);
  await expect(patRow).toContainText(patName);
  await expect(patRow).toContainText("Standard PAT");
  await expect(patRow).toContainText(`gate_pat_…${pat.slice(-4)}`);
  await expect(patRow.getByTestId("token-status")).toHaveText("Active");
  await expect(mcpRow).toContainText("MCP OAuth PAT");
  await expect(mcpRow).toContainText(clientName);
  await expect(mcpRow).toContainText("mcp:read");
  await expect(mcpRow.getByTestId("token-status")).toHaveText("Active");
  await page.screenshot({ path: `screenshots/admin-tokens-${testInfo.project.name}.png`, fullPage: true });

  // Filters: a plain GET form whose values stay in the URL and the form.
  await page.getByLabel("Kind").selectOption("mcp_oauth_pat");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/kind=mcp_oauth_pat/);
  if (jsEnabled(testInfo)) await expect(page.locator("body[data-hydrated]")).toHaveCount(1, { timeout: 30_000 });
  await expect(mcpRow).toBeVisible();
  await expect(patRow).toHaveCount(0);
  await expect(page.getByLabel("Kind")).toHaveValue("mcp_oauth_pat");
  await open(page, testInfo, `/admin/tokens?user=${encodeURIComponent(quinn.slice(0, 12).toUpperCase())}`);
  await expect(patRow).toBeVisible();
  await expect(mcpRow).toBeVisible();
  await open(page, testInfo, `/admin/tokens?user=${encodeURIComponent(admin)}`);
  await expect(page.getByTestId("tokens-empty")).toHaveText("No token matches these filters.");
  await open(page, testInfo, "/admin/tokens?status=revoked");
  await expect(page.getByTestId("tokens-empty")).toBeVisible();

  // Disable the standard PAT (the filter stays): refused at once; enable: works again.
  await open(page, testInfo, "/admin/tokens?kind=pat");
  await patRow.getByRole("button", { name: "Disable" }).click();
  await expect(page.getByText(`Disabled the token “${patName}” of ${quinn}.`)).toBeVisible();
  await expect(patRow.getByTestId("token-status")).toHaveText("Disabled");
  await expect(page).toHaveURL(/kind=pat/);
  const refused = await whoami(page, slug, pat);
  expect(refused.status()).toBe(401);
  expect(refused.headers()["www-authenticate"]).toContain("invalid_token");
  await patRow.getByRole("button", { name: "Enable" }).click();
  await expect(page.getByText(`Enabled the token “${patName}” of ${quinn} again.`)).toBeVisible();
  await expect(patRow.getByTestId("token-status")).toHaveText("Active");
  expect((await whoami(page, slug, pat)).status()).toBe(200);

  // The same for the MCP OAuth PAT: its access token and its refresh are refused meanwhile.
  await open(page, testInfo, "/admin/tokens");
  await mcpRow.getByRole("button", { name: "Disable" }).click();
  await expect(mcpRow.getByTestId("token-status")).toHaveText("Disabled");
  expect((await whoami(page, slug, mcp.access)).status()).toBe(401);
  const refresh = await page.request.post("/oauth/token", {
    form: { grant_type: "refresh_token", refresh_token: mcp.refresh, client_id: mcp.clientId },
  });
  expect(refresh.status()).toBe(400);
  expect((await refresh.json()).error).toBe("invalid_grant");
  await open(page, testInfo, "/admin/tokens?status=disabled");
  await expect(mcpRow).toBeVisible();
  await expect(patRow).toHaveCount(0);
  await mcpRow.getByRole("button", { name: "Enable" }).click();
  await expect(page.getByText(`Enabled ${quinn}'s connection of ${clientName} again.`)).toBeVisible();
  expect((await whoami(page, slug, mcp.access)).status()).toBe(200);

  // Revoke the PAT, after a confirmation step: gone for good, no way to enable it.
  await open(page, testInfo, "/admin/tokens");
  await patRow.getByText("Revoke…").click();
  await expect(patRow.getByText(/can't be undone/)).toBeVisible();
  await patRow.getByRole("button", { name: "Revoke token" }).click();
  await expect(page.getByText(`Revoked the token “${patName}” of ${quinn}.`)).toBeVisible();
  await expect(patRow.getByTestId("token-status")).toHaveText("Revoked");
  await expect(patRow.getByRole("button", { name: "Enable" })).toHaveCount(0);
  await expect(patRow.getByRole("button", { name: "Disable" })).toHaveCount(0);
  expect((await whoami(page, slug, pat)).status()).toBe(401);
  expect((await whoami(page, slug, mcp.access)).status()).toBe(200);
});
