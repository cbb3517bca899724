'use strict';
// The adapter template loads, and has the hooks the contract names.
const test = require('node:test');
const assert = require('node:assert');

test('the template is a loadable adapter', () => {
  const a = require('../template/adapter.js');
  assert.strictEqual(typeof a.name, 'string');
  assert.strictEqual(typeof a.master, 'function');
  const c = a.worker({ workerName: 'w1', incarnation: 1, log() {} });
  assert.strictEqual(typeof c.get, 'function');
  assert.strictEqual(typeof c.set, 'function');
  assert.throws(() => c.get('a'), /write get/);
});
