'use strict';
// The messages a poison fault has a worker send into its master's
// channel, in order: the known crashers of naive masters. The list is
// Go's faultinject.PoisonFrames (faultinject/poison.go), which the shared
// test vectors hold this one equal to. None has a uuid, so no answer to
// one can complete a call of the worker. Each is the value to pass to
// process.send (JSON text, parsed).

const FRAMES = Object.freeze([
  'null',
  '"poison"',
  '42',
  '[1,2]',
  '{"isSharedMemoryMessage":true}',
  '{"isSharedMemoryMessage":true,"method":"frobnicate","key":"a"}',
  '{"isSharedMemoryMessage":true,"method":"__proto__","key":"a"}',
  '{"isSharedMemoryMessage":true,"method":"constructor","key":"a"}',
  '{"isSharedMemoryMessage":true,"method":"get","key":"__proto__"}',
  '{"isSharedMemoryMessage":true,"method":"set","key":"__proto__","value":{"polluted":true}}',
  '{"isSharedMemoryMessage":true,"method":"get","key":42}',
]);

// messages returns the poison messages, fresh objects each call (JSON.parse
// makes "__proto__" an own member, as it arrives from the wire).
function messages() { return FRAMES.map((f) => JSON.parse(f)); }

module.exports = { FRAMES, messages };
