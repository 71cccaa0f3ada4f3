// Bundles the CLI (src/programs/cli.ts) into one CommonJS file, dist/cli/cli.cjs, for the
// `product-events` bin: one file to load instead of hundreds of modules to resolve and transpile.
// CommonJS because V8's code cache (which bin/product-events.cjs keeps beside the bundle) is open to
// scripts, not to ES modules, on Node 20. Code only `dlq` and `contracts` need is bundled behind lazy
// initialisers: parsed from the cache, run only when those commands run.
// A run of `validate` on an example then writes the cache, so the first real call is fast too.
import { build } from "esbuild"
import { execFileSync } from "node:child_process"
import { rmSync } from "node:fs"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("..", import.meta.url))
rmSync(`${root}dist/cli`, { recursive: true, force: true })
await build({
  entryPoints: [`${root}src/programs/cli.ts`],
  outfile: `${root}dist/cli/cli.cjs`,
  bundle: true,
  minify: true,
  format: "cjs",
  platform: "node",
  target: "node20",
  logLevel: "warning"
})
execFileSync(process.execPath, [`${root}bin/product-events.cjs`, "validate", `${root}contracts/examples/ProductCreated.json`], {
  stdio: "ignore"
})
