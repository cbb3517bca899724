'use strict';
// The per-process journal: one JSON object per line, each written with
// one synchronous write (fs.writeSync) so that a line written before a
// call is on disk (in the page cache) before the library is called, and
// survives the process being killed. The Go reader (node/journal.go)
// reads it strictly; the format is documented in node/README.md.
//
// Lines:
//   {"t":"journal","version":1,"role":"worker","worker":"w1","gen":1,"inc":1,"pid":123,"created":T}
//   {"t":"call","id":1,"method":"get","key":"a","input":{},"call":T}
//   {"t":"return","id":1,"status":"ok","output":{"value":5},"return":T}
//   {"t":"fault","record":{...faultinject.Record as Go marshals it...}}
//   {"t":"late","id":1,"time":T}      an answer after the call timed out
//   {"t":"note","time":T,"text":"..."}
// Times are process.hrtime.bigint() (CLOCK_MONOTONIC), written as
// integers of their decimal digits.

const fs = require('fs');

const VERSION = 1;

function now() {
  return process.hrtime.bigint();
}

class Journal {
  // open creates the journal file at path (it must not exist).
  constructor(path, head) {
    this.path = path;
    this.fd = fs.openSync(path, 'wx', 0o644);
    this.nextID = 0;
    const h = Object.assign({ t: 'journal', version: VERSION }, head, { pid: process.pid });
    this._line(JSON.stringify(h).slice(0, -1) + `,"created":${now()}}`);
  }

  _line(s) {
    if (this.fd === null) return;
    const b = Buffer.from(s + '\n', 'utf8');
    let off = 0;
    while (off < b.length) off += fs.writeSync(this.fd, b, off, b.length - off);
  }

  // call records a call before it is made and returns its id. input is
  // the history's input object, as JSON text.
  call(method, key, inputJSON) {
    const id = ++this.nextID;
    const t = now();
    this._line(`{"t":"call","id":${id},"method":${JSON.stringify(method)},"key":${JSON.stringify(key)},"input":${inputJSON},"call":${t}}`);
    return id;
  }

  // ret records the end of call id: status ok, fail or unknown, with the
  // output object as JSON text.
  ret(id, status, outputJSON) {
    const t = now();
    this._line(`{"t":"return","id":${id},"status":"${status}","output":${outputJSON},"return":${t}}`);
    return t;
  }

  // late records that call id was answered after it had been given up
  // (returned unknown at the timeout).
  late(id) {
    this._line(`{"t":"late","id":${id},"time":${now()}}`);
  }

  // fault records a fault decision, a faultinject.Record as Go writes it.
  fault(recordJSON) {
    this._line(`{"t":"fault","record":${recordJSON}}`);
  }

  note(text) {
    this._line(`{"t":"note","time":${now()},"text":${JSON.stringify(String(text))}}`);
  }

  close() {
    if (this.fd !== null) {
      fs.closeSync(this.fd);
      this.fd = null;
    }
  }
}

module.exports = { Journal, now, VERSION };
