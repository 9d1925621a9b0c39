import { test, expect, Page, TestInfo } from "@playwright/test";
import { jsEnabled, logIn, logOut, open, orgWithMember, unique } from "./helpers";

/** Calls a tool at the org's MCP endpoint with a bearer token. */
async function callTool(page: Page, slug: string, token: string, name: string, args: object = {}) {
  return page.request.post(`/o/${slug}/mcp`, {
    headers: {
      Authorization: `Bearer ${token}`,
      Accept: "application/json, text/event-stream",
      "Content-Type": "application/json",
      "MCP-Protocol-Version": "2025-06-18",
    },
    data: { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name, arguments: args } },
  });
}

async function createPat(page: Page, testInfo: TestInfo, name: string, write = false): Promise<string> {
  await open(page, testInfo, "/settings/tokens");
  await page.getByLabel("Name", { exact: true }).fill(name);
  if (write) await page.getByLabel("mcp:write").check();
  await page.getByRole("button", { name: "Create token" }).click();
  await expect(page.getByTestId("copy-value")).toHaveValue(/^gate_pat_/);
  return page.getByTestId("copy-value").inputValue();
}

async function filter(page: Page, f: { actor?: string; action?: string; from?: string; to?: string }) {
  const form = page.getByTestId("audit-filters");
  await form.getByLabel("Actor", { exact: true }).fill(f.actor ?? "");
  await form.getByLabel("Action", { exact: true }).fill(f.action ?? "");
  await form.getByLabel("From", { exact: true }).fill(f.from ?? "");
  await form.getByLabel("To", { exact: true }).fill(f.to ?? "");
  await form.getByRole("button", { name: "Filter" }).click();
}

