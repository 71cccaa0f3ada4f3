import { defineConfig } from "vitest/config"

/**
 * One vitest project per top-level kind of test, chosen by folder (test/README.md):
 * - `unit`: the components, in memory and in process: the default feedback loop;
 * - `long` (test/long/): fast-check properties over thousands of cases, the engine with 100,000 sellers;
 * - `programs` (test/programs/): whole programs with no server: the embedded one over HTTP, the CLI as processes;
 * - `integration` (test/integration/): real servers; its global setup starts the missing ones.
 * `npm test` (and so CI) runs all four; `npx vitest run --project unit` only the first.
 */
// test/faults/ has a configuration of its own (vitest.faults.config.ts, `npm run test:faults`).
const separate = ["test/long/**", "test/programs/**", "test/integration/**", "test/faults/**"]

export default defineConfig({
  test: {
    // In-process tests (unit, long) run first, in worker threads, one per core (vitest's default, cores - 1, runs
    // the files one at a time on a 2-core machine). Then the files that start processes (programs, integration)
    // run one at a time in child processes: they start programs and brokers of their own and time shutdowns,
    // fail-overs and kill loops, which anything running beside them on 2 cores makes flaky.
    maxWorkers: "100%",
    pool: "threads",
    // The worker threads (unit, long) load modules once per worker instead of once per file: two thirds of
    // their time otherwise. (Set here: vitest takes pool options from the root, not from a project.)
    poolOptions: { threads: { isolate: false }, forks: { singleFork: true } },
    // Where files share a worker (the unit project's threads, the one child process of programs and
    // integration, whose node_modules load once), this undoes what one file's @effect/vitest `layer()`
    // leaves on vitest's shared `it`.
    setupFiles: ["test/support/pristineIt.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["test/**/*.test.ts"],
          exclude: ["**/node_modules/**", ...separate]
        }
      },
      {
        extends: true,
        test: { name: "long", include: ["test/long/**/*.test.ts"], testTimeout: 120_000 }
      },
      {
        extends: true,
        test: { name: "programs", include: ["test/programs/**/*.test.ts"], pool: "forks", sequence: { groupOrder: 1 } }
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          pool: "forks",
          sequence: { groupOrder: 1 },
          globalSetup: ["test/integration/globalSetup.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000
        }
      }
    ]
  }
})
