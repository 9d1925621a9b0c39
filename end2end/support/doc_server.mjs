// A real HTTPS server for client ID metadata documents in the browser tests: serves the JSON
// files of DIR/docs with a certificate for localhost signed by the test CA (made by
// playwright.config.ts), which Gatehouse trusts through GATEHOUSE_EXTRA_CA_FILE.
//
//   node doc_server.mjs PORT DIR
import https from "node:https";
import fs from "node:fs";
import path from "node:path";

const [, , port, dir] = process.argv;
const server = https.createServer(
  { key: fs.readFileSync(path.join(dir, "leaf.key")), cert: fs.readFileSync(path.join(dir, "leaf.pem")) },
  (req, res) => {
    const file = path.join(dir, "docs", path.basename(new URL(req.url ?? "/", "https://x").pathname));
    if (!fs.existsSync(file)) {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found");
      return;
    }
    res.writeHead(200, { "content-type": "application/json", "cache-control": "max-age=300" });
    res.end(fs.readFileSync(file));
  },
);
server.listen(Number(port), "127.0.0.1", () => console.log(`READY ${port}`));
