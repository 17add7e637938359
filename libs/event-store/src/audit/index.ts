export { PROGRESS_EVERY_EVENTS, YIELD_EVERY_EVENTS, type AuditProgress, type AuditWalkOptions } from './audit-walk';
export { ChainChecker, type StreamTip, type VerifyFailure, type VerifyFailureReason } from './chain-checker';
export { DIAGNOSIS_WINDOW_EVENTS, UnreadableEventError, type UnreadableEvent } from './diagnosing-read';
export * from './export';
export * from './verify';
export * from './merkle';
export * from './verify-export';
