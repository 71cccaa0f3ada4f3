import { type ChildProcess, spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { createServer } from "node:net"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { Effect, Redacted } from "effect"
import kafkajs from "kafkajs"
import { devJwtSecret, signToken } from "../../src/services/Tokens.js"

/** The service programs run as real child processes (`node --import tsx src/programs/<name>.ts`), for end-to-end tests. */

export const root = fileURLToPath(new URL("../..", import.meta.url))

export type ProgramName = "gateway" | "notification" | "analytics"

export const programFile = (name: ProgramName) => `src/programs/${name}.ts`
export const programExists = (name: ProgramName) => existsSync(`${root}/${programFile(name)}`)

export interface Program {
  readonly name: ProgramName
  readonly port: number
  readonly baseUrl: string
  readonly clientId: string
  readonly child: ChildProcess
  /** The last lines the process wrote (stdout and stderr). */
  readonly logs: Array<string>
  /** The exit code (128 + signal number when killed by a signal), once exited. */
  readonly exitCode: () => number | undefined
  readonly exited: Promise<number>
}

const keptLines = 200

/** A TCP port nobody listens on right now. */
export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port"))))
    })
  })

/** Starts a program on `port`, live infrastructure, its Kafka client id `clientId` (to find it among a group's members). */
export const startProgram = (name: ProgramName, port: number, clientId: string, env: NodeJS.ProcessEnv = process.env): Program => {
  const child = spawn(process.execPath, ["--import", "tsx", programFile(name)], {
    cwd: root,
    env: { ...env, INFRA: "live", PORT: String(port), HOST: "127.0.0.1", KAFKA_CLIENT_ID: clientId },
    stdio: ["ignore", "pipe", "pipe"]
  })
  const logs: Array<string> = []
  const keep = (line: string) => {
    logs.push(line)
    if (logs.length > keptLines) logs.shift()
    if (process.env["PROCESSES_LOG"] === "1") console.log(`[${name}] ${line}`)
  }
  createInterface({ input: child.stdout! }).on("line", keep)
  createInterface({ input: child.stderr! }).on("line", keep)
  let code: number | undefined
  const exited = new Promise<number>((resolve) => {
    child.once("exit", (exitCode, signal) => {
      code = exitCode ?? 128 + (signal === "SIGKILL" ? 9 : signal === "SIGTERM" ? 15 : 0)
      resolve(code)
    })
    child.once("error", (error) => {
      keep(`spawn failed: ${error.message}`)
      code = -1
      resolve(-1)
    })
  })
  return { name, port, baseUrl: `http://127.0.0.1:${port}`, clientId, child, logs, exitCode: () => code, exited }
}

export const lastLogs = (program: Program, lines = 25) =>
  `--- last log lines of ${program.name} (pid ${program.child.pid}) ---\n${program.logs.slice(-lines).join("\n")}`

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Resolves once `GET /readyz` answers 200; fails with the program's last log lines if it exits first or the bound passes. */
export const waitReady = async (program: Program, timeoutMs = 60_000) => {
  const deadline = Date.now() + timeoutMs
  let last = "no answer"
  while (Date.now() < deadline) {
    const code = program.exitCode()
    if (code !== undefined) throw new Error(`${program.name} exited (code ${code}) before /readyz answered 200\n${lastLogs(program)}`)
    try {
      const response = await fetch(`${program.baseUrl}/readyz`, { signal: AbortSignal.timeout(3_000) })
      if (response.ok) return
      last = `${response.status} ${await response.text()}`
    } catch (error) {
      last = String(error)
    }
    await sleep(250)
  }
  throw new Error(`${program.name} not ready within ${timeoutMs / 1000}s (last /readyz: ${last})\n${lastLogs(program)}`)
}

/** SIGTERM, then the exit code; SIGKILL and a failure naming the program when it takes longer than `timeoutMs`. */
export const stopProgram = async (program: Program, timeoutMs = 30_000): Promise<number> => {
  if (program.exitCode() !== undefined) return program.exitCode()!
  program.child.kill("SIGTERM")
  const code = await Promise.race([program.exited, sleep(timeoutMs).then(() => undefined)])
  if (code === undefined) {
    program.child.kill("SIGKILL")
    await program.exited
    throw new Error(`${program.name} did not exit within ${timeoutMs / 1000}s of SIGTERM (killed)\n${lastLogs(program)}`)
  }
  return code
}

