import { test, expect, Page, TestInfo } from "@playwright/test";
import { createOrg, jsEnabled, open, signUp, unique, whoami } from "./helpers";

async function save(page: Page) {
  await page.getByRole("button", { name: "Save settings" }).click();
}

// The org policy at /admin/settings, with and without JavaScript: every switch shows its state
// and what members are told when it is off; a bad value is refused next to its field with the
// form as typed and nothing changed; switching personal tokens or the MCP server off refuses a
// working token at once with the docs' wording; every change is in the audit log.
test("org settings: switches take effect at once, bad values are refused by the field", async ({ page }, testInfo) => {
  test.setTimeout(150_000);
  const admin = `${unique(testInfo, "ada")}@example.com`;
  const slug = unique(testInfo, "acme");
  const org = `Acme ${slug}`;
  await signUp(page, testInfo, admin);
  await createOrg(page, testInfo, slug);

  // A working personal token to try the switches on.
  await open(page, testInfo, "/settings/tokens");
  await page.getByLabel("Name", { exact: true }).fill("switch test");
  await page.getByRole("button", { name: "Create token" }).click();
  await expect(page.getByTestId("copy-value")).toHaveValue(/^gate_pat_/);
  const secret = await page.getByTestId("copy-value").inputValue();
  expect((await whoami(page, slug, secret)).status()).toBe(200);

  // The admin finds the page in the navigation; everything is on by default.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings", exact: true }).click();
  await expect(page).toHaveURL(/\/admin\/settings$/);
  if (jsEnabled(testInfo)) await expect(page.locator("body[data-hydrated]")).toHaveCount(1);
  await expect(page.getByRole("heading", { name: `Settings of ${org}` })).toBeVisible();
  const mcp = page.getByLabel("MCP server access");
  const pats = page.getByLabel("Personal tokens", { exact: true });
  const oauthPats = page.getByLabel("MCP OAuth PATs");
  const dcr = page.getByLabel("Dynamic client registration");
  for (const s of [mcp, pats, oauthPats, dcr]) await expect(s).toBeChecked();
  const access = page.getByLabel("Access token lifetime");
  const hosts = page.getByLabel("Allowed redirect hosts");
  const patMax = page.getByLabel("Longest personal token lifetime");
  await expect(access).toHaveValue("60");
  await expect(page.getByLabel("Refresh token lifetime")).toHaveValue("30");
  await expect(patMax).toHaveValue("365");
  await expect(hosts).toHaveValue("");
  await expect(page.getByTestId("hosts-now")).toHaveText("any host");
  // What members see when a switch is off, in the docs' words.
  const patsOff = `Personal Access Tokens aren't enabled: ${org} doesn't allow personal access tokens. Ask an admin to enable them in Settings > API access > Personal tokens.`;
  const mcpOff = `MCP server access disabled: ${org} has disabled MCP server access. Ask an admin to enable it in Settings > MCP server.`;
  await expect(page.getByTestId("switch-personal_tokens_enabled").getByTestId("off-message")).toHaveText(patsOff);
  await expect(page.getByTestId("switch-mcp_enabled").getByTestId("off-message")).toHaveText(mcpOff);
  await expect(page.getByTestId("switch-mcp_oauth_pats_enabled").getByTestId("off-message")).toContainText(
    "MCP OAuth PATs aren't enabled",
  );

  // A lifetime out of range: refused next to the field, the form as typed, nothing changed.
  await mcp.uncheck();
  await access.fill("0");
  await hosts.fill("claude.ai");
  await save(page);
  await expect(page.locator("#access_token_ttl_minutes-error")).toHaveText(
    "Enter a whole number of minutes between 1 and 1440.",
  );
  await expect(access).toHaveValue("0");
  await expect(mcp).not.toBeChecked();
  await expect(hosts).toHaveValue("claude.ai");
  expect((await whoami(page, slug, secret)).status()).toBe(200);

  // A bad host: the same.
  await access.fill("60");
  await hosts.fill("claude.ai\nhttps://chatgpt.com/callback");
  await save(page);
  await expect(page.locator("#allowed_redirect_hosts-error")).toContainText("“https://chatgpt.com/callback” is not a redirect host");
  await expect(page.locator("#access_token_ttl_minutes-error")).toHaveCount(0);
  await expect(hosts).toHaveValue("claude.ai\nhttps://chatgpt.com/callback");
  await expect(mcp).not.toBeChecked();
  const shot = `screenshots/admin-settings-error-${testInfo.project.name}.png`;
  await page.screenshot({ path: shot, fullPage: true });

  // Nothing was saved.
  await open(page, testInfo, "/admin/settings");
  await expect(mcp).toBeChecked();
  await expect(hosts).toHaveValue("");
  await expect(access).toHaveValue("60");

  // Personal tokens off: the token stops working at once, and the tokens page says why.
  await pats.uncheck();
  await save(page);
  await expect(page.getByText(`Saved the settings of ${org}. They apply from the next request.`)).toBeVisible();
  await expect(page.getByTestId("switch-personal_tokens_enabled").getByTestId("state")).toHaveText("Off");
  await expect(pats).not.toBeChecked();
  let res = await whoami(page, slug, secret);
  expect(res.status()).toBe(403);
  expect((await res.json()).error_description).toBe(patsOff);
  await open(page, testInfo, "/settings/tokens");
  await expect(page.getByTestId("pat-refusal")).toHaveText(patsOff);

  // Personal tokens back on, the MCP server off: refused with the MCP wording.
  await open(page, testInfo, "/admin/settings");
  await pats.check();
  await mcp.uncheck();
  await save(page);
  await expect(page.getByText(`Saved the settings of ${org}.`)).toBeVisible();
  await expect(page.getByTestId("switch-mcp_enabled").getByTestId("state")).toHaveText("Off");
  res = await whoami(page, slug, secret);
  expect(res.status()).toBe(403);
  expect((await res.json()).error_description).toBe(mcpOff);

  // Back on, with hosts and a shorter longest token lifetime.
  await open(page, testInfo, "/admin/settings");
  await mcp.check();
  await hosts.fill("Claude.ai, chatgpt.com");
  await patMax.fill("90");
  await save(page);
  await expect(page.getByText(`Saved the settings of ${org}.`)).toBeVisible();
  await expect(page.getByTestId("hosts-now")).toHaveText("claude.ai, chatgpt.com");
  await expect(hosts).toHaveValue("claude.ai\nchatgpt.com");
  await expect(patMax).toHaveValue("90");
  expect((await whoami(page, slug, secret)).status()).toBe(200);
  await page.screenshot({ path: `screenshots/admin-settings-${testInfo.project.name}.png`, fullPage: true });

  // Saving again without a change writes nothing.
  await save(page);
  await expect(page.getByText("Nothing to save: the settings are as they were.")).toBeVisible();

  // The members' side follows: new tokens live at most 90 days.
  await open(page, testInfo, "/settings/tokens");
  await expect(page.getByText(`${org} lets personal tokens live at most 90 days.`)).toBeVisible();

  // Every change is in the audit log, newest first, by the admin.
  await open(page, testInfo, "/admin/audit?action=org.policy_changed");
  const rows = page.locator('tr[data-action="org.policy_changed"]');
  await expect(rows).toHaveCount(3);
  await expect(rows.first().getByTestId("details")).toContainText("pat_max_ttl_days: 365 → 90");
  await expect(rows.first().getByTestId("details")).toContainText("allowed_redirect_hosts: [] → https://claude.ai, https://chatgpt.com");
  await expect(rows.nth(1).getByTestId("details")).toContainText("mcp_enabled: true → false");
  await expect(rows.nth(2).getByTestId("details")).toContainText("personal_tokens_enabled: true → false");
  await expect(rows.first().getByTestId("actor")).toHaveText(admin);
});
