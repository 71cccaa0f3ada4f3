import { randomUUID } from "node:crypto"

/**
 * A name no other test run uses, so that suites can share one live table, bucket or broker
 * (and run again on it) without cleaning up. Only `[A-Za-z0-9_]`: valid as a sellerId.
 */
export const unique = (prefix: string): string => `${prefix}_${randomUUID().replaceAll("-", "")}`