/** For cleanup: SIGKILL whatever still runs. */
export const killAll = async (programs: Iterable<Program>) => {
  const running = [...programs].filter((p) => p.exitCode() === undefined)
  for (const p of running) p.child.kill("SIGKILL")
  await Promise.all(running.map((p) => p.exited))
}

/** The sum of a Prometheus counter's samples whose labels include `labels`, from a program's `/metrics`. */
export const counterSum = async (program: Program, metric: string, labels: Record<string, string> = {}) => {
  const text = await (await fetch(`${program.baseUrl}/metrics`)).text()
  let sum = 0
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (match === null || match[1] !== metric) continue
    const present = Object.fromEntries([...(match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]))
    if (Object.entries(labels).every(([k, v]) => present[k] === v)) sum += Number(match[3])
  }
  return sum
}

export const bearer = async (claims: { sellerId?: string; role?: "seller" | "service" }) => ({
  authorization: `Bearer ${await Effect.runPromise(signToken(Redacted.make(devJwtSecret), claims))}`
})

/** Polls `probe` until it returns a value, or fails after `timeoutMs` with `describe()` of the last attempt. */
export const eventually = async <A>(
  what: string,
  probe: () => Promise<A | undefined>,
  timeoutMs: number,
  describe: () => string = () => ""
): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000}s. ${describe()}`)
    await sleep(300)
  }
}

export interface PartitionOffsets {
  readonly partition: number
  readonly committed: number
  readonly low: number
  readonly high: number
}

/** Kafka admin queries on a topic's offsets and its consumer groups, and a producer for messages on chosen partitions. */
export const kafkaAdmin = async (brokers: ReadonlyArray<string>) => {
  const kafka = new kafkajs.Kafka({ brokers: [...brokers], clientId: "processes-test", logLevel: kafkajs.logLevel.NOTHING })
  const admin = kafka.admin()
  const producer = kafka.producer()
  await Promise.all([admin.connect(), producer.connect()])
  const ends = async (topic: string) => {
    const offsets = await admin.fetchTopicOffsets(topic)
    return new Map(offsets.map((o) => [o.partition, { low: Number(o.low), high: Number(o.high) }]))
  }
  return {
    ends,
    /** Per partition: the group's committed offset (-1: none) and the log's low and high (end) offsets. */
    offsets: async (group: string, topic: string): Promise<Array<PartitionOffsets>> => {
      const [logEnds, [committed]] = await Promise.all([ends(topic), admin.fetchOffsets({ groupId: group, topics: [topic] })])
      return [...logEnds].map(([partition, { high, low }]) => ({
        partition,
        low,
        high,
        committed: Number(committed?.partitions.find((p) => p.partition === partition)?.offset ?? -1)
      }))
    },
    /** The client ids of the group's members, when the group is Stable (else undefined). */
    stableMembers: async (group: string) => {
      const [description] = (await admin.describeGroups([group])).groups
      return description?.state === "Stable" ? description.members.map((m) => m.clientId) : undefined
    },
    produce: (topic: string, messages: ReadonlyArray<kafkajs.Message & { readonly partition: number }>) =>
      producer.send({ topic, messages: [...messages] }),
    disconnect: () => Promise.all([admin.disconnect(), producer.disconnect()])
  }
}

/**
 * Partitions whose committed offset falls short of `required` (the end offsets once the test's own
 * events were appended): those are the ones where some of the test's events, or earlier ones, are unfinished.
 * Nothing committed (-1) on a partition with no records left to read counts as caught up.
 */
export const uncommitted = (offsets: ReadonlyArray<PartitionOffsets>, required: ReadonlyMap<number, { high: number }>) =>
  offsets.filter((o) => {
    const need = required.get(o.partition)?.high ?? 0
    const position = o.committed >= 0 ? o.committed : o.low
    return position < need
  })
