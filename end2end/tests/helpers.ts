import { expect, Page, TestInfo } from "@playwright/test";

export const PASSWORD = "correct horse battery staple";

/** A name unique to this run and project, so the js and nojs runs never collide. */
export function unique(testInfo: TestInfo, what: string): string {
  const id = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  return `${what}-${testInfo.project.name}-${id}`;
}

export function jsEnabled(testInfo: TestInfo): boolean {
  return testInfo.project.use.javaScriptEnabled !== false;
}

/**
 * Opens a page; with JavaScript on, waits until it is hydrated so clicks go through Leptos.
 * The debug wasm is ~12 MB and each test's fresh browser context compiles it again: with the
 * SDK flows running next to it on 2 cores that has taken over 10 s, hence the longer wait.
 */
export async function open(page: Page, testInfo: TestInfo, path: string) {
  await page.goto(path);
  if (jsEnabled(testInfo)) {
    await expect(page.locator("body[data-hydrated]")).toHaveCount(1, { timeout: 30_000 });
  }
}

export async function signUp(page: Page, testInfo: TestInfo, email: string, name = "") {
  await open(page, testInfo, "/signup");
  if (name) await page.getByLabel("Name", { exact: false }).fill(name);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/$/);
}

export async function logIn(page: Page, testInfo: TestInfo, email: string, password = PASSWORD) {
  await open(page, testInfo, "/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

export async function logOut(page: Page) {
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login\?signed_out=1$/);
  await expect(page.getByText("You have signed out.")).toBeVisible();
}
