// Fails when src/api/schema.d.ts is not what openapi-typescript (the pinned version in
// package-lock.json) makes of ../schemas/openapi.json: the API changed and the client was not
// regenerated. Fix: npm run gen:api. (tests/web/test_web_build.py runs this.)
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const web = join(dirname(fileURLToPath(import.meta.url)), "..");
const pkg = JSON.parse(readFileSync(join(web, "package.json"), "utf8"));
const args = pkg.scripts["gen:api"].split(/\s+/).slice(1);
const out = args.indexOf("--output");
const checkedIn = join(web, args[out + 1]);
const dir = mkdtempSync(join(tmpdir(), "tale-api-"));
try {
  const fresh = join(dir, "schema.d.ts");
  args[out + 1] = fresh;
  const bin = join(web, "node_modules", ".bin", "openapi-typescript");
  execFileSync(bin, args, { cwd: web, stdio: ["ignore", "ignore", "inherit"] });
  if (readFileSync(fresh, "utf8") !== readFileSync(checkedIn, "utf8")) {
    console.error(
      "web/src/api/schema.d.ts is stale: schemas/openapi.json changed. Run: npm --prefix web run gen:api",
    );
    process.exit(1);
  }
  console.log("web/src/api/schema.d.ts is current");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
