'use strict';
// The fault shim's ground truth (Go's faultinject truth) and records.
const test = require('node:test');
const assert = require('node:assert');
const { truth, recordJSON, requestInfo } = require('../lib/shim');

test('truth as Go says it', () => {
  assert.strictEqual(truth('requests', { drop: true }), 'not_applied');
  assert.strictEqual(truth('requests', { corruption: 'frame' }), 'not_applied');
  assert.strictEqual(truth('requests', { copies: 1 }), 'duplicated');
  assert.strictEqual(truth('requests', { corruption: 'value' }), 'applied');
  assert.strictEqual(truth('requests', { delay: 5 }), 'delayed');
  assert.strictEqual(truth('replies', { drop: true }), 'applied');
  assert.strictEqual(truth('replies', { copies: 1 }), '');
  assert.strictEqual(truth('replies', { reorder: true }), 'delayed');
});

test('a record as Go marshals it', () => {
  const rec = JSON.parse(recordJSON({ worker: 'w1', dir: 'replies' }, { method: 'get', key: 'a', seq: 3 },
    { drop: true, fired: [1], n: 4 }, 99n));
  assert.deepStrictEqual(rec, { time: 99, link: { worker: 'w1', dir: 'replies' }, n: 4,
    msg: { method: 'get', key: 'a', seq: 3 }, decision: { drop: true, fired: [1] }, truth: 'applied' });
});

test('message info of any message', () => {
  assert.deepStrictEqual(requestInfo(null), { method: '', key: '', seq: 0 });
  assert.deepStrictEqual(requestInfo({ method: 'set', key: 'k', uuid: 'x-1' }), { method: 'set', key: 'k', seq: 0 });
  assert.deepStrictEqual(requestInfo({ method: 'get', key: 5, id: 7 }), { method: 'get', key: '', seq: 7 });
});
