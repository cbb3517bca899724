'use strict';
// Calling an adapter's method in either style, and the outcome recorded.
const test = require('node:test');
const assert = require('node:assert');
const { invoke, argsOf, outcome } = require('../lib/call');

function call(fn, args) {
  return new Promise((resolve) => invoke(fn, args, (err, v) => resolve([err, v])));
}

test('promise, callback, throw and rejection', async () => {
  assert.deepStrictEqual(await call((k) => Promise.resolve(k + '!'), ['a']), [null, 'a!']);
  assert.deepStrictEqual(await call((k, cb) => setImmediate(() => cb(null, k + '?')), ['a']), [null, 'a?']);
  const [err] = await call(() => { throw new Error('boom'); }, []);
  assert.match(err.message, /boom/);
  const [rej] = await call(() => Promise.reject(undefined), []);
  assert.match(rej.message, /rejected/);
});

test('a callback fired twice settles once', async () => {
  let n = 0;
  await new Promise((resolve) => invoke((cb) => { cb(null, 1); cb(null, 2); }, [], () => { n++; resolve(); }));
  await new Promise((r) => setImmediate(r));
  assert.strictEqual(n, 1);
});

test('arguments by method', () => {
  assert.deepStrictEqual(argsOf({ method: 'cas', key: 'k', value: 2 }), ['k', undefined, 2]);
  assert.deepStrictEqual(argsOf({ method: 'add', key: 'k' }), ['k', 1]);
  assert.deepStrictEqual(argsOf({ method: 'set', key: 'k', value: 0 }), ['k', 0]);
});

test('outcomes', () => {
  assert.deepStrictEqual(outcome('get', null, undefined), ['ok', '{}']);
  assert.deepStrictEqual(outcome('get', null, null), ['ok', '{}']);
  assert.deepStrictEqual(outcome('get', null, 0), ['ok', '{"value":0}']);
  assert.deepStrictEqual(outcome('get', null, ''), ['ok', '{"value":""}']);
  assert.deepStrictEqual(outcome('set', null, undefined), ['ok', '{}']);
  assert.deepStrictEqual(outcome('set', null, 'OK'), ['ok', '{"value":"OK"}']);
  assert.deepStrictEqual(outcome('delete', null, true), ['ok', '{"value":true}']);
  assert.strictEqual(outcome('delete', null, undefined)[0], 'unknown');
  const e = Object.assign(new Error('no'), { code: 'bad_request', definite: true });
  assert.deepStrictEqual(outcome('set', e), ['fail', '{"error":{"code":"bad_request","message":"no"}}']);
  assert.strictEqual(outcome('set', new Error('lost'))[0], 'unknown');
  assert.deepStrictEqual(outcome('get', null, 10n), ['ok', '{"value":{"$unserializable":"10"}}']);
});
