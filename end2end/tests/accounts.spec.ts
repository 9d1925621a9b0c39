import { test, expect, Page, TestInfo } from "@playwright/test";
import { createOrg, logIn, logOut, open, orgWithMember, PASSWORD, signUp, totp, unique, waitForMail } from "./helpers";

// Accounts you can trust, with and without JavaScript, in light and dark: the verification
// link from the mailbox, "Forgot your password?", two-factor sign-in, and the org policy that
// requires it. Mail goes over SMTP to the tests' own SMTP server (playwright.config.ts).

async function shoot(page: Page, testInfo: TestInfo, name: string) {
  await page.screenshot({ path: `screenshots/${name}-${testInfo.project.name}.png`, fullPage: true });
  await page.emulateMedia({ colorScheme: "dark" });
  await page.screenshot({ path: `screenshots/${name}-dark-${testInfo.project.name}.png`, fullPage: true });
  await page.emulateMedia({ colorScheme: "light" });
}

/** Turns on two-factor sign-in for the signed-in page's account; its secret. */
async function enrolTwoFactor(page: Page, testInfo: TestInfo, screenshots = false): Promise<string> {
  await open(page, testInfo, "/account");
  await expect(page.getByTestId("two-factor-status")).toHaveText("Off");
  await page.getByRole("button", { name: "Set up two-factor sign-in" }).click();
  await expect(page.getByTestId("totp-qr").locator("svg")).toBeVisible();
  const secret = ((await page.getByTestId("totp-secret").textContent()) ?? "").replace(/\s+/g, "");
  expect(secret).toMatch(/^[A-Z2-7]{32}$/);
  if (screenshots) await shoot(page, testInfo, "two-factor-setup");
  await page.getByLabel("The 6-digit code the app shows").fill(totp(secret));
  await page.getByRole("button", { name: "Turn on" }).click();
  await expect(page.getByTestId("two-factor-status")).toHaveText("On");
  // The recovery codes, shown once (in the answer with JavaScript, in the flash without).
  const codes = (await page.getByTestId("copy-value").first().inputValue()).split("\n");
  expect(codes).toHaveLength(10);
  for (const c of codes) expect(c).toMatch(/^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/);
  if (screenshots) await shoot(page, testInfo, "two-factor-recovery-codes");
  return secret;
}

test("a new account verifies its address from the mailbox", async ({ page }, testInfo) => {
  const email = `${unique(testInfo, "vera")}@example.com`;
  await signUp(page, testInfo, email, "", { verify: false });
  await expect(page.getByTestId("verify-banner")).toBeVisible();
  await open(page, testInfo, "/account");
  await expect(page.getByTestId("email-status")).toHaveText("Not verified");
  await shoot(page, testInfo, "account-unverified");

  const mail = await waitForMail(email, "Verify your email");
  expect(mail.html).toContain(mail.link);
  expect(mail.link).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/verify-email\/[A-Za-z0-9_-]{43}$/);
  const pathname = new URL(mail.link).pathname;
  await open(page, testInfo, pathname);
  await expect(page.getByTestId("link-email")).toContainText(email);
  await shoot(page, testInfo, "verify-email");
  await page.getByRole("button", { name: "Confirm my address" }).click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByTestId("email-status")).toHaveText("Verified");
  await expect(page.getByTestId("verify-banner")).toHaveCount(0);

  // The link works once.
  await open(page, testInfo, pathname);
  await expect(page.getByText("This confirmation link is not valid any more")).toBeVisible();
});

