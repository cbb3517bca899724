'use strict';
// The control channel: JSON lines over a Unix socket to shmlab (Go),
// apart from the channel under test. shmlab sends the operations to run
// and gets their outcomes, the pids and the exits.

const net = require('net');

class Control {
  // connect connects to the socket at path; onMessage gets each message.
  constructor(path, onMessage, onClose) {
    this.sock = net.connect(path);
    this.sock.setEncoding('utf8');
    this.buf = '';
    this.sock.on('data', (d) => {
      this.buf += d;
      let i;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 1);
        if (line !== '') onMessage(JSON.parse(line));
      }
    });
    this.sock.on('error', () => {});
    this.sock.on('close', () => onClose && onClose());
  }

  // send sends one message; raw, if given, is JSON text spliced in as
  // member "out" (a value already serialized).
  send(msg) {
    this.sock.write(JSON.stringify(msg) + '\n');
  }

  sendRaw(text) {
    this.sock.write(text + '\n');
  }

  // unref lets the process exit with the socket open.
  unref() {
    this.sock.unref();
  }

  end(cb) {
    this.sock.end(cb);
  }
}

// env returns environment variable name, or fallback if it is unset or
// empty; with no fallback, an unset one is an error.
function env(name, fallback) {
  const v = process.env[name];
  if (v === undefined || v === '') {
    if (fallback !== undefined) return fallback;
    throw new Error(`shmlab: $${name} is not set`);
  }
  return v;
}

module.exports = { Control, env };
