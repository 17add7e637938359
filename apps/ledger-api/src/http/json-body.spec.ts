import { duplicateJsonKey, hasBody, isJsonMediaType } from './json-body';

describe('duplicateJsonKey', () => {
  it.each([
    ['{"amount":"1","amount":"1000"}', 'amount'],
    ['{"a":1,"b":{"c":1,"c":2}}', 'b.c'],
    ['{"items":[{"id":1},{"id":2,"id":3}]}', 'items[1].id'],
    ['[{"x":1},{"x":1,"x":1}]', '[1].x'],
    ['{"a\\u0062":1,"ab":2}', 'ab'],
    [' { "k" : 1 , "k" : 2 } ', 'k'],
  ])('finds the duplicate in %s at %s', (text, path) => {
    expect(duplicateJsonKey(text)).toBe(path);
  });

  it.each([
    '{"amount":"1","asset":"ETH"}',
    '{"a":{"k":1},"b":{"k":1}}',
    '{"text":"a \\"quoted\\" }{ brace, \\"text\\":1"}',
    '{"list":["a","a","a"]}',
    '[]',
    '"just a string"',
    '',
  ])('finds none in %s', (text) => {
    expect(duplicateJsonKey(text)).toBeNull();
  });

  it('leaves text that is not JSON to the parser (no duplicate reported)', () => {
    expect(duplicateJsonKey('{"a":1,"a')).toBeNull();
    expect(duplicateJsonKey('{"unterminated')).toBeNull();
  });

  it('treats keys in an object nested in an array element by element', () => {
    expect(duplicateJsonKey('{"a":[{"k":1},{"k":1}],"k":1}')).toBeNull();
  });
});

describe('body detection', () => {
  it('sees a body from Transfer-Encoding or a non-zero Content-Length', () => {
    expect(hasBody({})).toBe(false);
    expect(hasBody({ 'content-length': '0' })).toBe(false);
    expect(hasBody({ 'content-length': '3' })).toBe(true);
    expect(hasBody({ 'transfer-encoding': 'chunked' })).toBe(true);
  });

  it('takes application/json with parameters, in any case, and nothing else', () => {
    expect(isJsonMediaType('application/json')).toBe(true);
    expect(isJsonMediaType('Application/JSON; charset=utf-8')).toBe(true);
    expect(isJsonMediaType('text/plain')).toBe(false);
    expect(isJsonMediaType('application/x-www-form-urlencoded')).toBe(false);
    expect(isJsonMediaType('application/jsonx')).toBe(false);
    expect(isJsonMediaType(undefined)).toBe(false);
  });
});
