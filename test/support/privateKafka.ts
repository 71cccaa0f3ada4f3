import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { createWriteStream, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { freePort, root, sleep } from "./processes.js"

/**
 * A Kafka broker of a test's own (KRaft, one combined node, on free loopback ports, data in a temporary
 * directory), started from the jars `infra/up.sh` resolves, so a test can stop and start it without
 * disturbing the shared broker other tests use. Same configuration as `infra/kafka/server.properties`
 * except ports, data and a single `__consumer_offsets` partition (it starts faster).
 */
export interface PrivateKafka {
  /** `127.0.0.1:<port>`, for `KAFKA_BROKERS`. */
  readonly broker: string
  readonly port: number
  /** Stops the broker (SIGTERM, its clients see it go); resolves once the process exited. */
  readonly stop: () => Promise<void>
  /** Starts it again on the same port and data; resolves once it serves metadata and groups. */
  readonly start: () => Promise<void>
  /** Stops it and deletes its data. */
  readonly close: () => Promise<void>
}

/**
 * Where the Kafka jars are: `KAFKA_LIBS`, else `.data/kafka/libs` of this checkout, else of the main
 * checkout when this is a git worktree (worktrees share it through the common git directory).
 */
export const kafkaLibs = (): string | undefined => {
  const candidates = [process.env["KAFKA_LIBS"], join(root, ".data", "kafka", "libs")]
  try {
    const common = execFileSync("git", ["rev-parse", "--git-common-dir"], { cwd: root, encoding: "utf8" }).trim()
    candidates.push(join(dirname(resolve(root, common)), ".data", "kafka", "libs"))
  } catch {
    // Not a git checkout: the other candidates only.
  }
  return candidates.find((dir): dir is string => dir !== undefined && existsSync(dir))
}


const properties = (port: number, controllerPort: number, dataDir: string) => `
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:${controllerPort}
listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}
advertised.listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=${dataDir}
num.partitions=12
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=2
`

/** Formats and starts a private broker; fails (naming its log) when it does not get ready within `timeoutMs`. */
export const startPrivateKafka = async (timeoutMs = 90_000): Promise<PrivateKafka> => {
  const libs = kafkaLibs()
  if (libs === undefined) throw new Error("Kafka jars not found: run `npm run infra:up` once (it resolves them into .data/kafka/libs)")
  const dir = mkdtempSync(join(tmpdir(), "product-events-kafka-"))
  const [port, controllerPort] = [await freePort(), await freePort()]
  const config = join(dir, "server.properties")
  writeFileSync(config, properties(port, controllerPort, join(dir, "data")))
  const logFile = join(dir, "kafka.log")
  const jvm = [
    "-Xms128m",
    "-Xmx384m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-Djava.awt.headless=true",
    `-Dlog4j2.configurationFile=${join(root, "infra", "kafka", "log4j2.xml")}`,
    `-Dkafka.logs.dir=${join(dir, "logs")}`,
    "-cp",
    `${libs}/*`
  ]
  // A cluster id is 16 random bytes, base64url without padding, and, as Kafka's own, never starts with "-"
  // (the storage tool would read it as an option: one start in 64 failed so).
  let clusterId = randomBytes(16).toString("base64url")
  while (clusterId.startsWith("-")) clusterId = randomBytes(16).toString("base64url")
  execFileSync("java", [...jvm, "kafka.tools.StorageTool", "format", "-t", clusterId, "-c", config, "--standalone"], {
    stdio: ["ignore", "ignore", "pipe"]
  })

  let child: ChildProcess | undefined
  let exited: Promise<void> = Promise.resolve()
  const broker = `127.0.0.1:${port}`

  const ready = async () => {
    const probe = spawn(process.execPath, [join(root, "infra", "kafka-ready.mjs"), broker, String(timeoutMs / 1000), "1"], {
      cwd: root,
      stdio: "ignore"
    })
    const code = await new Promise<number | null>((r) => probe.once("exit", r))
    if (code !== 0) throw new Error(`private Kafka on ${broker} not ready; see ${logFile}`)
  }

  const start = async () => {
    const log = createWriteStream(logFile, { flags: "a" })
    const process_ = spawn("java", [...jvm, "kafka.Kafka", config], { stdio: ["ignore", "pipe", "pipe"] })
    process_.stdout.pipe(log)
    process_.stderr.pipe(log)
    child = process_
    exited = new Promise((r) => process_.once("exit", () => r()))
    await ready()
  }

  const stop = async () => {
    const running = child
    if (running === undefined || running.exitCode !== null || running.signalCode !== null) return
    running.kill("SIGTERM")
    const done = await Promise.race([exited.then(() => true), sleep(30_000).then(() => false)])
    if (!done) {
      running.kill("SIGKILL")
      await exited
    }
    child = undefined
  }

  const close = async () => {
    await stop()
    rmSync(dir, { recursive: true, force: true })
  }

  try {
    await start()
  } catch (error) {
    await stop() // its log stays, for the error's reader
    throw error
  }
  return { broker, port, start, stop, close }
}
