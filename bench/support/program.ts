/**
 * A service program exactly as `src/programs/<name>.ts` composes it, on the live stack, with its
 * event log isolated to the bench's topic and groups (BENCH_TOPIC, BENCH_GROUP_PREFIX):
 *
 *   BENCH_TOPIC=t PORT=3101 tsx bench/support/program.ts gateway|notification|analytics
 */
import { NodeRuntime } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { AnalyticsConsumer, AnalyticsHttp } from "../../src/app/Analytics.js"
import { serveWithHealth } from "../../src/app/Http.js"
import { Infra, LiveByDefault } from "../../src/app/Infra.js"
import { NotificationConsumer, NotificationHttp } from "../../src/app/Notification.js"
import { Auth } from "../../src/http/Auth.js"
import { gatewayRouter } from "../../src/http/Gateway.js"
import { listen } from "../../src/http/HttpLive.js"
import { Metrics } from "../../src/services/Metrics.js"
import { NotificationHub } from "../../src/services/NotificationHub.js"
import { isolatedFromEnv } from "./isolated.js"

/** As the programs' infrastructure, with the event log isolated (the bench creates its topic). */
const Common = Layer.merge(isolatedFromEnv().pipe(Layer.provide(Infra.eventLog)), Metrics.Default)

const programs = {
  gateway: () => serveWithHealth(gatewayRouter).pipe(Layer.provide(Auth.Default), Layer.provide(Common)),
  notification: () =>
    Layer.mergeAll(serveWithHealth(NotificationHttp).pipe(Layer.provide(NotificationHub.Default)), NotificationConsumer).pipe(
      Layer.provideMerge(Layer.mergeAll(Common, Infra.notificationStore, Infra.pubSub))
    ),
  analytics: () =>
    Layer.mergeAll(serveWithHealth(AnalyticsHttp), AnalyticsConsumer).pipe(
      Layer.provideMerge(Layer.mergeAll(Common, Infra.objectStore, Infra.metricsStore))
    )
} as const

const name = process.argv[2] as keyof typeof programs
if (!(name in programs)) throw new Error(`usage: program.ts ${Object.keys(programs).join("|")}`)

NodeRuntime.runMain(
  Layer.launch((programs[name]() as Layer.Layer<never, unknown, never>).pipe(Layer.provide(listen), Layer.provide(LiveByDefault))).pipe(
    Effect.asVoid
  )
)
