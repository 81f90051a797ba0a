import { forbiddenKeyPath, nestedDeeperThan } from './body-guard.js';

describe('nestedDeeperThan', () => {
  it('counts arrays and objects, text or bytes', () => {
    expect(nestedDeeperThan('[[{"a":[1]}]]', 4)).toBe(false);
    expect(nestedDeeperThan('[[{"a":[[1]]}]]', 4)).toBe(true);
    expect(nestedDeeperThan(Buffer.from('{"a":{"b":{"c":{}}}}'), 3)).toBe(true);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(nestedDeeperThan('{"t":"[[[[{{{{","u":"\\"[[[[\\\\"}', 1)).toBe(false);
    expect(nestedDeeperThan('["\\\\",[[1]]]', 2)).toBe(true);
  });
});

describe('forbiddenKeyPath', () => {
  it('finds prototype keys at any depth and names their path', () => {
    expect(forbiddenKeyPath(JSON.parse('{"steps":[{"id":"a"},{"x":{"__proto__":1}}]}'))).toBe('steps[1].x.__proto__');
    expect(forbiddenKeyPath({ a: [{ constructor: 1 }] })).toBe('a[0].constructor');
    expect(forbiddenKeyPath({ a: { b: ['prototype'] } })).toBeNull();
  });
});
