import { test, expect } from "@playwright/test";
import { addMcpServer, createOrg, open, signUp, startUpstream, unique } from "./helpers";

// The gateway's admin page, with and without JavaScript, against an MCP server written with the
// MCP TypeScript SDK that the test starts: add it (a host the instance doesn't allow is refused
// by its field), see its tools with roles from their annotations, open a tool to viewers, list
// again, remove after confirming.
test("an admin puts the org's own MCP server behind Gatehouse and decides who may call each tool", async ({ page, baseURL }, testInfo) => {
  const upstream = await startUpstream(baseURL!);
  try {
    const admin = `${unique(testInfo, "ada")}@example.com`;
    await signUp(page, testInfo, admin);
    await createOrg(page, testInfo, unique(testInfo, "gw"));
    await open(page, testInfo, "/admin/mcp-servers");
    await expect(page.getByTestId("mcp-empty")).toBeVisible();

    // A host this Gatehouse may not reach: refused by its field, the form kept as typed.
    await page.getByLabel("Name", { exact: true }).fill("docs");
    await page.getByLabel("Endpoint (Streamable HTTP)").fill("http://10.0.0.1/mcp");
    await page.getByRole("button", { name: "Add MCP server" }).click();
    await expect(page.getByText(/not among the hosts this Gatehouse may reach/).first()).toBeVisible();
    await expect(page.getByLabel("Name", { exact: true })).toHaveValue("docs");
    await expect(page.getByTestId("mcp-empty")).toBeVisible();

    await addMcpServer(page, testInfo, "docs", upstream.url);
    const row = (tool: string) => page.locator(`tr[data-tool="${tool}"]`);
    await expect(row("docs__purge")).toContainText("Destructive");
    await expect(row("docs__purge").locator("select[name=min_role]")).toHaveValue("admin");
    await expect(row("docs__purge").locator("select[name=scope]")).toHaveValue("mcp:write");
    await expect(row("docs__search").locator("select[name=min_role]")).toHaveValue("querier");

    // Open search to viewers: it says so, and offers the default back.
    await row("docs__search").locator("select[name=min_role]").selectOption("viewer");
    await row("docs__search").getByRole("button", { name: "Save" }).click();
    await expect(page.getByText("docs__search is now for viewers and up with mcp:read.").first()).toBeVisible();
    await expect(row("docs__search").locator("select[name=min_role]")).toHaveValue("viewer");
    await expect(row("docs__search").getByRole("button", { name: "Use the default" })).toBeVisible();

    await page.getByRole("button", { name: "List its tools again" }).click();
    await expect(page.getByText("Listed the tools of docs: 2.").first()).toBeVisible();

    await page.getByText("Remove…").click();
    await expect(page.getByText(/Its tools disappear for every member at once/)).toBeVisible();
    await page.getByRole("button", { name: "Remove docs" }).click();
    await expect(page.getByText(/Removed docs/).first()).toBeVisible();
    await expect(page.getByTestId("mcp-empty")).toBeVisible();
  } finally {
    upstream.stop();
  }
});
