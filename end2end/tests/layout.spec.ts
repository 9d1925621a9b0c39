import { test, expect, Page, TestInfo } from "@playwright/test";
import { createOrg, jsEnabled, logIn, logOut, open, signUp, unique } from "./helpers";

const MEMBER_LINKS = ["Overview", "Personal tokens", "OAuth apps", "Connected apps"];
const ADMIN_LINKS: [string, string][] = [
  ["Members", "/admin/members"],
  ["OAuth clients", "/admin/oauth-clients"],
  ["Tokens", "/admin/tokens"],
  ["Settings", "/admin/settings"],
  ["Single sign-on", "/admin/sso"],
  ["MCP servers", "/admin/mcp-servers"],
  ["Audit log", "/admin/audit"],
];

// One frame for every page: the navigation follows the role (a viewer sees no admin links and
// is refused the admin pages with a clear 403; an admin sees the Admin group), marks the
// current page, works on a narrow screen and by keyboard, and reads well in dark mode.
test("navigation follows the role, marks the page, fits a phone, and has a dark mode", async ({ page }, testInfo) => {
  test.setTimeout(120_000);
  const admin = `${unique(testInfo, "ada")}@example.com`;
  const viewer = `${unique(testInfo, "vic")}@example.com`;
  const slug = unique(testInfo, "acme");
  await signUp(page, testInfo, viewer);
  await logOut(page);
  await signUp(page, testInfo, admin);
  await createOrg(page, testInfo, slug);
  await open(page, testInfo, "/admin/members");
  await page.getByLabel("Email").fill(viewer);
  await page.locator("#add-role").selectOption("viewer");
  await page.getByRole("button", { name: "Add member" }).click();
  await expect(page.locator(`tr[data-email="${viewer}"]`)).toBeVisible();

  // The admin: every member link, then the Admin group; the current page is marked.
  const nav = page.getByRole("navigation", { name: "Main" });
  for (const name of MEMBER_LINKS) await expect(nav.getByRole("link", { name, exact: true })).toBeVisible();
  await expect(nav.getByTestId("nav-admin")).toContainText("Admin");
  for (const [name, href] of ADMIN_LINKS) {
    await expect(nav.getByRole("link", { name, exact: true })).toHaveAttribute("href", href);
  }
  await expect(nav.getByRole("link", { name: "Members", exact: true })).toHaveAttribute("aria-current", "page");
  await expect(nav.locator('[aria-current="page"]')).toHaveCount(1);
  await nav.getByRole("link", { name: "Audit log", exact: true }).click();
  await expect(page).toHaveURL(/\/admin\/audit$/);
  await expect(nav.getByRole("link", { name: "Audit log", exact: true })).toHaveAttribute("aria-current", "page");
  await expect(nav.getByRole("link", { name: "Members", exact: true })).not.toHaveAttribute("aria-current", "page");
  await expect(nav.locator('[aria-current="page"]')).toHaveCount(1);
  await nav.getByRole("link", { name: "Overview", exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/o/${slug}$`));
  await expect(nav.getByRole("link", { name: "Overview", exact: true })).toHaveAttribute("aria-current", "page");
  await page.screenshot({ path: `screenshots/layout-admin-${testInfo.project.name}.png`, fullPage: true });

  // Keyboard: the first Tab reaches "Skip to content", with a visible focus ring; a switch on
  // the settings page toggles with the space bar.
  await open(page, testInfo, "/admin/settings");
  await page.keyboard.press("Tab");
  const skip = page.getByRole("link", { name: "Skip to content" });
  await expect(skip).toBeFocused();
  const outline = await skip.evaluate((el) => getComputedStyle(el).outlineStyle);
  expect(outline).not.toBe("none");
  const mcp = page.getByLabel("MCP server access");
  await mcp.focus();
  await expect(mcp).toBeFocused();
  expect(await mcp.evaluate((el) => getComputedStyle(el).outlineStyle)).not.toBe("none");
  await page.keyboard.press("Space");
  await expect(mcp).not.toBeChecked();

  // Dark mode: dark page, panels, fields and tables; a screenshot of each kind of page.
  await page.emulateMedia({ colorScheme: "dark" });
  await open(page, testInfo, "/admin/settings");
  const bg = (sel: string) => page.locator(sel).first().evaluate((el) => getComputedStyle(el).backgroundColor);
  expect(await bg("body")).toBe("rgb(17, 20, 24)");
  expect(await bg(".panel")).toBe("rgb(26, 31, 37)");
  expect(await bg("#access_token_ttl_minutes")).toBe("rgb(17, 20, 24)");
  expect(await page.locator("body").evaluate((el) => getComputedStyle(el).color)).toBe("rgb(230, 233, 236)");
  await page.screenshot({ path: `screenshots/layout-dark-settings-${testInfo.project.name}.png`, fullPage: true });
  await open(page, testInfo, "/admin/audit");
  await expect(page.getByTestId("audit-events")).toBeVisible();
  expect(await bg(".panel")).toBe("rgb(26, 31, 37)");
  await page.screenshot({ path: `screenshots/layout-dark-${testInfo.project.name}.png`, fullPage: true });
  await open(page, testInfo, "/admin/members");
  await page.screenshot({ path: `screenshots/layout-dark-members-${testInfo.project.name}.png`, fullPage: true });
  await page.emulateMedia({ colorScheme: "light" });

  // A phone: every link is on screen and usable, nothing sticks out sideways.
  await page.setViewportSize({ width: 375, height: 800 });
  await open(page, testInfo, `/o/${slug}`);
  for (const name of [...MEMBER_LINKS, ...ADMIN_LINKS.map(([n]) => n)]) {
    const link = nav.getByRole("link", { name, exact: true });
    await expect(link).toBeVisible();
    const box = await link.boundingBox();
    expect(box!.x).toBeGreaterThanOrEqual(0);
    expect(box!.x + box!.width).toBeLessThanOrEqual(375);
  }
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
  await page.screenshot({ path: `screenshots/layout-narrow-${testInfo.project.name}.png`, fullPage: true });
  await nav.getByRole("link", { name: "Settings", exact: true }).click();
  await expect(page).toHaveURL(/\/admin\/settings$/);
  await page.setViewportSize({ width: 1280, height: 720 });
  await logOut(page);

  // The viewer: the member links only, and a clear 403 on the admin pages.
  await logIn(page, testInfo, viewer);
  await expect(page).toHaveURL(/\/$/);
  for (const name of MEMBER_LINKS) await expect(nav.getByRole("link", { name, exact: true })).toBeVisible();
  await expect(nav.getByTestId("nav-admin")).toHaveCount(0);
  for (const [name] of ADMIN_LINKS) await expect(nav.getByRole("link", { name, exact: true })).toHaveCount(0);
  for (const path of ["/admin/settings", "/admin/audit"]) {
    const res = await page.goto(path);
    expect(res?.status(), path).toBe(403);
    if (jsEnabled(testInfo)) await expect(page.locator("body[data-hydrated]")).toHaveCount(1, { timeout: 30_000 });
    await expect(page.getByTestId("error-panel")).toContainText("You don't have access to this page");
    await expect(page.getByTestId("error-panel")).toContainText(
      "Your role viewer can't manage this organization; ask an admin of the organization for access.",
    );
    await expect(page.getByRole("button", { name: "Save settings" })).toHaveCount(0);
  }
  await page.screenshot({ path: `screenshots/layout-viewer-403-${testInfo.project.name}.png`, fullPage: true });
});

// The front end's files carry their content's hash in their names, so the browser keeps them
// for a year without asking again; each page preloads its own wasm chunks.
test("front-end files have hashed names and are cached as immutable", async ({ page, request }, testInfo) => {
  test.skip(!jsEnabled(testInfo), "about the files the JavaScript project loads");
  const seen: string[] = [];
  page.on("response", (r) => {
    if (new URL(r.url()).pathname.startsWith("/pkg/")) seen.push(r.url());
  });
  await open(page, testInfo, "/login");
  const wasm = seen.find((u) => /\/pkg\/gatehouse\.[\w-]{22}\.wasm$/.test(u));
  expect(wasm, `hashed main wasm among ${seen.join(", ")}`).toBeTruthy();
  expect(seen.some((u) => /\/pkg\/split_[\w]*login[\w]*\.[\w-]{22}\.wasm$/.test(u)), "the login page's own wasm").toBe(true);
  const res = await request.get(wasm!, { headers: { "accept-encoding": "gzip" } });
  expect(res.status()).toBe(200);
  expect(res.headers()["cache-control"]).toBe("public, max-age=31536000, immutable");
  expect(res.headers()["content-type"]).toBe("application/wasm");
  const missing = await request.get("/pkg/gatehouse.AAAAAAAAAAAAAAAAAAAAAA.wasm");
  expect(missing.status()).toBe(404);
  expect(missing.headers()["cache-control"]).toBeUndefined();
});
