import { it } from "@effect/vitest"

/**
 * The `unit` project runs its files in shared workers (`isolate: false`: the modules load once per worker,
 * not once per file, which takes most of the run's time otherwise). @effect/vitest's `layer()` assigns its
 * layer-bound `effect`, `scoped`, `layer`, … onto vitest's one shared `it`, so a file that calls it would leave
 * its runtime (and its TestClock, or none) to every later file in that worker. This setup file runs before
 * each file: it remembers the methods as first loaded and puts them back.
 */
const methods = ["effect", "live", "flakyTest", "scoped", "scopedLive", "layer", "prop", "scopedFixtures"] as const
type Methods = Pick<typeof it, (typeof methods)[number]>

const key = Symbol.for("product-events/test/pristine-it")
const store = globalThis as { [key]?: Methods }
const pristine = store[key]
if (pristine === undefined) {
  store[key] = Object.fromEntries(methods.map((name) => [name, it[name]])) as unknown as Methods
} else {
  Object.assign(it, pristine)
}
