import { UnsupportedMediaTypeException } from '@nestjs/common';

/**
 * What the API accepts as a request body, checked before anything parses it: JSON only, and JSON in which no object
 * names a field twice. JSON.parse keeps the last of two equal keys, while a gateway or an auditor reading the same
 * bytes may take the first: `{"amount":"1","amount":"1000"}` would be one request to one reader and another to the
 * next. The ledger refuses it rather than choose.
 */

/** A command body is a handful of short fields; 64 KiB leaves ample room and bounds a hostile request. */
export const BODY_LIMIT_BYTES = 64 * 1024;

/** True when the request carries a body (RFC 9110: a Transfer-Encoding, or a Content-Length other than 0). */
export function hasBody(headers: Readonly<Record<string, string | string[] | undefined>>): boolean {
  if (headers['transfer-encoding'] !== undefined) return true;
  const length = headers['content-length'];
  return length !== undefined && length !== '0';
}

/** `application/json`, with or without parameters such as `charset=utf-8`. */
export function isJsonMediaType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  return contentType.split(';', 1)[0]!.trim().toLowerCase() === 'application/json';
}

/** Where a string literal that starts at `start` (its opening quote) ends: the index after its closing quote, or -1. */
function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i += 1) {
    const ch = text.charCodeAt(i);
    if (ch === 0x5c /* \ */) i += 1;
    else if (ch === 0x22 /* " */) return i + 1;
  }
  return -1;
}

interface Frame {
  /** The keys seen so far in this object; null for an array. */
  readonly keys: Set<string> | null;
  readonly path: string;
  /** In an object: whether the next string is a key. In an array: unused. */
  expectKey: boolean;
  /** The key whose value is being read (objects), or the index of the element (arrays). */
  member: string | number;
}

function childPath(parent: Frame | undefined): string {
  if (parent === undefined) return '';
  if (parent.keys === null) return `${parent.path}[${String(parent.member)}]`;
  return parent.path === '' ? String(parent.member) : `${parent.path}.${String(parent.member)}`;
}

/**
 * The path (`amount`, `declaration.reason`, `items[2].id`) of the first key that an object of this JSON text names
 * twice, or null when there is none. Text that is not JSON gives null: the parser that runs next refuses it with its
 * own error. One pass over the text, a frame per open object or array.
 */
export function duplicateJsonKey(text: string): string | null {
  const stack: Frame[] = [];
  for (let i = 0; i < text.length; i += 1) {
    const ch = text[i];
    const top = stack[stack.length - 1];
    if (ch === '"') {
      const end = stringEnd(text, i);
      if (end === -1) return null;
      if (top?.keys && top.expectKey) {
        let key: string;
        try {
          key = JSON.parse(text.slice(i, end)) as string;
        } catch {
          return null;
        }
        top.member = key;
        if (top.keys.has(key)) return childPath(top);
        top.keys.add(key);
        top.expectKey = false;
      }
      i = end - 1;
    } else if (ch === '{' || ch === '[') {
      stack.push({ keys: ch === '{' ? new Set() : null, path: childPath(top), expectKey: ch === '{', member: 0 });
    } else if (ch === '}' || ch === ']') {
      stack.pop();
    } else if (ch === ',' && top !== undefined) {
      if (top.keys === null) top.member = Number(top.member) + 1;
      else top.expectKey = true;
    }
  }
  return null;
}

/** A body refused before parsing, with the status and field that the API's error shape names. */
export class RefusedBodyError extends Error {
  constructor(
    readonly status: 400 | 415,
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field} ${reason}`);
  }
}

/** Throws a RefusedBodyError when the raw JSON body names a field twice. */
export function assertNoDuplicateKeys(raw: Buffer | string): void {
  const duplicate = duplicateJsonKey(typeof raw === 'string' ? raw : raw.toString('utf8'));
  if (duplicate !== null) throw new RefusedBodyError(400, duplicate, 'appears more than once in the body: send each field once');
}

/** A body that is not JSON at all, or JSON whose top level is neither an object nor an array. */
export class MalformedBodyError extends Error {
  readonly status = 400;
  constructor() {
    super('request body must be a JSON object');
  }
}

/**
 * The API's only body parser: no field named twice (checked on the text, before JSON.parse keeps the last of two),
 * then JSON.parse; the top level must be an object or an array (what `strict` JSON parsers accept). A body of zero
 * bytes is no body.
 */
export function parseJsonBody(text: string): unknown {
  if (text.length === 0) return undefined;
  const start = text.search(/\S/);
  if (start === -1 || (text[start] !== '{' && text[start] !== '[')) throw new MalformedBodyError();
  assertNoDuplicateKeys(text);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new MalformedBodyError();
  }
}

/** The refusal of a body of another type (a form, plain text), or null when the request may go on. */
export function unsupportedMediaType(headers: Readonly<Record<string, string | string[] | undefined>>): UnsupportedMediaTypeException | null {
  const contentType = headers['content-type'];
  if (!hasBody(headers) || isJsonMediaType(typeof contentType === 'string' ? contentType : undefined)) return null;
  return new UnsupportedMediaTypeException({
    message: 'request bodies must be JSON: send Content-Type: application/json',
    errors: [{ field: 'Content-Type', reasons: ['must be application/json: the API reads no other body'] }],
  });
}
