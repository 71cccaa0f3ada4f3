import { type Context, Effect, Option } from "effect"
import type { ReadinessCheck } from "../http/Health.js"
import { EventLog } from "../services/EventLog.js"
import { MetricsStore } from "../services/MetricsStore.js"
import { NotificationStore } from "../services/NotificationStore.js"
import { ObjectStore } from "../services/ObjectStore.js"
import { PubSub } from "../services/PubSub.js"

const pingOf = <I, S extends { readonly ping: Effect.Effect<void, unknown> }>(name: string, tag: Context.Tag<I, S>) =>
  Effect.map(Effect.serviceOption(tag), Option.map((service): ReadinessCheck => ({ name, check: service.ping })))

/** `/readyz` checks every infrastructure service the running program was given. */
export const readinessChecks: Effect.Effect<ReadonlyArray<ReadinessCheck>> = Effect.map(
  Effect.all([
    pingOf("event-log", EventLog),
    pingOf("notification-store", NotificationStore),
    pingOf("pubsub", PubSub),
    pingOf("object-store", ObjectStore),
    pingOf("metrics-store", MetricsStore)
  ]),
  Option.reduceCompact([] as Array<ReadinessCheck>, (all, check) => [...all, check])
)
