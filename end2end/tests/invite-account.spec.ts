import { test, expect } from "@playwright/test";
import { PASSWORD, createOrg, logOut, open, signUp, unique, waitForMail } from "./helpers";

// An admin invites an address without an account; the invitation arrives by mail, the invitee
// opens its link, creates an account with it and joins with the given role. Then the account page: name and password.
test("invitation link: sign up with it and join; account profile and password", async ({ page }, testInfo) => {
  const admin = `${unique(testInfo, "admin")}@example.com`;
  const invitee = `${unique(testInfo, "carol")}@example.com`;
  const slug = unique(testInfo, "acme");
  await signUp(page, testInfo, admin);
  await createOrg(page, testInfo, slug);

  await open(page, testInfo, "/admin/members");
  await page.getByLabel("Email").fill(invitee);
  await page.locator("#add-role").selectOption("querier");
  await page.getByRole("button", { name: "Add member" }).click();
  await expect(page.getByText(`${invitee} has no verified Gatehouse account, so we mailed them an invitation`)).toBeVisible();
  // The invitation reaches the mailbox over SMTP; its link is never shown to the admin.
  const mail = await waitForMail(invitee, `Join Acme ${slug}`);
  expect(mail.text).toContain(`${admin} invited you to join Acme ${slug} on Gatehouse as Querier`);
  const link = mail.link;
  expect(link).toMatch(/\/invite\/[A-Za-z0-9_-]{43}$/);
  await logOut(page);

  // The invitee opens the link signed out: the page says who invited them and as what.
  await page.goto(new URL(link).pathname);
  await expect(page.getByRole("heading", { name: `Join Acme ${slug}` })).toBeVisible();
  await expect(page.getByText("Querier")).toBeVisible();
  await page.getByRole("link", { name: "Create an account" }).click();
  await expect(page.getByLabel("Email")).toHaveValue(invitee);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(new RegExp(`/o/${slug}$`));
  await expect(page.getByTestId("org-role")).toHaveText("Querier");
  // The link came from the invitee's mailbox: the address counts as verified.
  await expect(page.getByTestId("verify-banner")).toHaveCount(0);

  // The link is used up.
  await page.goto(new URL(link).pathname);
  await expect(page.getByText("This invitation has already been used.")).toBeVisible();

  // Account: change the name, then the password (a wrong current password is refused).
  await open(page, testInfo, "/account");
  await expect(page.getByTestId("account-email")).toHaveText(invitee);
  await page.getByLabel("Name", { exact: true }).fill("Carol");
  await page.getByRole("button", { name: "Save profile" }).click();
  await expect(page.getByText("Profile saved.")).toBeVisible();
  await page.getByLabel("Current password").fill("not my password at all");
  await page.getByLabel("New password").fill("a brand new long passphrase");
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.locator("#current_password-error")).toHaveText("Your current password is not correct.");
  await open(page, testInfo, "/account");
  await page.getByLabel("Current password").fill(PASSWORD);
  await page.getByLabel("New password").fill("a brand new long passphrase");
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByText("Password changed.")).toBeVisible();
  await expect(page.getByRole("link", { name: "Carol" })).toBeVisible();
  await page.screenshot({ path: `screenshots/account-${testInfo.project.name}.png`, fullPage: true });
});
