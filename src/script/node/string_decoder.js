// Node's `string_decoder`: decodes Buffers chunk by chunk without splitting a character.
'use strict';

const ENCODINGS = { 'utf8': 'utf8', 'utf-8': 'utf8', 'hex': 'hex', 'base64': 'base64', 'base64url': 'base64url', 'latin1': 'latin1', 'binary': 'latin1', 'ascii': 'ascii', 'utf16le': 'utf16le', 'utf-16le': 'utf16le', 'ucs2': 'utf16le', 'ucs-2': 'utf16le' };

function normalize(enc) {
  const e = ENCODINGS[String(enc === undefined ? 'utf8' : enc).toLowerCase()];
  if (e === undefined) {
    const err = new TypeError('Unknown encoding: ' + enc);
    err.code = 'ERR_UNKNOWN_ENCODING';
    throw err;
  }
  return e;
}

// How many bytes of a UTF-8 sequence at the end of `buf` are still missing.
function utf8Missing(buf) {
  for (let back = 1; back <= Math.min(3, buf.length); back++) {
    const b = buf[buf.length - back];
    if ((b & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? back : 0;
  }
  return 0;
}

class StringDecoder {
  constructor(encoding) {
    this.encoding = normalize(encoding);
    this.pending = Buffer.alloc(0);
  }
  write(buf) {
    if (typeof buf === 'string') return buf;
    let all = this.pending.length ? Buffer.concat([this.pending, Buffer.from(buf)]) : Buffer.from(buf);
    let keep = 0;
    if (this.encoding === 'utf8') keep = utf8Missing(all);
    else if (this.encoding === 'utf16le') keep = all.length % 2;
    else if (this.encoding === 'base64' || this.encoding === 'base64url') keep = all.length % 3;
    this.pending = all.subarray(all.length - keep);
    all = all.subarray(0, all.length - keep);
    return all.toString(this.encoding);
  }
  end(buf) {
    const out = buf === undefined ? '' : this.write(buf);
    const rest = this.pending;
    this.pending = Buffer.alloc(0);
    return out + (rest.length ? rest.toString(this.encoding) : '');
  }
}

module.exports = { StringDecoder };
