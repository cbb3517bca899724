'use strict';
// The fault shim in a primary, on a fake worker: each decision carried
// out on the message paths and journaled with its ground truth.
const test = require('node:test');
const assert = require('node:assert');
const { EventEmitter } = require('node:events');
const { wrapPrimary } = require('../lib/shim');

function setup(messages) {
  const journal = { records: [], fault(j) { this.records.push(JSON.parse(j)); } };
  const shim = wrapPrimary(JSON.stringify({ seed: 1, messages }), journal);
  const w = new EventEmitter();
  w.process = new EventEmitter();
  w.sent = [];
  w.send = (m) => { w.sent.push(m); return true; };
  const got = [];
  w.process.on('message', (m) => got.push(m));
  shim.onFork(w, 'w1');
  return { w, got, journal };
}

test('a duplicated request is delivered twice, logged duplicated', () => {
  const { w, got, journal } = setup([{ kind: 'duplicate', dir: 'requests', p: 1, copies: 1 }]);
  w.process.emit('message', { method: 'set', key: 'a', uuid: 7, value: 1 });
  assert.strictEqual(got.length, 2);
  assert.strictEqual(journal.records.length, 1);
  const r = journal.records[0];
  assert.deepStrictEqual([r.link, r.n, r.msg, r.truth], [{ worker: 'w1', dir: 'requests' }, 1, { method: 'set', key: 'a', seq: 7 }, 'duplicated']);
});

test('a dropped reply is never sent, decided with its request', () => {
  const { w, journal } = setup([{ kind: 'drop', dir: 'replies', p: 1 }]);
  w.process.emit('message', { method: 'get', key: 'k', uuid: 3 });
  w.send({ uuid: 3, value: 1 });
  assert.deepStrictEqual(w.sent, []);
  assert.deepStrictEqual(journal.records.map((r) => [r.msg, r.truth]), [[{ method: 'get', key: 'k', seq: 3 }, 'applied']]);
});

test('a reordered request goes after the next one', () => {
  const { w, got } = setup([{ kind: 'reorder', dir: 'requests', target: { nth: 1 } }]);
  w.process.emit('message', { uuid: 1 });
  assert.deepStrictEqual(got, []);
  w.process.emit('message', { uuid: 2 });
  assert.deepStrictEqual(got.map((m) => m.uuid), [2, 1]);
});

test('a delayed request held when its worker dies still arrives', async () => {
  const { w, got, journal } = setup([{ kind: 'delay', dir: 'requests', p: 1, delay: { kind: 'fixed', min: 20e6 } }]);
  w.process.emit('message', { uuid: 1 });
  w.emit('exit');
  assert.deepStrictEqual(got, []);
  await new Promise((r) => setTimeout(r, 60));
  assert.deepStrictEqual(got.map((m) => m.uuid), [1]);
  assert.strictEqual(journal.records[0].truth, 'delayed');
  assert.strictEqual(journal.records[0].decision.delay, 20e6);
});

test('a reply held when its worker dies is discarded', () => {
  const { w, journal } = setup([{ kind: 'reorder', dir: 'replies', target: { nth: 1 } }]);
  w.send({ uuid: 1 });
  w.emit('exit');
  assert.deepStrictEqual(w.sent, []);
  assert.deepStrictEqual(journal.records.map((r) => [r.decision, r.truth]), [[{ reorder: true, fired: [0] }, 'delayed'], [{ discarded: true }, 'applied']]);
});
