import { bodyProblem, nestedDeeperThan } from './body-guard.js';

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

describe('bodyProblem', () => {
  it('finds prototype keys at any depth and names their path', () => {
    expect(bodyProblem(JSON.parse('{"steps":[{"id":"a"},{"x":{"__proto__":1}}]}'))).toEqual({ path: 'steps[1].x.__proto__', kind: 'forbidden_key' });
    expect(bodyProblem({ a: [{ constructor: 1 }] })).toEqual({ path: 'a[0].constructor', kind: 'forbidden_key' });
    expect(bodyProblem({ a: { b: ['prototype'] } })).toBeNull();
  });

  it('finds a lone surrogate in a string or a key, unless surrogates pass; a surrogate pair is well-formed', () => {
    expect(bodyProblem(JSON.parse('{"a":[1,"x\\ud800"]}'))).toEqual({ path: 'a[1]', kind: 'lone_surrogate' });
    expect(bodyProblem(JSON.parse('{"s":{"\\udc00k":1}}'))).toEqual({ path: 's.\ufffdk', kind: 'lone_surrogate' });
    expect(bodyProblem(JSON.parse('{"a":"x\\ud800"}'), '', true)).toBeNull();
    expect(bodyProblem(JSON.parse('{"a":"\\ud83d\\ude00"}'))).toBeNull();
  });
});
