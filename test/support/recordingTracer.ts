import { Effect, Tracer } from "effect"

/**
 * A tracer that is not Effect's native one (so the code under test takes its exporting path) and keeps
 * every span it starts: Effect's own span objects, with their name, parent, links and attributes.
 */
export const recordingTracer = () => {
  const native = Effect.runSync(Effect.tracer)
  const spans: Array<Tracer.Span> = []
  const tracer = Tracer.make({
    span: (...args) => {
      const span = native.span(...args)
      spans.push(span)
      return span
    },
    context: (f) => f()
  })
  const named = (name: string) => spans.filter((s) => s.name === name)
  return { tracer, spans, named }
}

export const traceparentOf = (trace: string, span: string) => `00-${trace.repeat(32)}-${span.repeat(16)}-01`
