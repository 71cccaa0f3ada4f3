import { afterAll, beforeAll } from "vitest"
import { startPrivateKafka, type PrivateKafka } from "./privateKafka.js"
import { startPrivateRedis, type PrivateRedis } from "./privateRedis.js"
import { freePort, kafkaAdmin, killAll, type Program, type ProgramName, startProgram } from "./processes.js"

/**
 * A broker (and, when asked, a Redis) of one test file's own, for the tests that stop, kill or restart
 * them: started before the file's tests, stopped after them together with every program `launch` started.
 * DynamoDB and S3 stay the shared servers; `env` adds what the file keeps to itself there (tables, bucket).
 */
export interface PrivateStack {
  readonly kafka: PrivateKafka
  readonly redis: PrivateRedis
  readonly admin: Awaited<ReturnType<typeof kafkaAdmin>>
  /** Starts a program on a free port against this stack; `label` names its Kafka client (`<prefix>-<label>`). */
  readonly launch: (name: ProgramName, label: string) => Promise<Program>
}

export const usePrivateStack = (options: {
  /** The prefix of the programs' Kafka client ids. */
  readonly prefix: string
  readonly redis?: boolean
  readonly env?: () => NodeJS.ProcessEnv
}): PrivateStack => {
  let kafka: PrivateKafka | undefined
  let redis: PrivateRedis | undefined
  let admin: PrivateStack["admin"] | undefined
  const programs: Array<Program> = []
  const started = <A>(what: string, value: A | undefined): A => {
    if (value === undefined) throw new Error(`the private ${what} is not started: use it inside a test or a hook`)
    return value
  }

  beforeAll(async () => {
    const [k, r] = await Promise.allSettled([startPrivateKafka(), options.redis ? startPrivateRedis() : Promise.resolve(undefined)])
    if (k.status === "fulfilled") kafka = k.value
    if (r.status === "fulfilled") redis = r.value
    if (k.status === "rejected") throw k.reason
    if (r.status === "rejected") throw r.reason
    admin = await kafkaAdmin([k.value.broker])
  }, 120_000)

  afterAll(async () => {
    await killAll(programs)
    await admin?.disconnect()
    await kafka?.close()
    await redis?.kill()
  })

  const stack: PrivateStack = {
    get kafka() {
      return started("broker", kafka)
    },
    get redis() {
      return started("redis-server", redis)
    },
    get admin() {
      return started("broker's admin client", admin)
    },
    launch: async (name, label) => {
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        ...options.env?.(),
        KAFKA_BROKERS: stack.kafka.broker,
        ...(options.redis ? { REDIS_URL: stack.redis.url } : {})
      }
      const program = startProgram(name, await freePort(), `${options.prefix}-${label}`, env)
      programs.push(program)
      return program
    }
  }
  return stack
}
