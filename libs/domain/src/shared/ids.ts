/**
 * Client-chosen identifiers, as the HTTP contract accepts them: letters, digits, '_' and '-', 1 to 64 characters,
 * so that an id can stand in a stream name and a URL path without escaping.
 */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const ID_MAX_LENGTH = 64;

export function isValidId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value);
}
