import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { makePartitionQueues } from "../../src/services/analytics/PartitionQueues.js"

interface Unit {
  readonly partition: number
  readonly name: string
  dropped: boolean
}

const unit = (partition: number, name: string): Unit => ({ partition, name, dropped: false })

describe("PartitionQueues", () => {
  it.scoped("a unit that fails, dies or is interrupted from within does not stop its partition's loop", () =>
    Effect.gen(function*() {
      const worked: Array<string> = []
      const queues = yield* makePartitionQueues((u: Unit) => {
        switch (u.name) {
          case "dies":
            return Effect.die(new Error("bug"))
          case "interrupted":
            // A fiber of the unit's own interrupted: the loop's fiber is not.
            return Effect.flatMap(Effect.fork(Effect.never), (fiber) => Effect.zipRight(Fiber.interrupt(fiber), Fiber.join(fiber)))
          default:
            return Effect.sync(() => void worked.push(u.name))
        }
      })
      for (const name of ["first", "dies", "second", "interrupted", "third"]) yield* queues.submit(unit(0, name))
      yield* queues.awaitAll
      expect(worked).toEqual(["first", "second", "third"])
      expect(queues.busy(0)).toBe(false)
    }))
})
