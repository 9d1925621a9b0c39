import { test, expect } from "@playwright/test";
import { jsEnabled, open, signUp, unique } from "./helpers";

// The interactive REST API docs at /api/v1/docs: Swagger UI served by Gatehouse itself (no
// CDN), under a strict CSP. It renders every operation of /api/v1/openapi.json, and "Try it
// out" works with the browser session, the CSRF token included on changes.
test("API docs render every operation under the CSP and try calls with the session", async ({ page }, testInfo) => {
  test.skip(!jsEnabled(testInfo), "Swagger UI is a JavaScript application");
  test.setTimeout(120_000);

  const problems: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.push(`console: ${msg.text()}`);
  });
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  const base = new URL(testInfo.project.use.baseURL ?? "http://127.0.0.1");
  const elsewhere: string[] = [];
  page.on("request", (req) => {
    const url = new URL(req.url());
    if (url.protocol !== "data:" && url.host !== base.host) elsewhere.push(req.url());
  });

  // A signed-in admin of an org, so "Try it out" has a session to use.
  const email = `${unique(testInfo, "docs")}@example.com`;
  const slug = unique(testInfo, "docs");
  await signUp(page, testInfo, email);
  await open(page, testInfo, "/orgs/new");
  await page.getByLabel("Name", { exact: true }).fill(`Docs ${slug}`);
  await page.getByLabel("URL name").fill(slug);
  await page.getByRole("button", { name: "Create organization" }).click();
  await expect(page).toHaveURL(new RegExp(`/o/${slug}$`));
  problems.length = 0; // only the docs page's own messages count below

  const spec = await (await page.request.get("/api/v1/openapi.json")).json();
  const operations: string[] = [];
  for (const [path, ops] of Object.entries(spec.paths as Record<string, Record<string, unknown>>)) {
    for (const method of Object.keys(ops)) operations.push(`${method.toUpperCase()} ${path}`);
  }
  expect(operations.length).toBe(20);

  const res = await page.goto("/api/v1/docs");
  expect(res?.status()).toBe(200);
  await expect(page).toHaveURL(/\/api\/v1\/docs\/$/);
  expect(res?.headers()["content-security-policy"]).toContain("script-src 'self';");
  await expect(page.locator(".swagger-ui .info .title")).toContainText("Gatehouse REST API");
  await expect(page.locator(".opblock")).toHaveCount(operations.length);
  for (const op of operations) {
    const [method, path] = op.split(" ");
    const block = page.locator(`.opblock-${method.toLowerCase()}`).filter({
      has: page.locator(`.opblock-summary-path[data-path="${path}"]`),
    });
    await expect(block, op).toHaveCount(1);
  }
  // The security schemes are offered in the Authorize dialog.
  await page.getByRole("button", { name: "Authorize" }).first().click();
  await expect(page.locator(".auth-container").filter({ hasText: "pat" }).first()).toBeVisible();
  await expect(page.locator(".auth-container").filter({ hasText: "X-CSRF-Token" }).first()).toBeVisible();
  await page.locator(".modal-ux button.close-modal").click();
  await page.screenshot({ path: "screenshots/api-docs-js.png", fullPage: true });

  // "Try it out" on GET /api/v1/me answers with the signed-in user.
  const me = page.locator("#operations-me-get_me");
  await me.locator(".opblock-summary").click();
  await me.getByRole("button", { name: "Try it out" }).click();
  await me.getByRole("button", { name: "Execute" }).click();
  await expect(me.locator(".live-responses-table tr.response .response-col_status").first()).toHaveText("200");
  await expect(me.locator(".live-responses-table .microlight").first()).toContainText(email);

  expect(problems, problems.join("\n")).toEqual([]);

  // A change with the session: the CSRF token goes along, so an unknown id is "not found"
  // (not "csrf_failed"). The browser logs that 404 as a failed resource; nothing else.
  const disable = page.locator("#operations-tokens-disable_token");
  await disable.locator(".opblock-summary").click();
  await disable.getByRole("button", { name: "Try it out" }).click();
  await disable.locator('input[placeholder="id"]').fill("00000000-0000-0000-0000-000000000000");
  await disable.getByRole("button", { name: "Execute" }).click();
  await expect(disable.locator(".live-responses-table tr.response .response-col_status").first()).toHaveText("404");
  await expect(disable.locator(".live-responses-table .microlight").first()).toContainText("no such token");

  expect(problems, problems.join("\n")).toEqual([
    "console: Failed to load resource: the server responded with a status of 404 (Not Found)",
  ]);
  expect(elsewhere, elsewhere.join("\n")).toEqual([]);
});

// Without JavaScript the docs page says so and links the machine-readable description, which
// a browser without JavaScript can open as it is.
test("without JavaScript the docs page points at openapi.json", async ({ page }, testInfo) => {
  test.skip(jsEnabled(testInfo), "the JavaScript run is the journey above");
  await page.goto("/api/v1/docs");
  await expect(page).toHaveURL(/\/api\/v1\/docs\/$/);
  await expect(page.locator("p.gh-noscript")).toContainText("This page needs JavaScript.");
  await page.screenshot({ path: `screenshots/api-docs-${testInfo.project.name}.png`, fullPage: true });
  await page.getByRole("link", { name: "/api/v1/openapi.json" }).click();
  await expect(page).toHaveURL(/\/api\/v1\/openapi\.json$/);
  const doc = JSON.parse((await page.locator("body").innerText()).trim());
  expect(doc.openapi).toBe("3.1.0");
  expect(Object.keys(doc.paths)).toContain("/api/v1/tokens");
});
