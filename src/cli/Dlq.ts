import { Command, Options } from "@effect/cli"
import { Console, Effect, Layer } from "effect"
import { ConsumerGroup } from "../domain/Consumers.js"
import { deadLetterHeaders } from "../domain/DeadLetter.js"
import { replayDeadLetters } from "../services/DeadLetterReplay.js"

const group = Options.choice("group", ConsumerGroup.literals).pipe(
  Options.withDescription("Whose dead letters: notification-service or analytics-service.")
)
const dryRun = Options.boolean("dry-run").pipe(Options.withDescription("List what would be replayed; change nothing."))
const limit = Options.integer("limit").pipe(Options.optional, Options.withDescription("Replay at most this many."))

const replay = Command.make("replay", { group, dryRun, limit }, ({ dryRun, group, limit }) =>
  Effect.gen(function*() {
    const replayed = yield* replayDeadLetters({ group, dryRun, ...(limit._tag === "Some" ? { limit: limit.value } : {}) })
    for (const { reason, record } of replayed) {
      const error = record.headers[deadLetterHeaders.error] ?? ""
      yield* Console.log(
        `${dryRun ? "would replay" : "replayed"} ${record.partition}@${record.offset} key=${record.key ?? ""} ${reason}: ${error.split("\n")[0]}`
      )
    }
    yield* Console.log(`${dryRun ? "would replay" : "replayed"} ${replayed.length} dead letter(s) of ${group}`)
  }).pipe(
    // Loaded on use: the other commands need no Kafka client.
    Effect.provide(Layer.unwrapEffect(Effect.promise(() =>
      import("../app/Infra.js").then(({ Infra, LiveByDefault }) => Infra.eventLog.pipe(Layer.provide(LiveByDefault)))
    )))
  )
).pipe(
  Command.withDescription(
    "Republish a consumer's dead letters onto product-events (original key, bytes, headers) and remember them as replayed."
  )
)

export const dlq = Command.make("dlq").pipe(
  Command.withDescription("Dead-letter tools (Kafka, from KAFKA_BROKERS)."),
  Command.withSubcommands([replay])
)
