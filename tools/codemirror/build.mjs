// Bundles entry.js into one ES module for the studio, minified, with the licences of what
// went in written beside it.
import { build } from "esbuild";
import { readFileSync, writeFileSync, readdirSync, existsSync } from "node:fs";
import { join } from "node:path";

const out = "../../app/dashboard/static/studio/codemirror.js";
const result = await build({
  entryPoints: ["entry.js"], bundle: true, format: "esm", minify: true, target: "es2020",
  outfile: out, legalComments: "none", metafile: true, logLevel: "info",
});
// The packages that went into the bundle, each with its licence text.
const packages = new Set();
for (const input of Object.keys(result.metafile.inputs)) {
  const m = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  if (m) packages.add(m[1]);
}
let text = "Third-party code in codemirror.js (bundled from tools/codemirror, see its README):\n";
for (const name of [...packages].sort()) {
  const dir = join("node_modules", name);
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const file = readdirSync(dir).find((f) => /^licen[cs]e/i.test(f));
  text += `\n==== ${name} ${pkg.version} (${pkg.license}) ====\n`;
  text += file && existsSync(join(dir, file)) ? readFileSync(join(dir, file), "utf8") : `${pkg.license}\n`;
}
writeFileSync("../../app/dashboard/static/studio/codemirror.LICENSE.txt", text);
