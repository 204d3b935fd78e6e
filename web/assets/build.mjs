// Bundles the studio's editors (package.json, installed from the npm registry by `make install`) into
// ../static/build/: one script and one style sheet the app serves itself. Run: node build.mjs
import { build } from "esbuild";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
const common = { bundle: true, minify: true, logLevel: "warning", absWorkingDir: here, legalComments: "linked" };

await build({ ...common, entryPoints: ["src/studio-lib.js"], outfile: "../static/build/studio-lib.js",
              format: "iife", target: "es2020", define: { "process.env.NODE_ENV": '"production"' } });
await build({ ...common, entryPoints: ["src/studio-lib.css"], outfile: "../static/build/studio-lib.css",
              loader: { ".woff": "file", ".woff2": "file", ".ttf": "file", ".eot": "file", ".svg": "dataurl" } });
