import { spawn } from "node:child_process"
import { join } from "node:path"

export interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

const tsx = join(process.cwd(), "node_modules", ".bin", "tsx")
const entry = join(process.cwd(), "src", "programs", "cli.ts")

/** Runs the CLI as a child process (as `npx tsx src/programs/cli.ts ...` would), optionally feeding stdin. */
export const runCli = (args: ReadonlyArray<string>, options: { stdin?: string; env?: Record<string, string> } = {}) =>
  new Promise<Run>((resolve, reject) => {
    const child = spawn(tsx, [entry, ...args], { env: { ...process.env, ...options.env }, stdio: "pipe" })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(options.stdin ?? "")
  })
