'use strict';
// The journal's lines, as node/journal.go reads them.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Journal } = require('../lib/journal');

test('each record is one whole line, times as integers', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shmlab-journal-'));
  const p = path.join(dir, 'w1.njournal');
  const j = new Journal(p, { role: 'worker', worker: 'w1', gen: 1, inc: 1 });
  const id = j.call('set', 'k', '{"value":1}');
  j.ret(id, 'ok', '{"value":"OK"}');
  j.close();
  const lines = fs.readFileSync(p, 'utf8').split('\n');
  assert.strictEqual(lines.pop(), '');
  const [h, c, r] = lines.map((l) => JSON.parse(l));
  assert.strictEqual(h.t, 'journal');
  assert.strictEqual(h.pid, process.pid);
  assert.strictEqual(c.id, 1);
  assert.ok(Number.isInteger(c.call) && Number.isInteger(r.return) && r.return >= c.call);
  assert.match(lines[1], /"call":[0-9]+\}$/);
  assert.throws(() => new Journal(p, { role: 'worker' }), /EEXIST/);
  fs.rmSync(dir, { recursive: true });
});
