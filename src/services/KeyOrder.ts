/**
 * The order of storage keys: by their UTF-8 bytes, as DynamoDB orders string sort keys and S3 lists
 * object keys. The in-memory stores sort by it so that they answer in the live stores' order.
 */
export const compareKeyBytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"))
