import { Schema } from "effect"

/** ISO-4217 codes in circulation. Frozen here so that the contract does not depend on the runtime's ICU data. */
export const currencyCodes = [
  "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN", "BHD", "BIF",
  "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHF", "CLP", "CNY", "COP", "CRC",
  "CUC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL",
  "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK",
  "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD",
  "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MYR", "MZN",
  "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON",
  "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC",
  "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU", "UZS",
  "VES", "VND", "VUV", "WST", "XAF", "XCD", "XCG", "XOF", "XPF", "YER", "ZAR", "ZMW", "ZWG"
] as const

export const Currency = Schema.Literal(...currencyCodes).annotations({
  identifier: "Currency",
  // one issue for a wrong code, not one per code in circulation (each repeating the value sent)
  message: () => ({ message: "must be an ISO-4217 currency code such as EUR", override: true }),
  description: "ISO-4217 alphabetic currency code.",
  examples: ["EUR", "USD"]
})
export type Currency = typeof Currency.Type

/** Amounts are integer minor units (cents): never a binary float. */
export const MinorUnits = Schema.Int.pipe(
  Schema.nonNegative(),
  Schema.lessThanOrEqualTo(Number.MAX_SAFE_INTEGER),
  Schema.annotations({
    identifier: "MinorUnits",
    description: "Non-negative integer amount in the currency's minor unit (e.g. cents), at most 2^53-1.",
    examples: [1999]
  })
)

export const Money = Schema.Struct({
  amountMinor: MinorUnits,
  currency: Currency
}).annotations({
  identifier: "Money",
  description: "An amount of money: integer minor units plus an ISO-4217 currency.",
  examples: [{ amountMinor: 1999, currency: "EUR" }]
})
export type Money = typeof Money.Type

export const moneyEquals = (a: Money, b: Money): boolean =>
  a.amountMinor === b.amountMinor && a.currency === b.currency
