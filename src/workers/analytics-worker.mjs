// Worker threads do not inherit tsx's loader: next to the TypeScript source (npm start, tests)
// load it through tsx's API; in a compiled build (dist/) import the emitted JavaScript.
import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"

const source = new URL("./analytics-worker.ts", import.meta.url)

if (existsSync(fileURLToPath(source))) {
  const { tsImport } = await import("tsx/esm/api")
  await tsImport(source.href, import.meta.url)
} else {
  await import("./analytics-worker.js")
}
