'use strict';
// What a message fault's corruption does to a message of the wire
// protocol (shm/PROTOCOL.md) as a JavaScript object: the port of Go's
// faultinject.CorruptMessage (faultinject/corrupt.go) for a channel that
// carries objects (Node's process.send), so that a decision makes the
// same change on both sides:
//
// - 'frame' on a request: the master must not read it as a request, and
//   a master that does answers with a definite error: the message keeps
//   its uuid and its isSharedMemoryMessage becomes a string (JSON sent by
//   process.send cannot be a torn frame, which Go's corruption stands
//   for). The Go master answers wrong_type; a library's master ignores a
//   message not marked as its own. Either way nothing is applied.
// - 'frame' on a reply: the uuid is removed, as in Go.
// - 'id': a number uuid moves by shift (2048, ConnOptions.IDShift); a
//   string uuid (a library's own ids) gets '~' and shift appended.
// - 'value': as Go's otherValue on the value's JSON text: a number's last
//   digit changes, true and false swap, a string's first character
//   changes if it is plain ASCII, anything else is wrapped in an array;
//   on a request only set's and cas's value, and add's delta (by one).
//
// corrupt never changes the message it is given; it returns a new one.

const DEFAULT_SHIFT = 2048;
const DAMAGED = 'frame damaged in transit (faultinject)';

// corruptible reports whether corruption c can change message m
// travelling in direction dir ('requests' or 'replies'): Go's
// corruptible. A decision whose corruption cannot change its message
// changes nothing (it is not a fault and is not logged).
function corruptible(m, dir, c) {
  switch (c) {
    case 'id':
      return isObject(m) && m.uuid !== undefined && m.uuid !== null;
    case 'value':
      if (!isObject(m)) return false;
      if (dir === 'requests') {
        return m.method === 'add' || ((m.method === 'set' || m.method === 'cas') && 'value' in m);
      }
      return 'value' in m;
  }
  return true;
}

// corrupt returns message m, travelling in direction dir, changed by
// corruption c ('frame', 'id' or 'value'), an id moved by shift.
function corrupt(m, dir, c, shift = DEFAULT_SHIFT) {
  if (!isObject(m) || !corruptible(m, dir, c)) return m;
  const out = { ...m };
  switch (true) {
    case c === 'frame' && dir === 'requests':
      out.isSharedMemoryMessage = DAMAGED;
      break;
    case c === 'frame':
      delete out.uuid;
      break;
    case c === 'id':
      out.uuid = typeof m.uuid === 'string' ? `${m.uuid}~${shift}` :
        typeof m.uuid === 'bigint' ? m.uuid + BigInt(shift) : m.uuid + shift;
      break;
    case c === 'value' && dir === 'requests' && m.method === 'add':
      out.delta = ('delta' in m ? m.delta : 1) + 1;
      break;
    case c === 'value':
      out.value = otherValue(m.value);
      break;
  }
  return out;
}

function isObject(m) { return m !== null && typeof m === 'object' && !Array.isArray(m); }

// otherValue returns a value that differs from v, made as Go's otherValue
// makes it from v's compact JSON text.
function otherValue(v) {
  const s = v === undefined ? 'null' : JSON.stringify(v);
  if (s === 'true') return false;
  if (s === 'false') return true;
  if (s[0] === '-' || isDigit(s[0])) return JSON.parse(flip(s, s.length - 1));
  if (s.length > 2 && s[0] === '"' && plainSwap(s.charCodeAt(1))) return JSON.parse(flip(s, 1));
  return [v === undefined ? null : v];
}

function isDigit(c) { return c >= '0' && c <= '9'; }

// plainSwap reports whether c and c^1 are both printable ASCII that a
// JSON string holds unescaped.
function plainSwap(c) {
  const plain = (c) => c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x5c;
  return plain(c) && plain(c ^ 1);
}

// flip returns s with the low bit of its character i flipped.
function flip(s, i) {
  return s.slice(0, i) + String.fromCharCode(s.charCodeAt(i) ^ 1) + s.slice(i + 1);
}

module.exports = { corrupt, corruptible, otherValue, DEFAULT_SHIFT, DAMAGED };
