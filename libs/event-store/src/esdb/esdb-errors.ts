export class EsdbClockSkewError extends Error {}
export class EsdbStreamDeletedError extends Error {}
