// Tests of the bundled adapters (scenarios/bundled/adapters) and the broken fixtures
// (node/testdata/fixtures) without shmlab's Go side: each runs a tiny cluster
// (node/testdata/probe.js) with the library and its adapter, so that an adapter that
// calls its library wrong, or a fixture that lost its flaw, fails here first.
//
// npm packages come from shmlab's npm cache folder ($SHMLAB_NPM_CACHE, else
// $XDG_CACHE_HOME/shmlab/npm, else ~/.cache/shmlab/npm; one folder per name@version);
// a test whose package is not there is skipped, saying how to install it (the Go test
// that runs these installs it first).
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..');
// The real libraries' adapters are bundled with their scenarios.
const adapterPath = (name) => path.join(root, '..', 'scenarios', 'bundled', 'adapters', name + '.js');
const fixturePath = (name) => path.join(root, 'testdata', 'fixtures', 'tinystore-' + name + '.js');

function cacheDir() {
  if (process.env.SHMLAB_NPM_CACHE) return process.env.SHMLAB_NPM_CACHE;
  if (process.env.XDG_CACHE_HOME) return path.join(process.env.XDG_CACHE_HOME, 'shmlab', 'npm');
  return path.join(os.homedir(), '.cache', 'shmlab', 'npm');
}

// npmModules returns the node_modules folder holding spec (name@version) in the cache, or
// skips t saying why.
function npmModules(t, spec) {
  const folder = path.join(cacheDir(), spec.replaceAll('/', '+'));
  const name = spec.slice(0, spec.lastIndexOf('@'));
  if (fs.existsSync(path.join(folder, 'node_modules', name, 'package.json'))) return path.join(folder, 'node_modules');
  t.skip(`${spec} is not installed in ${folder}: npm install --no-save --prefix '${folder}' ${spec}`);
  return undefined;
}