// The org's audit log at /admin/audit, with and without JavaScript: newest first, with who,
// what, on what and from where; filters by actor, action prefix and days narrow it and are
// kept in the URL and by the pager; bad filters are refused next to their field.
test("audit log: newest first, filters narrow it, pages keep the filters", async ({ page }, testInfo) => {
  test.setTimeout(180_000);
  const admin = `${unique(testInfo, "ada")}@example.com`;
  const bob = `${unique(testInfo, "bob")}@example.com`;
  const slug = unique(testInfo, "acme");
  const today = new Date().toISOString().slice(0, 10);
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);

  await orgWithMember(page, testInfo, admin, bob, slug);
  // The admin's token changes settings through MCP: 55 changes, more than a page.
  const adminToken = await createPat(page, testInfo, "admin script", true);
  for (let i = 0; i < 55; i++) {
    // Both projects write to one SQLite file at once: a busy database may refuse a call; retry it.
    for (let attempt = 0; ; attempt++) {
      const r = await callTool(page, slug, adminToken, "set_org_policy", { pat_max_ttl_days: 100 + i });
      expect(r.status()).toBe(200);
      const body = await r.text();
      if (!body.includes('"isError":true')) break;
      expect(attempt, body).toBeLessThan(3);
    }
  }
  await logOut(page);
  await logIn(page, testInfo, bob);
  await expect(page).toHaveURL(/\/$/);
  await createPat(page, testInfo, "bob laptop");
  await logOut(page);
  await logIn(page, testInfo, admin);
  await expect(page).toHaveURL(/\/$/);

  // Newest first: Bob's token, then the admin's last change through MCP.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Audit log" }).click();
  await expect(page).toHaveURL(/\/admin\/audit$/);
  if (jsEnabled(testInfo)) await expect(page.locator("body[data-hydrated]")).toHaveCount(1);
  await expect(page.getByRole("heading", { name: `Audit log of Acme ${slug}` })).toBeVisible();
  const rows = page.getByTestId("audit-events").locator("tbody tr");
  await expect(rows).toHaveCount(50);
  const first = rows.first();
  await expect(first).toHaveAttribute("data-action", "pat.created");
  await expect(first.getByTestId("actor")).toHaveText(bob);
  await expect(first.getByTestId("details")).toContainText("bob laptop");
  await expect(first.locator("time")).toHaveText("just now");
  await expect(first.locator("time")).toHaveAttribute("title", /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$/);
  await expect(first.locator("td").last()).toHaveText(/\d+\.\d+\.\d+\.\d+|::1|—/);
  await expect(rows.nth(1)).toHaveAttribute("data-action", "org.policy_changed");
  await expect(rows.nth(1).getByTestId("actor")).toHaveText(admin);
  await expect(rows.nth(1).getByTestId("details")).toContainText("pat_max_ttl_days: 153 → 154");
  await expect(page.getByText(/Page 1 of 2 \(\d+ events\)/)).toBeVisible();
  await page.screenshot({ path: `screenshots/admin-audit-${testInfo.project.name}.png`, fullPage: true });

  // The actor, by email: only Bob's events.
  await filter(page, { actor: bob });
  await expect(page).toHaveURL(/actor=/);
  await expect(rows.first()).toHaveAttribute("data-action", "pat.created");
  await expect(rows).toHaveCount(1);
  await expect(rows.first().getByTestId("actor")).toHaveText(bob);
  await expect(page.getByRole("navigation", { name: "Pages of events" })).toHaveCount(0);

  // An action prefix: `pat` is both tokens; `pat.created` with Bob is his one.
  await filter(page, { action: "pat" });
  await expect(rows).toHaveCount(2);
  await filter(page, { actor: bob, action: "pat.created" });
  await expect(rows).toHaveCount(1);
  await expect(rows.first().getByTestId("actor")).toHaveText(bob);
  // The form shows the filters in use, from the URL.
  await expect(page.getByTestId("audit-filters").getByLabel("Actor", { exact: true })).toHaveValue(bob);

  // Days: today has everything, from tomorrow nothing.
  await filter(page, { action: "pat", from: yesterday, to: today });
  await expect(rows).toHaveCount(2);
  await filter(page, { from: tomorrow });
  await expect(page.getByTestId("audit-empty")).toHaveText("No events match these filters.");
  await expect(page.getByRole("link", { name: "Clear filters" })).toBeVisible();

  // Bad filters are refused next to their field.
  await filter(page, { action: "pat%", from: today, to: yesterday });
  await expect(page.locator("#action-error")).toContainText("An action looks like oauth or pat.created");
  await expect(page.locator("#to-error")).toHaveText("The last day can't be before the first.");
  await expect(page.getByTestId("audit-empty")).toHaveText("Correct the filters above to see events.");

  // The pager keeps the filters: 55 policy changes are two pages.
  await filter(page, { action: "org.policy_changed" });
  await expect(rows).toHaveCount(50);
  await expect(page.getByText("Page 1 of 2 (55 events)")).toBeVisible();
  await page.getByRole("link", { name: "Older →" }).click();
  await expect(page).toHaveURL(/action=org\.policy_changed/);
  await expect(page).toHaveURL(/page=2/);
  await expect(page.getByText("Page 2 of 2 (55 events)")).toBeVisible();
  await expect(rows).toHaveCount(5);
  await expect(rows.last().getByTestId("details")).toContainText("pat_max_ttl_days: 365 → 100");
  await expect(page.getByTestId("audit-filters").getByLabel("Action", { exact: true })).toHaveValue("org.policy_changed");
  await page.getByRole("link", { name: "← Newer" }).click();
  await expect(page.getByText("Page 1 of 2 (55 events)")).toBeVisible();
  await expect(page).toHaveURL(/action=org\.policy_changed/);
  await expect(page).not.toHaveURL(/page=/);

  // Cleared: everything again.
  await page.getByRole("link", { name: "Clear filters" }).click();
  await expect(page).toHaveURL(/\/admin\/audit$/);
  await expect(rows).toHaveCount(50);
});

test("audit log: only admins may read it", async ({ page }, testInfo) => {
  const admin = `${unique(testInfo, "ada")}@example.com`;
  const quinn = `${unique(testInfo, "quinn")}@example.com`;
  const slug = unique(testInfo, "acme");
  await orgWithMember(page, testInfo, admin, quinn, slug);
  await logOut(page);
  await logIn(page, testInfo, quinn);
  await expect(page).toHaveURL(/\/$/);
  const res = await page.goto("/admin/audit");
  expect(res?.status()).toBe(403);
  await expect(page.getByTestId("error-panel")).toContainText("You don't have access to this page");
  await expect(page.getByTestId("error-panel")).toContainText(
    "Your role querier can't manage this organization; ask an admin of the organization for access.",
  );
  await expect(page.getByTestId("audit-events")).toHaveCount(0);
});
