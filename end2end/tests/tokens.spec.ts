import { test, expect, Page, TestInfo } from "@playwright/test";
import { jsEnabled, logIn, logOut, open, signUp, unique, whoami } from "./helpers";

async function addMember(page: Page, testInfo: TestInfo, email: string, role: string) {
  await open(page, testInfo, "/admin/members");
  await page.getByLabel("Email").fill(email);
  await page.locator("#add-role").selectOption(role);
  await page.getByRole("button", { name: "Add member" }).click();
  await expect(page.locator(`tr[data-email="${email}"]`)).toBeVisible();
}

// Standard personal access tokens at /settings/tokens, with and without JavaScript: a querier
// creates one and sees the secret exactly once, it works at the MCP endpoint, it stays listed
// after a reload (without the secret), and revoking it stops it at once. A viewer is refused.
test("personal access tokens: create once, list, revoke; viewers are refused", async ({ page }, testInfo) => {
  test.setTimeout(120_000);
  const admin = `${unique(testInfo, "admin")}@example.com`;
  const querier = `${unique(testInfo, "quinn")}@example.com`;
  const viewer = `${unique(testInfo, "vic")}@example.com`;
  const slug = unique(testInfo, "acme");
  const tokenName = `CI deploy ${testInfo.project.name}`;

  for (const email of [querier, viewer]) {
    await signUp(page, testInfo, email);
    await logOut(page);
  }
  await signUp(page, testInfo, admin);
  await open(page, testInfo, "/orgs/new");
  await page.getByLabel("Name", { exact: true }).fill(`Acme ${slug}`);
  await page.getByLabel("URL name").fill(slug);
  await page.getByRole("button", { name: "Create organization" }).click();
  await expect(page).toHaveURL(new RegExp(`/o/${slug}$`));
  await addMember(page, testInfo, querier, "querier");
  await addMember(page, testInfo, viewer, "viewer");
  await logOut(page);

  // The querier finds the page in the header; no tokens yet.
  await logIn(page, testInfo, querier);
  await expect(page).toHaveURL(/\/$/);
  await page.getByRole("link", { name: "Personal tokens" }).click();
  await expect(page).toHaveURL(/\/settings\/tokens$/);
  if (jsEnabled(testInfo)) await expect(page.locator("body[data-hydrated]")).toHaveCount(1);
  await expect(page.getByRole("heading", { name: "Personal access tokens" })).toBeVisible();
  await expect(page.getByTestId("pats-empty")).toBeVisible();
  await expect(page.getByLabel("mcp:read")).toBeChecked();
  await expect(page.getByLabel("mcp:write")).not.toBeChecked();
  await expect(page.getByLabel("Expires in")).toHaveValue("30");

  // No permission chosen: refused next to the field, nothing created; the form comes back as
  // it was typed (without JavaScript too, where the page is loaded again).
  const nameField = page.getByLabel("Name", { exact: true });
  await nameField.fill(tokenName);
  await page.getByLabel("mcp:read").uncheck();
  await page.getByLabel("Expires in").selectOption("7");
  await page.getByRole("button", { name: "Create token" }).click();
  await expect(page.locator("#scopes-error")).toContainText("Choose at least one permission");
  await expect(page.getByTestId("pats-empty")).toBeVisible();
  await expect(nameField).toHaveValue(tokenName);
  await expect(page.getByLabel("mcp:read")).not.toBeChecked();
  await expect(page.getByLabel("mcp:write")).not.toBeChecked();
  await expect(page.getByLabel("Expires in")).toHaveValue("7");

  // A name that is empty once trimmed: refused next to it; the permissions and expiry chosen stay.
  await nameField.fill("   ");
  await page.getByLabel("mcp:write").check();
  await page.getByLabel("Expires in").selectOption("90");
  await page.getByRole("button", { name: "Create token" }).click();
  await expect(page.locator("#name-error")).toContainText("Give the token a name");
  await expect(page.locator("#scopes-error")).toHaveCount(0);
  await expect(nameField).toHaveValue("   ");
  await expect(page.getByLabel("mcp:read")).not.toBeChecked();
  await expect(page.getByLabel("mcp:write")).toBeChecked();
  await expect(page.getByLabel("Expires in")).toHaveValue("90");

  // A name over the limit (the browser's maxlength taken off, as a script could): the same.
  const tooLong = `${"n".repeat(100)}x`;
  await nameField.evaluate((el) => el.removeAttribute("maxlength"));
  await nameField.fill(tooLong);
  await page.getByRole("button", { name: "Create token" }).click();
  await expect(page.locator("#name-error")).toContainText("Keep the name to 100 characters or fewer.");
  await expect(nameField).toHaveValue(tooLong);
  await expect(page.getByLabel("mcp:write")).toBeChecked();
  await expect(page.getByLabel("Expires in")).toHaveValue("90");
  await expect(page.getByTestId("pats-empty")).toBeVisible();
  // Shown once: the page loaded afresh has the empty form again.
  await open(page, testInfo, "/settings/tokens");
  await expect(nameField).toHaveValue("");
  await expect(page.getByLabel("mcp:read")).toBeChecked();
  await expect(page.getByLabel("mcp:write")).not.toBeChecked();
  await expect(page.getByLabel("Expires in")).toHaveValue("30");

  // Create: the secret is shown once, highlighted, with a copy button.
  await page.getByLabel("Name", { exact: true }).fill(tokenName);
  await page.getByLabel("mcp:read").check();
  await page.getByLabel("mcp:write").check();
  await page.getByLabel("Expires in").selectOption("90");
  await page.getByRole("button", { name: "Create token" }).click();
  const secretBox = page.getByTestId("copy-value");
  await expect(secretBox).toHaveValue(/^gate_pat_[0-9A-Za-z]{49}$/);
  const secret = await secretBox.inputValue();
  await expect(page.getByText(/won't be shown again/)).toBeVisible();
  await expect(page.getByRole("button", { name: "Copy" })).toBeVisible();
  const row = page.locator(`tr[data-name="${tokenName}"]`);
  await expect(row).toContainText(`gate_pat_…${secret.slice(-4)}`);
  await expect(row).toContainText("mcp:read");
  await expect(row).toContainText("mcp:write");
  // Expires in 90 days: its date (UTC; either side of midnight).
  const around = [89, 90, 91].map((d) => new Date(Date.now() + d * 86_400_000).toISOString().slice(0, 10));
  expect(around).toContain(await row.locator("time").last().textContent());
  await expect(row.getByTestId("pat-status")).toHaveText("Active");
  const shot = jsEnabled(testInfo) ? "settings-tokens.png" : `settings-tokens-${testInfo.project.name}.png`;
  await page.screenshot({ path: `screenshots/${shot}`, fullPage: true });

  // The token works at the org's MCP endpoint, as the querier, named.
  const ok = await whoami(page, slug, secret);
  expect(ok.status()).toBe(200);
  const me = await ok.text();
  expect(me).toContain(querier);
  expect(me).toContain(tokenName);

  // Reloaded: the secret is gone from the page for good; the token is still listed.
  await open(page, testInfo, "/settings/tokens");
  await expect(row.getByTestId("pat-status")).toHaveText("Active");
  await expect(page.getByTestId("copy-value")).toHaveCount(0);
  expect(await page.content()).not.toContain(secret);

  // Revoke, after a confirmation step; it stops working at once.
  await row.getByText("Revoke…").click();
  await row.getByRole("button", { name: "Revoke token" }).click();
  await expect(page.getByText(`Revoked the token “${tokenName}”.`)).toBeVisible();
  await expect(row.getByTestId("pat-status")).toHaveText("Revoked");
  await expect(row.getByRole("button", { name: "Revoke token" })).toHaveCount(0);
  expect((await whoami(page, slug, secret)).status()).toBe(401);
  await logOut(page);

  // A viewer sees the page and why they can't create tokens, but no form.
  await logIn(page, testInfo, viewer);
  await expect(page).toHaveURL(/\/$/);
  await open(page, testInfo, "/settings/tokens");
  await expect(page.getByTestId("pat-refusal")).toHaveText(
    "Your role viewer can't create personal access tokens; ask an admin of the organization for access.",
  );
  await expect(page.getByRole("button", { name: "Create token" })).toHaveCount(0);
  await expect(page.getByTestId("pats-empty")).toBeVisible();
});