test("forgot password: a link by mail, a new password, every session ended", async ({ page }, testInfo) => {
  const email = `${unique(testInfo, "rosa")}@example.com`;
  await signUp(page, testInfo, email);
  await logOut(page);

  await page.getByRole("link", { name: "Forgot your password?" }).click();
  await expect(page).toHaveURL(/\/forgot-password$/);
  await open(page, testInfo, "/forgot-password");
  await page.getByLabel("Email").fill(email);
  await page.getByRole("button", { name: "Send the link" }).click();
  await expect(page.getByText(`If an account uses ${email}, a link to choose a new password is on its way there.`).first()).toBeVisible();
  await shoot(page, testInfo, "forgot-password");

  const mail = await waitForMail(email, "Reset your Gatehouse password");
  const pathname = new URL(mail.link).pathname;
  await open(page, testInfo, pathname);
  await expect(page.getByTestId("reset-email")).toHaveText(email);
  await shoot(page, testInfo, "reset-password");
  await page.getByLabel("New password").fill(email);
  await page.getByRole("button", { name: "Save the new password" }).click();
  await expect(page.locator("#password-error")).toContainText("must not be based on your email address");
  const newPassword = "a freshly chosen passphrase";
  await page.getByLabel("New password").fill(newPassword);
  await page.getByRole("button", { name: "Save the new password" }).click();
  await expect(page).toHaveURL(/\/login\?reset=1$/);
  await expect(page.getByText("Your password was changed")).toBeVisible();

  await logIn(page, testInfo, email, PASSWORD);
  await expect(page.getByText("Incorrect email or password.")).toBeVisible();
  await logIn(page, testInfo, email, newPassword);
  await expect(page).toHaveURL(/\/$/);
  await waitForMail(email, "Your Gatehouse password was changed");
  // The link was for one use.
  await open(page, testInfo, pathname);
  await expect(page.getByText("This password reset link is not valid any more")).toBeVisible();
});

test("two-factor sign-in: set up with a QR code, then a code after the password", async ({ page }, testInfo) => {
  const email = `${unique(testInfo, "tess")}@example.com`;
  await signUp(page, testInfo, email);
  const secret = await enrolTwoFactor(page, testInfo, true);
  await waitForMail(email, "Two-factor sign-in is on");
  await logOut(page);

  await logIn(page, testInfo, email);
  await expect(page).toHaveURL(/\/login\/two-factor$/);
  await expect(page.getByText(`Signing in as ${email}`)).toBeVisible();
  await shoot(page, testInfo, "sign-in-two-factor");
  const valid = [-30, 0, 30].map((o) => totp(secret, o));
  const wrong = ["111111", "222222", "333333"].find((c) => !valid.includes(c)) ?? "444444";
  await page.getByLabel("Code").fill(wrong);
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page.locator("#code-error")).toContainText("That code is not right");
  // The enrolment used the current code: the next one signs in.
  await page.getByLabel("Code").fill(totp(secret, 30));
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page).toHaveURL(/\/$/);
  await open(page, testInfo, "/account");
  await expect(page.getByTestId("recovery-left")).toHaveText("10 recovery codes left.");
});

