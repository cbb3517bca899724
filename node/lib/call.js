'use strict';
// Calling an adapter's method, callback or promise style, and turning
// what it answered into a history outcome.

// invoke calls fn(...args) and passes its outcome to done(err, value)
// once: a method that returns a thenable settles by it; one that does
// not is given a node-style callback as its last argument.
function invoke(fn, args, done) {
  let settled = false;
  const once = (err, value) => {
    if (settled) return;
    settled = true;
    done(err, value);
  };
  let r;
  try {
    r = fn(...args, (err, value) => once(err || null, value));
  } catch (err) {
    once(err || new Error('threw ' + String(err)));
    return;
  }
  if (r !== null && (typeof r === 'object' || typeof r === 'function') && typeof r.then === 'function') {
    r.then((v) => once(null, v), (err) => once(err || new Error('rejected with ' + String(err))));
  }
}

// argsOf returns the adapter arguments of a workload operation.
function argsOf(op) {
  switch (op.method) {
    case 'get': case 'delete': case 'lock': case 'unlock':
      return [op.key];
    case 'set':
      return [op.key, op.value];
    case 'cas':
      return [op.key, op.old === undefined ? undefined : op.old, op.value];
    case 'add':
      return [op.key, op.delta === undefined ? 1 : op.delta];
  }
  throw new Error('unknown method ' + op.method);
}

function stringify(v) {
  try {
    const s = JSON.stringify(v);
    if (s !== undefined) return s;
  } catch (e) { /* below */ }
  return JSON.stringify({ $unserializable: String(v) });
}

// outcome turns a settled call into [status, output JSON text].
function outcome(method, err, value) {
  if (err) {
    const code = typeof err.code === 'string' ? err.code : 'error';
    const info = JSON.stringify({ error: { code, message: String(err.message || err) } });
    return [err.definite === true ? 'fail' : 'unknown', info];
  }
  switch (method) {
    case 'get':
      return ['ok', value === undefined || value === null ? '{}' : `{"value":${stringify(value)}}`];
    case 'set':
      return ['ok', value === undefined ? '{}' : `{"value":${stringify(value)}}`];
    case 'delete': case 'cas':
      if (typeof value !== 'boolean') {
        return ['unknown', JSON.stringify({ error: { code: 'unreported', message: `${method} answered ${stringify(value)}, not a boolean` } })];
      }
      return ['ok', `{"value":${value}}`];
    case 'add':
      return ['ok', `{"value":${stringify(value)}}`];
    default: // lock, unlock
      return ['ok', '{}'];
  }
}

module.exports = { invoke, argsOf, outcome };
