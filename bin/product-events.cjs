#!/usr/bin/env node
// The `product-events` command: the CLI bundled by `npm run build:cli` (run by `npm install` as `prepare`)
// into one CommonJS file, run through V8's code cache so a call skips parsing and compiling it again.
// The cache sits beside the bundle; it is written when missing or stale (another Node version, a new
// build), atomically, and a directory that cannot be written only costs the speed.
"use strict"
const { readFileSync, renameSync, writeFileSync } = require("node:fs")
const Module = require("node:module")
const { join } = require("node:path")
const { Script } = require("node:vm")

const bundle = join(__dirname, "..", "dist", "cli", "cli.cjs")
const cache = `${bundle}.cache`

let source
try {
  source = readFileSync(bundle, "utf8")
} catch {
  console.error("product-events: the CLI is not built: run `npm run build:cli` (npm install does it)")
  process.exit(70)
}
let cachedData
try {
  cachedData = readFileSync(cache)
} catch {
  // First run after a build: compiled from source, cached on exit.
}
const script = new Script(Module.wrap(source), { filename: bundle, cachedData })
if (cachedData === undefined || script.cachedDataRejected) {
  // On exit the cache also holds the functions this run compiled lazily.
  process.once("exit", () => {
    try {
      const temporary = `${cache}.${process.pid}`
      writeFileSync(temporary, script.createCachedData())
      renameSync(temporary, cache)
    } catch {
      // A read-only install: every call compiles, as without a cache.
    }
  })
}
const module_ = { exports: {} }
script.runInThisContext()(module_.exports, Module.createRequire(bundle), module_, bundle, join(bundle, ".."))
