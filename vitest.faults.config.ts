import { defineConfig } from "vitest/config"

/**
 * The fault suite (`npm run test:faults`, test/faults/): real processes and servers, SIGKILLs, a broker
 * and a Redis of its own stopped and started. A configuration of its own so that `npm test` (and CI)
 * leave it out: it takes several minutes and the whole machine. Needs DynamoDB and S3 (`npm run infra:up`)
 * and the Kafka jars, `redis-server` on the PATH.
 */
export default defineConfig({
  test: {
    name: "faults",
    include: ["test/faults/**/*.test.ts"],
    testTimeout: 900_000,
    hookTimeout: 180_000,
    fileParallelism: false
  }
})