// probe runs plan on the adapter at file in a cluster of its own, and returns the
// primary's exit status, its stderr, each worker's results and the primary's report.
function probe(file, plan, modules) {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'shmlab-probe-'));
  try {
    const env = { ...process.env, PROBE_ADAPTER: file, PROBE_OUT: out, PROBE_PLAN: JSON.stringify(plan) };
    if (modules) env.NODE_PATH = modules;
    const r = spawnSync(process.execPath, [path.join(root, 'testdata', 'probe.js')], { env, timeout: 120000, encoding: 'utf8' });
    const read = (name) => {
      const f = path.join(out, name + '.json');
      return fs.existsSync(f) ? JSON.parse(fs.readFileSync(f, 'utf8')) : undefined;
    };
    return { status: r.status, signal: r.signal, stderr: r.stderr, workers: plan.workers.map((_, i) => read(`w${i + 1}`)), primary: read('primary') };
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

// ok is a call's answer as the probe writes it (JSON: an undefined value is left out).
const ok = (value) => (value === undefined ? { ok: true } : { ok: true, value });
const call = (...c) => ({ call: c });
const quick = (...c) => ({ call: c, timeout: 1500 }); // for a call expected to go unanswered

// roundTrip is what every correct adapter must do: a value set is read back; deleted, it
// reads absent (undefined).
const roundTrip = [call('set', 'k1', 7), call('get', 'k1'), call('set', 'k1', 'eight'), call('get', 'k1'),
  call('delete', 'k1'), call('get', 'k1')];
const roundTripWant = (setAnswer, delAnswer) => [ok(setAnswer), ok(7), ok(setAnswer), ok('eight'), ok(delAnswer), ok(undefined)];

function assertRun(r, workers) {
  assert.strictEqual(r.status, 0, `probe exited ${r.status} (${r.signal}); stderr:\n${r.stderr}`);
  assert.deepStrictEqual(r.workers, workers);
}

test('cluster-shared-memory', async (t) => {
  const modules = npmModules(t, 'cluster-shared-memory@1.1.5');
  if (!modules) return;
  const file = adapterPath('cluster-shared-memory');
  await t.test('round trip, lock and final read', () => {
    const r = probe(file, { workers: [[...roundTrip, call('lock', 'k2'), call('set', 'k2', 3), call('unlock', 'k2')]] }, modules);
    assertRun(r, [[...roundTripWant(undefined, undefined), ok(undefined), ok(undefined), ok(undefined)]]);
    assert.deepStrictEqual(r.primary.final, { k2: 3 }); // k1 absent: JSON leaves it out
  });
  await t.test('get and set alone (cluster-shared-memory-getset)', () => {
    const r = probe(adapterPath('cluster-shared-memory-getset'), { workers: [[call('set', 'k', 4), call('get', 'k'), call('delete', 'k')]] }, modules);
    assertRun(r, [[ok(undefined), ok(4), { missing: 'delete' }]]);
  });
  await t.test('the finding: falsy values read back absent', () => {
    const r = probe(file, { workers: [[call('set', 'k', 0), call('get', 'k'), call('set', 'k', ''), call('get', 'k')]] }, modules);
    assertRun(r, [[ok(undefined), ok(undefined), ok(undefined), ok(undefined)]]);
  });
  await t.test('the finding: a lock whose holder died is never released', () => {
    const r = probe(file, { serial: true, workers: [[call('lock', 'k'), { die: true }], [quick('lock', 'k')]] }, modules);
    assertRun(r, [[ok(undefined)], [{ timeout: true }]]);
  });
  await t.test('the finding: the primary dies on a set of the key ""', () => {
    const r = probe(file, { workers: [[quick('set', '', 1)]] }, modules);
    assert.notStrictEqual(r.status, 0, 'the primary survived');
    assert.match(r.stderr, /reading 'then'/);
  });
  await t.test('the finding: the primary dies on a null message', () => {
    const r = probe(file, { workers: [[{ send: null }, quick('get', 'k')]] }, modules);
    assert.notStrictEqual(r.status, 0, 'the primary survived null');
    assert.match(r.stderr, /TypeError/);
  });
});

test('memored', async (t) => {
  const modules = npmModules(t, 'memored@1.1.1');
  if (!modules) return;
  const file = adapterPath('memored');
  await t.test('round trip', () => {
    const r = probe(file, { workers: [roundTrip, [call('set', 'k2', 0), call('get', 'k2')]] }, modules);
    assertRun(r, [roundTripWant(undefined, undefined), [ok(undefined), ok(0)]]);
  });
  await t.test('the finding: a multiStore of one entry never calls back', () => {
    const r = probe(adapterPath('memored-multistore'), { workers: [[quick('set', 'k', 1), call('get', 'k')]] }, modules);
    assertRun(r, [[{ timeout: true }, ok(1)]]);
  });
  await t.test('the finding: the primary dies on the adapter\'s poison', () => {
    const poison = require(file).poison;
    assert.ok(Array.isArray(poison) && poison.length > 0, 'the adapter lists no poison');
    const r = probe(file, { workers: [[{ send: poison[0] }, quick('get', 'k')]] }, modules);
    assert.notStrictEqual(r.status, 0, 'the primary survived');
    assert.match(r.stderr, /reading 'send'/);
  });
  await t.test('the finding: the primary dies reading __proto__', () => {
    const r = probe(file, { workers: [[quick('get', '__proto__')]] }, modules);
    assert.notStrictEqual(r.status, 0, 'the primary survived');
    assert.match(r.stderr, /isExpired is not a function/);
  });
});

test('tinystore fixtures', async (t) => {
  const all = [call('add', 'n', 2), call('add', 'n', 3), call('cas', 'n', 5, 6), call('cas', 'n', 5, 7), call('cas', 'm', null, 1),
    call('lock', 'l'), call('unlock', 'l'), call('unlock', 'l')];
  const allWant = [ok(2), ok(5), ok(true), ok(false), ok(true), ok('OK'), ok('OK'), { ok: false, error: 'Error: unlock: l is not held' }];
  await t.test('control: every method, null survived, a dead holder\'s lock released', () => {
    const r = probe(fixturePath('control'), { serial: true, workers: [[...roundTrip, ...all, { send: null }, call('lock', 'x'), { die: true }], [call('lock', 'x'), call('get', '__proto__')]] });
    assertRun(r, [[...roundTripWant('OK', true), ...allWant, { sent: true }, ok('OK')], [ok('OK'), ok(undefined)]]);
  });
  await t.test('never-fires: add goes unanswered', () => {
    const r = probe(fixturePath('never-fires'), { workers: [[call('set', 'n', 1), quick('add', 'n', 1), call('get', 'n')]] });
    assertRun(r, [[ok('OK'), { timeout: true }, ok(1)]]);
  });
  await t.test('null-crash: the primary dies on null', () => {
    const r = probe(fixturePath('null-crash'), { workers: [[call('set', 'n', 1), { send: null }, quick('get', 'n')]] });
    assert.notStrictEqual(r.status, 0, 'the primary survived null');
    assert.match(r.stderr, /TypeError: Cannot read properties of null/);
  });
  await t.test('lock-kept: a dead holder\'s lock is never released', () => {
    const r = probe(fixturePath('lock-kept'), { serial: true, workers: [[call('lock', 'x'), { die: true }], [quick('lock', 'x')]] });
    assertRun(r, [[ok('OK')], [{ timeout: true }]]);
  });
});
