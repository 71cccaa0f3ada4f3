import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, Layer } from "effect"
import { createServer } from "node:net"
import * as Listener from "../../src/http/Listener.js"

/** A port held by another server for the test's duration. */
const occupied = Effect.acquireRelease(
  Effect.async<{ port: number; close: () => void }>((resume) => {
    const server = createServer()
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      resume(Effect.succeed({ port: typeof address === "object" && address !== null ? address.port : 0, close: () => server.close() }))
    })
  }),
  ({ close }) => Effect.sync(close)
)

describe("Listener", () => {
  it.scoped("a port in use is one error saying so, naming HOST and PORT", () =>
    Effect.gen(function*() {
      const { port } = yield* occupied
      const exit = yield* Layer.build(Listener.layer({ port, host: "127.0.0.1" })).pipe(Effect.scoped, Effect.exit)
      expect(Exit.isFailure(exit)).toBe(true)
      const failures = Exit.isFailure(exit) ? [...Cause.failures(exit.cause)] : []
      expect(failures).toHaveLength(1)
      expect(failures[0]).toBeInstanceOf(Listener.ListenError)
      expect(failures[0]!.message).toBe(`cannot listen on 127.0.0.1:${port} (HOST, PORT): the port is already in use`)
    }))
})