test("an org that requires two-factor sends members to set it up", async ({ page }, testInfo) => {
  const admin = `${unique(testInfo, "ada")}@example.com`;
  const bob = `${unique(testInfo, "bob")}@example.com`;
  const slug = unique(testInfo, "acme");
  await orgWithMember(page, testInfo, admin, bob, slug);

  // The admin can't require it before having it.
  await open(page, testInfo, "/admin/settings");
  await page.getByLabel("Required for every member").check();
  await page.getByRole("button", { name: "Save settings" }).click();
  await expect(page.locator("#two_factor_policy-error")).toContainText("Turn on two-factor sign-in for your own account first");
  await enrolTwoFactor(page, testInfo);
  await open(page, testInfo, "/admin/settings");
  await page.getByLabel("Required for every member").check();
  await page.getByRole("button", { name: "Save settings" }).click();
  await expect(page.getByTestId("two-factor-now")).toHaveText("Required for every member");
  await page.locator("#two-factor").scrollIntoViewIfNeeded();
  await shoot(page, testInfo, "admin-settings-two-factor");

  await open(page, testInfo, "/admin/members");
  await expect(page.getByTestId("two-factor-missing")).toContainText(bob);
  await expect(page.locator(`tr[data-email="${admin}"]`)).toContainText("On");
  await expect(page.locator(`tr[data-email="${bob}"]`)).toContainText("Off");
  await shoot(page, testInfo, "members-two-factor");
  await logOut(page);

  // Bob is sent to set it up before any page of the org; then the org is open again.
  await logIn(page, testInfo, bob);
  await expect(page).not.toHaveURL(/\/login/);
  await page.goto(`/o/${slug}`);
  await expect(page).toHaveURL(/\/account\?two_factor=required#two-factor$/);
  await expect(page.getByTestId("two-factor-required")).toContainText(`Acme ${slug} requires two-factor sign-in`);
  await shoot(page, testInfo, "account-two-factor-required");
  await enrolTwoFactor(page, testInfo);
  await open(page, testInfo, `/o/${slug}`);
  await expect(page.getByTestId("org-role")).toHaveText("Querier");
});

test("account forms: a new address, new recovery codes, two-factor off; an invitation sent again", async ({ page }, testInfo) => {
  const email = `${unique(testInfo, "max")}@example.com`;
  const moved = `${unique(testInfo, "maxnew")}@example.com`;
  const slug = unique(testInfo, "acme");
  await signUp(page, testInfo, email);
  await createOrg(page, testInfo, slug);

  // A new address: nothing changes until its mailbox answers; the old one is told.
  await open(page, testInfo, "/account");
  await page.getByText("Change your address", { exact: true }).click();
  await page.getByLabel("New address").fill(moved);
  await page.getByLabel("Your password").fill(PASSWORD);
  await page.getByRole("button", { name: "Send a confirmation link" }).click();
  await expect(page.getByTestId("pending-email")).toContainText(moved);
  await expect(page.getByTestId("account-email")).toHaveText(email);
  await shoot(page, testInfo, "account-email-change");
  const confirm = await waitForMail(moved, "Confirm your new email");
  await open(page, testInfo, new URL(confirm.link).pathname);
  await page.getByRole("button", { name: "Use this address" }).click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByTestId("account-email")).toHaveText(moved);
  await expect(page.getByTestId("email-status")).toHaveText("Verified");
  await waitForMail(email, "Your Gatehouse email address was changed");

  // New recovery codes, then two-factor sign-in off: each takes a code.
  const secret = await enrolTwoFactor(page, testInfo);
  await open(page, testInfo, "/account");
  await page.getByText("Make new recovery codes", { exact: true }).click();
  await page.getByLabel("A current code from your app").fill(totp(secret, 30));
  await page.getByRole("button", { name: "Make new codes" }).click();
  const codes = (await page.getByTestId("copy-value").first().inputValue()).split("\n");
  expect(codes).toHaveLength(10);
  await open(page, testInfo, "/account");
  await page.getByText("Turn two-factor sign-in off", { exact: true }).click();
  await page.locator("#off-password").fill(PASSWORD);
  await page.getByLabel("A current code, or a recovery code").fill(codes[0]);
  await page.getByRole("button", { name: "Turn off" }).click();
  await expect(page.getByTestId("two-factor-status")).toHaveText("Off");
  await waitForMail(moved, "Two-factor sign-in was turned off");

  // An invitation sent again gets a new link; the first one stops working.
  const carol = `${unique(testInfo, "carol")}@example.com`;
  await open(page, testInfo, "/admin/members");
  await page.getByLabel("Email").fill(carol);
  await page.getByRole("button", { name: "Add member" }).click();
  const first = await waitForMail(carol, `Join Acme ${slug}`);
  await open(page, testInfo, "/admin/members");
  await page.locator("table[data-testid=invitations]").getByRole("button", { name: "Send again" }).click();
  await expect(page.getByText(`Sent the invitation to ${carol} again`)).toBeVisible();
  await shoot(page, testInfo, "members-invitations");
  const second = await waitForMail(carol, `Join Acme ${slug}`);
  expect(second.link).not.toBe(first.link);
  await page.goto(new URL(first.link).pathname);
  await expect(page.getByText("This invitation link is not valid")).toBeVisible();
});
