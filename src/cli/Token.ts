import { Args, Command, Options } from "@effect/cli"
import { Console, Effect } from "effect"
import { SellerId } from "../domain/Ids.js"
import { ExpiresIn, SigningSecret, signToken } from "../services/Tokens.js"

const sellerId = Args.text({ name: "sellerId" }).pipe(
  Args.withSchema(SellerId),
  Args.withDescription("The seller the token speaks for (claim sellerId).")
)
const service = Options.boolean("service").pipe(
  Options.withDescription("Sign a service token (role: service), which may publish any seller's events.")
)
const expiresIn = Options.text("expires-in").pipe(
  Options.withSchema(ExpiresIn.annotations({ message: () => "--expires-in must be a lifetime such as 30m, 12h or 7d" })),
  Options.withDefault("12h"),
  Options.withDescription("Lifetime, e.g. 30m, 12h, 7d.")
)

export const token = Command.make("token", { sellerId, service, expiresIn }, ({ expiresIn, sellerId, service }) =>
  Effect.gen(function*() {
    const secret = yield* SigningSecret
    const jwt = yield* signToken(secret, { sellerId, role: service ? "service" : "seller" }, { expiresIn })
    yield* Console.log(jwt)
  })).pipe(
    Command.withDescription("Print an HS256 JWT signed with AUTH_JWT_SECRET (or the documented dev default).")
  )
