import { it } from "@effect/vitest"

/**
 * Test files share a worker: the unit project's (`isolate: false`: the modules load once per worker, not
 * once per file, which takes most of the run's time otherwise), and the one child process that runs the
 * programs and integration files (node_modules, @effect/vitest among them, load once there too).
 * @effect/vitest's `layer()` assigns its layer-bound `effect`, `scoped`, `layer`, … onto vitest's one
 * shared `it`, so a file that calls it would leave its runtime (and its TestClock, or none) to every later
 * file in that worker. This setup file runs before each file: it remembers the methods as first loaded
 * and puts them back.
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
