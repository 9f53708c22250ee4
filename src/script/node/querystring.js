// Node's legacy `querystring` (parse, stringify, escape, unescape and their aliases).
'use strict';

function escape(str) {
  if (typeof str !== 'string') {
    if (typeof str === 'object') str = String(str);
    else str += '';
  }
  return encodeURIComponent(str);
}

// decodeURIComponent, or byte-wise decoding of what it refuses (a lone `%`, invalid UTF-8).
function unescape(s) {
  try {
    return decodeURIComponent(s);
  } catch (e) {
    return s.replace(/%([0-9a-fA-F]{2})/g, (m, h) => String.fromCharCode(parseInt(h, 16)));
  }
}

function stringifyPrimitive(v) {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && isFinite(v)) return '' + v;
  if (typeof v === 'bigint') return '' + v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return '';
}

function stringify(obj, sep, eq, options) {
  sep = sep || '&';
  eq = eq || '=';
  const encode = options && typeof options.encodeURIComponent === 'function' ? options.encodeURIComponent : module.exports.escape;
  if (obj === null || typeof obj !== 'object') return '';
  const out = [];
  for (const k of Object.keys(obj)) {
    const v = obj[k];
    const ks = encode(stringifyPrimitive(k)) + eq;
    if (Array.isArray(v)) {
      for (const item of v) out.push(ks + encode(stringifyPrimitive(item)));
    } else {
      out.push(ks + encode(stringifyPrimitive(v)));
    }
  }
  return out.join(sep);
}

function parse(qs, sep, eq, options) {
  const obj = Object.create(null);
  if (typeof qs !== 'string' || qs.length === 0) return obj;
  sep = sep || '&';
  eq = eq || '=';
  let maxKeys = 1000;
  if (options && typeof options.maxKeys === 'number') maxKeys = options.maxKeys;
  const decode = options && typeof options.decodeURIComponent === 'function' ? options.decodeURIComponent : module.exports.unescape;
  let parts = qs.split(sep);
  if (maxKeys > 0 && parts.length > maxKeys) parts = parts.slice(0, maxKeys);
  for (const part of parts) {
    if (part.length === 0 && parts.length > 1) continue;
    const idx = part.indexOf(eq);
    const rawK = idx >= 0 ? part.slice(0, idx) : part;
    const rawV = idx >= 0 ? part.slice(idx + eq.length) : '';
    const dec = (s) => {
      s = s.replace(/\+/g, ' ');
      try { return decode(s); } catch (e) { return unescape(s); }
    };
    const k = dec(rawK);
    const v = dec(rawV);
    if (k in obj) {
      const cur = obj[k];
      if (Array.isArray(cur)) cur.push(v); else obj[k] = [cur, v];
    } else {
      obj[k] = v;
    }
  }
  return obj;
}

module.exports = {
  unescapeBuffer: undefined,
  unescape,
  escape,
  stringify,
  encode: stringify,
  parse,
  decode: parse,
};
delete module.exports.unescapeBuffer; // needs Buffer; not provided
