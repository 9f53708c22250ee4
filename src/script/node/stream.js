// Node's `stream`, reduced to the legacy `Stream` (an EventEmitter with `pipe`), which packages
// such as `jws` build on. The streams2 classes exist for `instanceof` checks and `inherits`, but
// constructing one throws: claimsmith has no I/O to stream.
'use strict';

const EE = require('events');

function Stream(opts) {
  EE.call(this, opts);
}
Object.setPrototypeOf(Stream.prototype, EE.prototype);
Object.setPrototypeOf(Stream, EE);

Stream.prototype.pipe = function pipe(dest, options) {
  const source = this;
  function ondata(chunk) {
    if (dest.writable && dest.write(chunk) === false && source.pause) source.pause();
  }
  source.on('data', ondata);
  function ondrain() {
    if (source.readable && source.resume) source.resume();
  }
  dest.on('drain', ondrain);
  let didOnEnd = false;
  function onend() {
    if (didOnEnd) return;
    didOnEnd = true;
    dest.end();
  }
  function onclose() {
    if (didOnEnd) return;
    didOnEnd = true;
    if (typeof dest.destroy === 'function') dest.destroy();
  }
  if (!options || options.end !== false) {
    source.on('end', onend);
    source.on('close', onclose);
  }
  function onerror(er) {
    cleanup();
    if (this.listenerCount('error') === 0) this.emit('error', er);
  }
  source.prependListener('error', onerror);
  dest.prependListener('error', onerror);
  function cleanup() {
    source.removeListener('data', ondata);
    dest.removeListener('drain', ondrain);
    source.removeListener('end', onend);
    source.removeListener('close', onclose);
    source.removeListener('error', onerror);
    dest.removeListener('error', onerror);
    source.removeListener('end', cleanup);
    source.removeListener('close', cleanup);
    dest.removeListener('close', cleanup);
  }
  source.on('end', cleanup);
  source.on('close', cleanup);
  dest.on('close', cleanup);
  dest.emit('pipe', source);
  return dest;
};

function unavailable(name) {
  const C = function () {
    throw new Error('stream.' + name + ' is not available in claimsmith (only the legacy Stream is)');
  };
  Object.defineProperty(C, 'name', { value: name });
  Object.setPrototypeOf(C.prototype, Stream.prototype);
  Object.setPrototypeOf(C, Stream);
  return C;
}

Stream.Stream = Stream;
Stream.Readable = unavailable('Readable');
Stream.Writable = unavailable('Writable');
Stream.Duplex = unavailable('Duplex');
Stream.Transform = unavailable('Transform');
Stream.PassThrough = unavailable('PassThrough');
module.exports = Stream;
