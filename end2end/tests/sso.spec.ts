import { test, expect, Page, TestInfo } from "@playwright/test";
import { PASSWORD, createOrg, logOut, open, signUp, unique } from "./helpers";

// Single sign-on against a real OpenID Connect provider (node oidc-provider over HTTPS,
// started by playwright.config.ts; its sign-in form takes any login and password). Chromium is
// told to accept the provider's test certificate; Gatehouse trusts its CA.
test.use({ ignoreHTTPSErrors: true });

const issuer = () => process.env.GATEHOUSE_E2E_OIDC_ISSUER!;

/** Signs `email` in at the provider's own form, which the browser was sent to. */
async function atProvider(page: Page, email: string) {
  await expect(page).toHaveURL(new RegExp(`^${issuer()}/`));
  await page.locator('input[name="login"]').fill(email);
  await page.locator('input[name="password"]').fill("anything");
  await page.locator('button[type="submit"]').click();
}

/** Sets the connection up on /admin/sso as the signed-in admin. */
async function setUp(page: Page, testInfo: TestInfo, domain: string) {
  await open(page, testInfo, "/admin/sso");
  await expect(page.getByTestId("sso-status")).toContainText("Not set up");
  await expect(page.getByTestId("copy-value").first()).toHaveValue(/\/login\/sso\/callback$/);
  await page.getByLabel("Issuer URL").fill(issuer());
  await page.getByLabel("Client ID").fill(process.env.GATEHOUSE_E2E_OIDC_CLIENT_ID!);
  await page.getByLabel("Client secret").fill(process.env.GATEHOUSE_E2E_OIDC_CLIENT_SECRET!);
  // A domain that isn't the admin's is refused next to the field; what was typed stays.
  await page.getByLabel("Email domains").fill(`${domain}\nvictim.example`);
  await page.getByLabel("Role of a first-time member").selectOption("querier");
  await page.getByRole("button", { name: "Save single sign-on" }).click();
  await expect(page.locator("#domains-error")).toContainText("victim.example isn't");
  await expect(page.getByLabel("Email domains")).toHaveValue(`${domain}\nvictim.example`);
  await expect(page.getByTestId("sso-status")).toContainText("Not set up");
  // The secret is never sent back into the page: type it again.
  await expect(page.getByLabel("Client secret")).toHaveValue("");
  await page.getByLabel("Client secret").fill(process.env.GATEHOUSE_E2E_OIDC_CLIENT_SECRET!);
  await page.getByLabel("Email domains").fill(domain);
  await page.getByRole("button", { name: "Save single sign-on" }).click();
  await expect(page.getByText(/Saved the single sign-on of/).first()).toBeVisible();
  await expect(page.getByTestId("sso-status")).toContainText("On:");
  await expect(page.getByTestId("sso-domains")).toHaveText(domain);
  await expect(page.getByLabel("Client secret")).toHaveValue("");
  expect(await page.content()).not.toContain(process.env.GATEHOUSE_E2E_OIDC_CLIENT_SECRET!);
}

test("an admin sets up SSO; a newcomer signs in through the provider, joins, and SSO can be required and removed", async ({ page }, testInfo) => {
  test.setTimeout(180_000);
  const slug = unique(testInfo, "sso");
  const domain = `${slug}.example`;
  const admin = `ada@${domain}`;
  await signUp(page, testInfo, admin);
  await createOrg(page, testInfo, slug);
  await setUp(page, testInfo, domain);
  await logOut(page);

  // A newcomer: the sign-in page's SSO form leads to the provider and back, signed in, with an
  // account and the first-time role.
  const bob = `bob@${domain}`;
  await open(page, testInfo, "/login?next=/account");
  await page.getByLabel("Or sign in with your organization's single sign-on").fill(bob);
  await page.getByRole("button", { name: "Continue with SSO" }).click();
  await atProvider(page, bob);
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByText(bob).first()).toBeVisible();
  const me = await (await page.request.get("/api/v1/me")).json();
  expect(me.role).toBe("querier");
  expect(JSON.stringify(me)).toContain(slug);
  await logOut(page);

  // Required: the admin's own password no longer signs in; the message says where to go.
  await open(page, testInfo, "/login");
  await page.getByLabel("Or sign in with your organization's single sign-on").fill(admin);
  await page.getByRole("button", { name: "Continue with SSO" }).click();
  await atProvider(page, admin);
  await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();
  await open(page, testInfo, "/admin/sso");
  await page.getByLabel("Require single sign-on").check();
  await page.getByRole("button", { name: "Save single sign-on" }).click();
  await expect(page.getByTestId("sso-status")).toContainText("required");
  await logOut(page);
  await open(page, testInfo, "/login");
  await page.getByLabel("Email", { exact: true }).fill(admin);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByText(/single sign-on/).first()).toBeVisible();
  await expect(page.getByText(`/login/sso/${slug}`).first()).toBeVisible();

  // Through the org's own link, then remove SSO after confirming: passwords work again.
  await open(page, testInfo, `/login/sso/${slug}`);
  await atProvider(page, admin);
  await open(page, testInfo, "/admin/sso");
  await page.getByText("Remove…").click();
  await expect(page.getByText(/Members sign in with a Gatehouse password again/)).toBeVisible();
  await page.getByRole("button", { name: "Remove single sign-on" }).click();
  await expect(page.getByText(/Removed the single sign-on of/).first()).toBeVisible();
  await expect(page.getByTestId("sso-status")).toContainText("Not set up");
  await logOut(page);
  await open(page, testInfo, "/login");
  await page.getByLabel("Email", { exact: true }).fill(admin);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();
});
