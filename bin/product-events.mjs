#!/usr/bin/env node
// The `product-events` command: the CLI bundled by `npm run build:cli` (run by `npm install` as `prepare`).
import { existsSync } from "node:fs"

const bundle = new URL("../dist/cli/cli.mjs", import.meta.url)
if (!existsSync(bundle)) {
  console.error("product-events: the CLI is not built: run `npm run build:cli` (npm install does it)")
  process.exit(70)
}
await import(bundle.href)
