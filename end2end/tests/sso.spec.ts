import { test, expect, Page, TestInfo } from "@playwright/test";
import { createOrg, jsEnabled, logIn, logOut, open, registerClient, signUp, startAuthorization, unique } from "./helpers";

// Single sign-on against a real OpenID Connect provider (node oidc-provider over HTTPS,
// started by playwright.config.ts; its sign-in form takes any login and password). Chromium is
// told to accept the provider's test certificate; Gatehouse trusts its CA.
test.use({ ignoreHTTPSErrors: true });

const issuer = () => process.env.GATEHOUSE_E2E_OIDC_ISSUER!;

/**
 * Forgets who is signed in at the provider (its cookies share the host with Gatehouse's: cookies
 * don't tell ports apart), so that the next person gets its sign-in form.
 */
async function leaveProvider(page: Page) {
  await page.context().clearCookies({ name: /^_(session|interaction)/ });
}

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
  // Without JavaScript the page comes back without the secret (it is never sent into a page).
  if (!jsEnabled(testInfo)) await expect(page.getByLabel("Client secret")).toHaveValue("");
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
  await leaveProvider(page);

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
  await leaveProvider(page);

  // Required: the admin's own password no longer signs in; the message says where to go.
  await open(page, testInfo, "/login");
  await page.getByLabel("Or sign in with your organization's single sign-on").fill(admin);
  await page.getByRole("button", { name: "Continue with SSO" }).click();
  await atProvider(page, admin);
  await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();
  await open(page, testInfo, "/admin/sso");
  await page.getByLabel("Require single sign-on").check();
  // With it, let the provider grant MCP access (identity assertions) to one client: a lifetime
  // out of bounds is refused by its field and nothing is saved; then it is.
  await expect(page.getByTestId("sso-assertions")).toContainText("Off");
  await expect(page.getByLabel("Resource: your organization's MCP endpoint")).toHaveValue(new RegExp(`/o/${slug}/mcp$`));
  await page.getByLabel("Let this identity provider grant MCP access").check();
  await page.getByLabel("Clients allowed").fill("gc_enterprise_agent");
  await page.getByLabel("Longest access-token lifetime (minutes)").fill("5000");
  await page.getByRole("button", { name: "Save single sign-on" }).click();
  await expect(page.getByText(/from 1 minute to 24 hours/).first()).toBeVisible();
  await expect(page.getByTestId("sso-status")).not.toContainText("required");
  await page.getByLabel("Longest access-token lifetime (minutes)").fill("30");
  await page.getByRole("button", { name: "Save single sign-on" }).click();
  await expect(page.getByTestId("sso-status")).toContainText("required");
  await expect(page.getByTestId("sso-assertions")).toContainText("On, for gc_enterprise_agent");
  await expect(page.getByLabel("Longest access-token lifetime (minutes)")).toHaveValue("30");
  await logOut(page);
  await leaveProvider(page);
  await logIn(page, testInfo, admin);
  await expect(page.getByText(/single sign-on/).first()).toBeVisible();
  await expect(page.getByText(`/login/sso/${slug}`).first()).toBeVisible();

  // Through the org's own link, then remove SSO after confirming: passwords work again.
  await page.goto(`/login/sso/${slug}`); // a redirect to the provider, not a page of ours
  await atProvider(page, admin);
  await open(page, testInfo, "/admin/sso");
  await page.getByText("Remove…").click();
  await expect(page.getByText(/Members sign in with a Gatehouse password again/)).toBeVisible();
  await page.getByRole("button", { name: "Remove single sign-on" }).click();
  await expect(page.getByText(/Removed the single sign-on of/).first()).toBeVisible();
  await expect(page.getByTestId("sso-status")).toContainText("Not set up");
  await logOut(page);
  await leaveProvider(page);
  await logIn(page, testInfo, admin);
  await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();
});

test("an MCP client's user signs in through SSO on the way to the consent screen", async ({ page, baseURL }, testInfo) => {
  test.setTimeout(120_000);
  const slug = unique(testInfo, "ssoc");
  const domain = `${slug}.example`;
  await signUp(page, testInfo, `ada@${domain}`);
  await createOrg(page, testInfo, slug);
  // Set up over the REST API with the admin's session.
  const me = await (await page.request.get("/api/v1/me")).json();
  const put = await page.request.put("/api/v1/org/sso", {
    headers: { "X-CSRF-Token": me.csrf_token },
    data: {
      issuer: issuer(),
      client_id: process.env.GATEHOUSE_E2E_OIDC_CLIENT_ID,
      client_secret: process.env.GATEHOUSE_E2E_OIDC_CLIENT_SECRET,
      domains: [domain],
      default_role: "viewer",
      require_sso: true,
    },
  });
  expect(put.status()).toBe(200);
  await logOut(page);
  await leaveProvider(page);

  // The client sends a newcomer to authorize; signing in goes through the provider and lands
  // on the consent screen for this org.
  const carol = `carol@${domain}`;
  const clientId = await registerClient(page, "SSO MCP client");
  const { callbacks } = await startAuthorization(page, clientId, `${baseURL}/o/${slug}/mcp`);
  await expect(page).toHaveURL(/\/login\?next=/);
  await page.getByLabel("Or sign in with your organization's single sign-on").fill(carol);
  await page.getByRole("button", { name: "Continue with SSO" }).click();
  await atProvider(page, carol);
  await expect(page).toHaveURL(/\/oauth\/consent\//);
  await expect(page.getByTestId("consent-user")).toHaveText(carol);
  await expect(page.getByTestId("consent").getByRole("heading", { level: 1 })).toHaveText(
    "SSO MCP client wants to access your Gatehouse account",
  );
  await page.getByRole("button", { name: "Authorize" }).click();
  await expect.poll(() => callbacks.length).toBe(1);
  expect(new URL(callbacks[0]).searchParams.get("code")).toBeTruthy();
});
