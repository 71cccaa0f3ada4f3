import { Effect, Option, type Tracer } from "effect"
import { batchRelations, eventContext } from "../domain/TraceContext.js"

/** Effect's own tracer, which a program has unless it exports spans (`src/app/Tracing.ts`). */
const nativeTracer = Effect.runSync(Effect.tracer)

/**
 * Whether spans go anywhere: the tracer is not Effect's native one. Instrumentation that costs on a hot
 * path (a span per batch or message, trace contexts carried along) is done only then: on the native
 * tracer its spans would reach no one.
 */
export const exportsSpans = (tracer: Tracer.Tracer): boolean => tracer !== nativeTracer

/** Gives an event's `traceparent` the context its later work goes on in (`eventContext`). */
export type EventContexts = (traceparent: string | undefined) => Tracer.AnySpan | undefined

/**
 * Where spans are exported, the contexts of the events handled in the current span, for work done with
 * them later in other fibers (a batch, a publish); undefined otherwise, and nothing is carried.
 */
export const eventContexts: Effect.Effect<EventContexts | undefined> = Effect.tracerWith((tracer) =>
  exportsSpans(tracer)
    ? Effect.map(Effect.option(Effect.currentParentSpan), (span): EventContexts => {
      const current = Option.getOrUndefined(span)
      return (traceparent) => eventContext(traceparent, current)
    })
    : Effect.succeed(undefined)
)

/**
 * A span for work on a batch of events, standing in their traces where spans are exported: a child of
 * their context when they are of one trace, otherwise a root linking to the first few traces
 * (`batchRelations`). Never a child of the fiber's own span: a batch runs in a fiber forked long
 * before, whose span belongs to no event of the batch. On Effect's native tracer, a plain span.
 */
export const withBatchSpan = (
  name: string,
  attributes: Record<string, unknown>,
  contexts: () => ReadonlyArray<Tracer.AnySpan | undefined>
) =>
<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.tracerWith((tracer) => {
    if (!exportsSpans(tracer)) return Effect.withSpan(effect, name, { attributes })
    const all = contexts()
    const { links, parent } = batchRelations(all)
    return Effect.withSpan(effect, name, {
      attributes: { ...attributes, "messaging.batch.message_count": all.length },
      links,
      ...(parent === undefined ? { root: true } : { parent })
    })
  })
