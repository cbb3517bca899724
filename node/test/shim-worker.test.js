'use strict';
// The worker-side shim in a real forked child: requests decided at
// process.send, replies at the child's message events.
const test = require('node:test');
const assert = require('node:assert');
const { fork } = require('node:child_process');
const path = require('node:path');

test('a forked worker duplicates its request and drops the reply', async () => {
  const child = fork(path.join(__dirname, '..', 'testdata', 'fixtures', 'shim-child.js'), { serialization: 'json' });
  const got = [];
  const report = await new Promise((resolve, reject) => {
    child.on('message', (m) => {
      if (m.report) return resolve(m);
      got.push(m);
      child.send({ uuid: m.uuid, value: 1 });
    });
    child.on('error', reject);
  });
  child.kill();
  assert.deepStrictEqual(got.map((m) => m.uuid), [1, 1]);
  assert.deepStrictEqual(report.seen, []);
  assert.deepStrictEqual(report.records.map((r) => [r.link.dir, r.n, r.msg.key, r.truth]),
    [['requests', 1, 'a', 'duplicated'], ['replies', 1, 'a', 'applied'], ['replies', 2, 'a', 'applied']]);
});
