import { connect } from "node:net"

/**
 * The real servers integration tests run against (started by `infra/up.sh`, or by `test/integration/globalSetup.ts`
 * under `npm test`). Integration tests never skip: an unreachable server fails them, naming it and how
 * to start it.
 */

export interface LiveEnv {
  readonly KAFKA_BROKERS: string
  readonly REDIS_URL: string
  readonly DYNAMODB_ENDPOINT: string
  readonly S3_ENDPOINT: string
  readonly S3_BUCKET: string
  readonly AWS_REGION: string
  readonly AWS_ACCESS_KEY_ID: string
  readonly AWS_SECRET_ACCESS_KEY: string
}

export const defaultLiveEnv: LiveEnv = {
  KAFKA_BROKERS: "127.0.0.1:9092",
  REDIS_URL: "redis://127.0.0.1:6379",
  DYNAMODB_ENDPOINT: "http://127.0.0.1:8000",
  S3_ENDPOINT: "http://127.0.0.1:4569",
  S3_BUCKET: "product-events-archive",
  AWS_REGION: "us-east-1",
  AWS_ACCESS_KEY_ID: "local",
  AWS_SECRET_ACCESS_KEY: "local"
}

/** The process env over the local defaults. */
export const liveEnv = (env: NodeJS.ProcessEnv = process.env): LiveEnv => {
  const pick = (name: keyof LiveEnv) => env[name] ?? defaultLiveEnv[name]
  return Object.fromEntries(Object.keys(defaultLiveEnv).map((name) => [name, pick(name as keyof LiveEnv)])) as unknown as LiveEnv
}

export type ServerName = "kafka" | "redis" | "dynamodb" | "s3"

export interface Endpoint {
  readonly name: ServerName
  readonly label: string
  readonly host: string
  readonly port: number
}

const hostPort = (address: string, defaultPort: number) => {
  const url = new URL(address.includes("://") ? address : `tcp://${address}`)
  return { host: url.hostname, port: url.port === "" ? defaultPort : Number(url.port) }
}

export const endpoints = (env: LiveEnv = liveEnv()): ReadonlyArray<Endpoint> => [
  { name: "kafka", label: "Kafka", ...hostPort(env.KAFKA_BROKERS.split(",")[0]!, 9092) },
  { name: "redis", label: "Redis", ...hostPort(env.REDIS_URL, 6379) },
  { name: "dynamodb", label: "DynamoDB API (dynalite)", ...hostPort(env.DYNAMODB_ENDPOINT, 80) },
  { name: "s3", label: "S3 API (s3rver)", ...hostPort(env.S3_ENDPOINT, 80) }
]

/** A TCP connect succeeds within the timeout. */
export const reachable = (endpoint: Pick<Endpoint, "host" | "port">, timeoutMs = 1_000): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect({ host: endpoint.host, port: endpoint.port })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once("connect", () => done(true))
    socket.once("error", () => done(false))
  })

export const unreachable = async (env: LiveEnv = liveEnv(), only?: ReadonlyArray<ServerName>) => {
  const wanted = endpoints(env).filter((e) => only === undefined || only.includes(e.name))
  const results = await Promise.all(wanted.map(async (e) => ({ e, ok: await reachable(e) })))
  return results.filter((r) => !r.ok).map((r) => r.e)
}

/** Throws, naming every server that does not answer and how to start them. */
export const requireServers = async (only?: ReadonlyArray<ServerName>, env: LiveEnv = liveEnv()): Promise<void> => {
  const down = await unreachable(env, only)
  if (down.length > 0) {
    const names = down.map((e) => `${e.label} at ${e.host}:${e.port}`).join(", ")
    throw new Error(`Integration test servers not reachable: ${names}. Start them with \`npm run infra:up\` (see infra/up.sh).`)
  }
}
