/** Client-chosen identifiers (DESIGN §7): letters, digits, '_' and '-', 1 to 64 characters. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const ID_MAX_LENGTH = 64;

export function isValidId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value);
}
