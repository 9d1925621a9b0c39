import { test, expect } from "@playwright/test";
import { PASSWORD, logIn, logOut, open, signUp, unique, waitForMail } from "./helpers";

// The foundation journey, run once with JavaScript (hydrated Leptos) and once without (plain
// HTML forms): sign up, log in, create org, switch org, add member, change role, log out.
test("sign up, create and switch orgs, manage members, log out", async ({ page }, testInfo) => {
  const bob = `${unique(testInfo, "bob")}@example.com`;
  const ada = `${unique(testInfo, "ada")}@example.com`;
  const acme = unique(testInfo, "acme");
  const beta = unique(testInfo, "beta");

  // Bob signs up first so Ada can add him.
  await signUp(page, testInfo, bob, "Bob");
  await logOut(page);

  // A weak password is refused with a message next to the field; nothing is created.
  await open(page, testInfo, "/signup");
  await page.getByLabel("Email").fill(ada);
  await page.getByLabel("Password").fill("password1234");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.locator("#password-error")).toContainText("too easy to guess");

  await signUp(page, testInfo, ada, "Ada");
  await expect(page.getByRole("heading", { name: "Welcome, Ada" })).toBeVisible();
  await expect(page.getByText("You're not in any organization yet.")).toBeVisible();

  // Create two orgs; the newest is current.
  for (const [name, slug] of [[`Acme ${acme}`, acme], [`Beta ${beta}`, beta]]) {
    await open(page, testInfo, "/orgs/new");
    await page.getByLabel("Name", { exact: true }).fill(name);
    await page.getByLabel("URL name").fill(slug);
    await page.getByRole("button", { name: "Create organization" }).click();
    await expect(page).toHaveURL(new RegExp(`/o/${slug}$`));
    await expect(page.getByTestId("org-name")).toHaveText(name);
    await expect(page.getByTestId("org-role")).toHaveText("Admin");
  }

  // Switch to Acme with the switcher in the header.
  await page.getByTestId("org-switcher").selectOption(acme);
  await page.getByRole("button", { name: "Switch" }).click();
  await expect(page).toHaveURL(new RegExp(`/o/${acme}$`));
  await expect(page.getByTestId("is-current")).toBeVisible();
  await open(page, testInfo, "/");
  await expect(page.getByTestId("current-org")).toHaveText(`Acme ${acme}`);

  // Add Bob as a viewer, then make him a querier.
  await open(page, testInfo, "/admin/members");
  await page.getByLabel("Email").fill(bob);
  await page.locator("#add-role").selectOption("viewer");
  await page.getByRole("button", { name: "Add member" }).click();
  await expect(page.getByText(`Added ${bob} as viewer.`)).toBeVisible();
  const bobRow = page.locator(`tr[data-email="${bob}"]`);
  await expect(bobRow).toBeVisible();
  await bobRow.getByLabel(`Role of ${bob}`).selectOption("querier");
  await bobRow.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText(`${bob} is now querier.`)).toBeVisible();
  await expect(page.locator(`tr[data-email="${bob}"]`).getByLabel(`Role of ${bob}`)).toHaveValue("querier");

  // An address without a verified account gets an invitation by mail; the link is not shown.
  const carol = `${unique(testInfo, "carol")}@example.com`;
  await page.getByLabel("Email").fill(carol);
  await page.getByRole("button", { name: "Add member" }).click();
  await expect(page.getByText(`${carol} has no verified Gatehouse account, so we mailed them an invitation`)).toBeVisible();
  const invitation = await waitForMail(carol, "Join Acme");
  expect(invitation.link).toMatch(/\/invite\/[A-Za-z0-9_-]{43}$/);

  // Ada is the last admin: no way to remove her.
  await open(page, testInfo, "/admin/members");
  await page.screenshot({ path: `screenshots/members-${testInfo.project.name}.png`, fullPage: true });
  await expect(page.locator(`tr[data-email="${ada}"]`)).toContainText("Last admin");
  await expect(page.locator("table[data-testid=invitations]")).toContainText(carol);

  await logOut(page);
  await expect(page.getByRole("link", { name: "Sign in" }).first()).toBeVisible();

  // Wrong password, then the right one.
  await logIn(page, testInfo, ada, "not the password at all");
  await expect(page.getByText("Incorrect email or password.")).toBeVisible();
  await logIn(page, testInfo, ada);
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId("current-org")).toBeVisible();
  await logOut(page);

  // Bob is a querier in Acme: the admin page is closed to him with a clear 403.
  await logIn(page, testInfo, bob);
  await expect(page).toHaveURL(/\/$/);
  const res = await page.goto("/admin/members");
  expect(res?.status()).toBe(403);
  await expect(page.getByTestId("error-panel")).toContainText("Your role querier can't manage this organization");
  // Beta is not his: same 404 as an org that does not exist.
  expect((await page.goto(`/o/${beta}`))?.status()).toBe(404);
  expect((await page.goto(`/o/no-such-org-${beta}`))?.status()).toBe(404);
  await expect(page.getByTestId("error-panel")).toContainText("that you belong to");
});

test("signed-out visitors are sent to sign in and come back", async ({ page }, testInfo) => {
  const ada = `${unique(testInfo, "ada")}@example.com`;
  await signUp(page, testInfo, ada);
  await logOut(page);
  await page.goto("/account");
  await expect(page).toHaveURL(/\/login\?next=%2Faccount$/);
  await expect(page.getByText("Please sign in to continue.")).toBeVisible();
  await page.getByLabel("Email").fill(ada);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByTestId("account-email")).toHaveText(ada);
});

test("a duplicate email is refused", async ({ page }, testInfo) => {
  const ada = `${unique(testInfo, "ada")}@example.com`;
  await signUp(page, testInfo, ada);
  await logOut(page);
  await open(page, testInfo, "/signup");
  await page.getByLabel("Email").fill(ada.toUpperCase());
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.locator("#email-error")).toHaveText("An account with this email already exists. Sign in instead.");
});
