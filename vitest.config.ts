import { defineConfig } from "vitest/config"

/**
 * Two projects: `unit` (in-memory, fast) and `integration` (real servers; its global setup starts the
 * missing ones with infra/up.sh). `npm test` runs both; `npx vitest run test/engine` starts no server.
 * Integration tests: `test/integration/**`, or any `live.test.ts`, `*.live.test.ts`, `*-live.test.ts`, `*-kafka.test.ts`.
 */
const integration = [
  "test/integration/**/*.test.ts",
  "test/**/live.test.ts",
  "test/**/*{.,-}live.test.ts",
  "test/**/*-kafka.test.ts"
]

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: { name: "unit", include: ["test/**/*.test.ts"], exclude: ["**/node_modules/**", ...integration] }
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: integration,
          globalSetup: ["test/globalSetup.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000
        }
      }
    ]
  }
})
