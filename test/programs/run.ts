import { spawn } from "node:child_process"
import { join } from "node:path"

export interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

const bin = join(process.cwd(), "bin", "product-events.cjs")
let built: Promise<void> | undefined

/**
 * The `product-events` bin as `npx product-events` runs it: the bundle, built once per test run from the
 * current sources (`npm run build:cli`), so the tests never run a stale one.
 */
export const cliBin = async (): Promise<[command: string, ...args: Array<string>]> => {
  built ??= new Promise<void>((resolve, reject) => {
    const build = spawn(process.execPath, [join(process.cwd(), "scripts", "build-cli.mjs")], { stdio: ["ignore", "ignore", "pipe"] })
    let stderr = ""
    build.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    build.on("error", reject)
    build.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`npm run build:cli failed (${code}): ${stderr}`))))
  })
  await built
  return [process.execPath, bin]
}

/** Runs the CLI's bin as a child process, optionally feeding stdin. */
export const runCli = async (args: ReadonlyArray<string>, options: { stdin?: string; env?: Record<string, string> } = {}) => {
  const [command, ...prefix] = await cliBin()
  return new Promise<Run>((resolve, reject) => {
    const child = spawn(command, [...prefix, ...args], { env: { ...process.env, ...options.env }, stdio: "pipe" })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(options.stdin ?? "")
  })
}
