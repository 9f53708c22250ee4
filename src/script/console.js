// claimsmith's `console` formatter: Node's `util.format` and `util.inspect` (default options:
// depth 2, breakLength 80, compact 3, maxArrayLength 100), reduced to what a sandbox holds.
//
// Compiled once to bytecode as global code whose value is the factory below, and run only when
// a script first calls `console` in a context (most logins never log): reading this code into
// every strict-mode sandbox cost about a tenth of a login. The shim passes the built-ins it
// captured before any script ran, so a script that replaced a global cannot steer these.
(function (lib) {
  'use strict';
  const { O, Str, Err, TE, RE, P, getPrototypeOf, getOwnPropertyDescriptor, ownKeys, hasOwn, isArray,
    jstringify } = lib;
  let ctors = null; // built-in constructors, on first use
  const builtin = (c) => (ctors || (ctors = new Set([O, Array, Function, Err, TE, RE, SyntaxError,
    ReferenceError, EvalError, URIError, Date, RegExp, Map, Set, WeakMap, WeakSet, P, Str, Number,
    Boolean, Symbol]))).has(c);
  const objToString = (v) => O.prototype.toString.call(v);
  function quote(s) {
    let q = "'";
    if (s.indexOf("'") >= 0) q = s.indexOf('"') < 0 ? '"' : s.indexOf('`') < 0 ? '`' : "'";
    let r = '';
    for (let i = 0; i < s.length; i++) {
      const c = s[i], n = s.charCodeAt(i);
      if (c === q || c === '\\') r += '\\' + c;
      else if (c === '\n') r += '\\n';
      else if (c === '\t') r += '\\t';
      else if (c === '\r') r += '\\r';
      else if (c === '\b') r += '\\b';
      else if (c === '\f') r += '\\f';
      else if (c === '\v') r += '\\v';
      else if (n < 0x20 || n === 0x7f) r += '\\x' + (n < 16 ? '0' : '') + n.toString(16).toUpperCase();
      else r += c;
    }
    return q + r + q;
  }
  const num = (v) => (v === 0 && 1 / v < 0 ? '-0' : Str(v));
  function prim(v) {
    switch (typeof v) {
      case 'string': return quote(v.length > 10000 ? v.slice(0, 10000) : v) + (v.length > 10000 ? '... ' + (v.length - 10000) + ' more characters' : '');
      case 'number': return num(v);
      case 'bigint': return Str(v) + 'n';
      case 'symbol': return Str(v);
      default: return Str(v); // undefined, boolean, null
    }
  }
  function inspect(v, opts) {
    const ctx = { depth: opts && opts.depth !== undefined ? opts.depth : 2, hidden: !!(opts && opts.hidden),
      maxArr: opts && opts.maxArrayLength !== undefined ? opts.maxArrayLength : 100,
      brk: opts && opts.breakLength !== undefined ? opts.breakLength : 80,
      seen: [], circ: new Map(), ind: 0, cur: 0 };
    return fmt(v, 0, ctx);
  }
  function isProto(p, o) {
    if (p === null || (typeof p !== 'object' && typeof p !== 'function')) return false;
    for (let q = getPrototypeOf(o); q !== null; q = getPrototypeOf(q)) if (q === p) return true;
    return false;
  }
  function ctorName(o) {
    let p = o;
    while (p !== null) {
      const d = getOwnPropertyDescriptor(p, 'constructor');
      if (d !== undefined) {
        const c = 'value' in d ? d.value : (d.get ? d.get.call(p) : undefined);
        // As Node: only a constructor `o` is an instance of (not a prototype's own `constructor`).
        if (typeof c === 'function' && typeof c.name === 'string' && c.name !== '' && isProto(c.prototype, o)) return c.name;
      }
      p = getPrototypeOf(p);
    }
    return null;
  }
  function key(k, hidden) {
    let s;
    if (typeof k === 'symbol') s = '[' + Str(k) + ']';
    else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(k)) s = k;
    else s = quote(k);
    return hidden ? '[' + s + ']' : s;
  }
  function fmtFunction(f) {
    const name = typeof f.name === 'string' ? f.name : '';
    // Sources are not kept (toString shows no `class`): a class's `prototype` is read-only.
    const d = getOwnPropertyDescriptor(f, 'prototype');
    if (d !== undefined && 'value' in d && !d.writable && !builtin(f)) return '[class ' + (name || '(anonymous)') + ']';
    const tag = objToString(f).slice(8, -1);
    const type = tag === 'AsyncFunction' || tag === 'GeneratorFunction' || tag === 'AsyncGeneratorFunction' ? tag : 'Function';
    return '[' + type + (name ? ': ' + name : ' (anonymous)') + ']';
  }
  function fmtError(e) {
    let name, message, stack;
    try { name = Str(e.name); } catch (x) { name = 'Error'; }
    try { message = Str(e.message); } catch (x) { message = ''; }
    try { stack = e.stack; } catch (x) { stack = undefined; }
    const head = message ? name + ': ' + message : name;
    if (typeof stack !== 'string' || stack === '') return '[' + head + ']';
    stack = stack.replace(/\n+$/, '');
    if (stack.indexOf(head) >= 0) return stack;
    // QuickJS's stack holds only the frames; one with a header (set by hand) keeps its frames.
    const nl = stack.indexOf('\n');
    if (!/^\s/.test(stack)) stack = nl < 0 ? '' : stack.slice(nl + 1);
    return stack === '' ? '[' + head + ']' : head + '\n' + stack;
  }
  // Typed arrays and ArrayBuffers (issue 11), recognised by brand, never by a global a script
  // could have replaced.
  let typedTag, abLength;
  const brands = () => {
    if (typedTag !== undefined) return;
    try {
      typedTag = getOwnPropertyDescriptor(getPrototypeOf(Uint8Array).prototype, Symbol.toStringTag).get;
      abLength = getOwnPropertyDescriptor(ArrayBuffer.prototype, 'byteLength').get;
    } catch (e) { typedTag = null; }
  };
  const typedName = (v) => { brands(); return typedTag === null ? undefined : typedTag.call(v); };
  const bufferLength = (v) => { brands(); try { return typedTag === null ? -1 : abLength.call(v); } catch (e) { return -1; } };
  // Node's hex dump: `00 ff …`, at most `max` bytes then `... N more bytes`.
  function hexBytes(u8, max) {
    const n = u8.length, shown = n > max ? max : n, parts = [];
    for (let i = 0; i < shown; i++) parts.push((u8[i] < 16 ? '0' : '') + u8[i].toString(16));
    return parts.join(' ') + (n > shown ? ' ... ' + (n - shown) + ' more byte' + (n - shown > 1 ? 's' : '') : '');
  }
  // Node's `util.inspect.custom` protocol (the Node globals' URL and URLSearchParams use it): a
  // method called with (depth, options, inspect); a string it returns is printed as is.
  const CUSTOM = Symbol.for('nodejs.util.inspect.custom');
  // What a custom method gets as `inspect`: frozen, as it outlives the login in a warm context.
  const inspectArg = O.freeze((x, opts) => inspect(x, opts));
  function fmt(v, level, ctx) {
    if (v === null || (typeof v !== 'object' && typeof v !== 'function')) return prim(v);
    if (ctx.seen.indexOf(v) >= 0) {
      let id = ctx.circ.get(v);
      if (id === undefined) { id = ctx.circ.size + 1; ctx.circ.set(v, id); }
      return '[Circular *' + id + ']';
    }
    const custom = v[CUSTOM];
    if (typeof custom === 'function') {
      const d = ctx.depth - level;
      const r = custom.call(v, d, { depth: d, breakLength: ctx.brk, maxArrayLength: ctx.maxArr }, inspectArg);
      if (r !== v) return typeof r === 'string' ? r.split('\n').join('\n' + ' '.repeat(ctx.ind)) : fmt(r, level, ctx);
    }
    let base = '', braces = ['{', '}'], entries = [], isArr = false, noBody = false;
    const tag = objToString(v).slice(8, -1);
    const cn = ctorName(v);
    const prefix = (fallback, size) => {
      const n = cn === null ? '[' + fallback + ': null prototype]' : cn;
      return size === undefined ? n : n + '(' + size + ')';
    };
    let skip = null; // keys already shown
    let typed, abLen = -1, pre = null;
    if (typeof v === 'function') {
      base = fmtFunction(v);
      noBody = true;
      skip = ['length', 'name', 'prototype', 'caller', 'arguments'];
    } else if (isArray(v)) {
      isArr = true;
      braces = ['[', ']'];
      if (cn !== 'Array') braces[0] = prefix('Array', v.length) + ' [';
    } else if ((typed = typedName(v)) !== undefined) {
      if (cn === 'Buffer' && typed === 'Uint8Array') return '<Buffer ' + hexBytes(v, 50) + '>';
      isArr = true;
      braces = [prefix(typed, v.length) + ' [', ']'];
    } else if ((abLen = bufferLength(v)) >= 0) {
      braces[0] = prefix('ArrayBuffer') + ' {';
      pre = ['[Uint8Contents]: <' + hexBytes(new Uint8Array(v), ctx.maxArr) + '>', 'byteLength: ' + abLen];
    } else if (v instanceof Err || tag === 'Error') {
      base = fmtError(v);
      noBody = true;
      skip = ['stack', 'message', 'name'];
    } else if (v instanceof Date) {
      const t = Date.prototype.getTime.call(v);
      base = t === t ? Date.prototype.toISOString.call(v) : 'Invalid Date';
      noBody = true;
    } else if (v instanceof RegExp) {
      base = RegExp.prototype.toString.call(v);
      noBody = true;
    } else if (v instanceof Map) {
      braces[0] = prefix('Map', v.size) + ' {';
    } else if (v instanceof Set) {
      braces[0] = prefix('Set', v.size) + ' {';
    } else if (v instanceof Number || v instanceof Str || v instanceof Boolean) {
      const t = v instanceof Number ? 'Number' : v instanceof Str ? 'String' : 'Boolean';
      base = '[' + t + ': ' + prim(v.valueOf()) + ']';
      noBody = true;
      if (t === 'String') skip = 'length';
    } else if (cn !== 'Object') {
      braces[0] = (cn === null ? '[Object: null prototype]' : cn) + ' {';
    }
    // Own properties (enumerable; non-enumerable too with %o).
    const own = [];
    for (const k of ownKeys(v)) {
      if (isArr && typeof k === 'string' && (k === 'length' || (Str(k >>> 0) === k && (k >>> 0) !== 4294967295))) {
        if (k !== 'length' || !ctx.hidden) continue;
      }
      if (skip !== null && typeof k === 'string' && skip.indexOf(k) >= 0 && !(ctx.hidden && !(v instanceof Err))) continue;
      if (typeof v !== 'function' && v instanceof Str && Str(k >>> 0) === k) continue;
      const d = getOwnPropertyDescriptor(v, k);
      if (d === undefined || (!d.enumerable && !ctx.hidden)) continue;
      own.push([k, d]);
    }
    if (noBody && own.length === 0) return base;
    if (level > ctx.depth) {
      if (isArr) return '[' + (typed === undefined ? 'Array' : typed) + ']';
      return '[' + (cn === null ? 'Object: null prototype' : cn) + ']';
    }
    ctx.seen.push(v);
    ctx.cur = level;
    ctx.ind += 2;
    try {
      if (pre !== null) entries = pre;
      if (isArr) {
        const n = v.length, shown = n > ctx.maxArr ? ctx.maxArr : n;
        let holes = 0;
        const flush = () => { if (holes) { entries.push('<' + holes + ' empty item' + (holes > 1 ? 's' : '') + '>'); holes = 0; } };
        for (let i = 0; i < shown; i++) {
          if (!hasOwn(v, i)) { holes++; continue; }
          flush();
          entries.push(fmt(v[i], level + 1, ctx));
        }
        flush();
        if (n > shown) entries.push('... ' + (n - shown) + ' more item' + (n - shown > 1 ? 's' : ''));
      } else if (v instanceof Map) {
        let i = 0;
        for (const [k, x] of Map.prototype.entries.call(v)) {
          if (i++ >= 100) { entries.push('... ' + (v.size - 100) + ' more items'); break; }
          entries.push(fmt(k, level + 1, ctx) + ' => ' + fmt(x, level + 1, ctx));
        }
      } else if (v instanceof Set) {
        let i = 0;
        for (const x of Set.prototype.values.call(v)) {
          if (i++ >= 100) { entries.push('... ' + (v.size - 100) + ' more items'); break; }
          entries.push(fmt(x, level + 1, ctx));
        }
      }
      for (const [k, d] of own) {
        let s;
        if ('value' in d) s = fmt(d.value, level + 1, ctx);
        else if (d.get) {
          try { s = fmt(d.get.call(v), level + 1, ctx); } catch (e) { s = d.set ? '[Getter/Setter]' : '[Getter]'; }
        } else s = '[Setter]';
        entries.push(key(k, !d.enumerable) + ': ' + s);
      }
    } finally {
      ctx.ind -= 2;
      ctx.seen.pop();
    }
    let out;
    if (noBody) braces[0] = base + ' {';
    if (entries.length === 0) out = braces[0] + braces[1];
    else out = reduce(ctx, entries, braces, level, isArr, v);
    const id = ctx.circ.get(v);
    if (id !== undefined) out = '<ref *' + id + '> ' + out;
    return out;
  }
  // Node's reduceToSingleString and groupArrayElements (compact 3, breakLength 80).
  function reduce(ctx, output, braces, level, isArr, v) {
    const entries = output.length;
    if (isArr && entries > 6) output = group(ctx, output, v);
    if (ctx.cur - level < 3 && entries === output.length) {
      const start = output.length + ctx.ind + braces[0].length + 10;
      let total = output.length + start, fits = total + output.length <= ctx.brk;
      for (let i = 0; fits && i < output.length; i++) { total += output[i].length; if (total > ctx.brk) fits = false; }
      if (fits && braces[0].indexOf('\n') < 0) {
        const joined = output.join(', ');
        if (joined.indexOf('\n') < 0) return braces[0] + ' ' + joined + ' ' + braces[1];
      }
    }
    const nl = '\n' + ' '.repeat(ctx.ind);
    return braces[0] + nl + '  ' + output.join(',' + nl + '  ') + nl + braces[1];
  }
  function group(ctx, output, v) {
    let total = 0, maxLen = 0, len = output.length;
    if (v.length > 100 && len > 0) len--; // not the "... more items" entry
    const dataLen = [];
    for (let i = 0; i < len; i++) {
      const l = output[i].length;
      dataLen.push(l);
      total += l + 2;
      if (maxLen < l) maxLen = l;
    }
    const actualMax = maxLen + 2;
    if (actualMax * 3 + ctx.ind < ctx.brk && (total / actualMax > 5 || maxLen <= 6)) {
      const bias = Math.sqrt(actualMax - total / output.length);
      const biasedMax = Math.max(actualMax - 3 - bias, 1);
      const columns = Math.min(Math.round(Math.sqrt(2.5 * biasedMax * len) / biasedMax),
        Math.floor((ctx.brk - ctx.ind) / actualMax), 12, 15);
      if (columns <= 1) return output;
      const tmp = [], maxLine = [];
      for (let i = 0; i < columns; i++) {
        let l = 0;
        for (let j = i; j < output.length; j += columns) if (dataLen[j] > l) l = dataLen[j];
        maxLine.push(l + 2);
      }
      let padStart = true;
      for (let i = 0; i < output.length; i++) {
        if (typeof v[i] !== 'number' && typeof v[i] !== 'bigint') { padStart = false; break; }
      }
      for (let i = 0; i < len; i += columns) {
        const max = Math.min(i + columns, len);
        let str = '', j = i;
        for (; j < max - 1; j++) {
          const cell = output[j] + ', ';
          str += padStart ? cell.padStart(maxLine[j - i], ' ') : cell.padEnd(maxLine[j - i], ' ');
        }
        str += padStart ? output[j].padStart(maxLine[j - i] - 2, ' ') : output[j];
        tmp.push(str);
      }
      if (len < output.length) tmp.push(output[len]);
      return tmp;
    }
    return output;
  }
  // Node's hasBuiltInToString: `%s` inspects an object unless it has its own toString.
  function builtinToString(o) {
    if (getOwnPropertyDescriptor(o, 'toString') !== undefined) return false;
    let p = o;
    while (p !== null && getOwnPropertyDescriptor(p, 'constructor') === undefined) p = getPrototypeOf(p);
    if (p === null) return true;
    let c;
    try { c = p.constructor; } catch (e) { return true; }
    return builtin(c);
  }
  function format(args) {
    const first = args[0];
    let a = 0, str = '', join = '';
    if (typeof first === 'string') {
      if (args.length === 1) return first;
      let last = 0;
      for (let i = 0; i < first.length - 1; i++) {
        if (first.charCodeAt(i) !== 37) continue; // '%'
        const c = first[++i];
        if (a + 1 !== args.length) {
          let t;
          switch (c) {
            case 's': {
              const x = args[++a];
              if (typeof x === 'number') t = num(x);
              else if (typeof x === 'bigint') t = Str(x) + 'n';
              else if (x === null || typeof x !== 'object' || !builtinToString(x)) t = Str(x);
              else t = inspect(x, { depth: 0 });
              break;
            }
            case 'j': {
              const x = args[++a];
              try { t = Str(jstringify(x)); } catch (e) {
                if (e instanceof TE && /circular|cyclic/i.test(Str(e.message))) t = '[Circular]'; else throw e;
              }
              break;
            }
            case 'd': {
              const x = args[++a];
              t = typeof x === 'bigint' ? Str(x) + 'n' : typeof x === 'symbol' ? 'NaN' : num(Number(x));
              break;
            }
            case 'O': t = inspect(args[++a]); break;
            case 'o': t = inspect(args[++a], { hidden: true, depth: 4 }); break;
            case 'i': {
              const x = args[++a];
              t = typeof x === 'bigint' ? Str(x) + 'n' : typeof x === 'symbol' ? 'NaN' : num(parseInt(x));
              break;
            }
            case 'f': {
              const x = args[++a];
              t = typeof x === 'symbol' ? 'NaN' : num(parseFloat(x));
              break;
            }
            case 'c': a++; t = ''; break;
            case '%': str += first.slice(last, i); last = i + 1; continue;
            default: continue;
          }
          if (last !== i - 1) str += first.slice(last, i - 1);
          str += t;
          last = i + 1;
        } else if (c === '%') {
          str += first.slice(last, i);
          last = i + 1;
        }
      }
      if (last !== 0) { a++; join = ' '; if (last < first.length) str += first.slice(last); }
    }
    while (a < args.length) {
      const x = args[a];
      str += join + (typeof x === 'string' ? x : inspect(x));
      join = ' ';
      a++;
    }
    return str;
  }
  // Node's console.table (lib/internal/console/constructor.js and cli_table.js of Node 20: left
  // aligned). Returns null when Node would print the first argument as console.log does.
  // Differences: a cell's width is its length (Node counts East Asian wide characters twice),
  // and Map/Set iterators are tabulated as plain objects.
  function table(data, props) {
    if (data === null || typeof data !== 'object') return null;
    if (props !== undefined && !isArray(props)) {
      throw new TE('The "properties" argument must be an instance of Array');
    }
    const cell = (v) => inspect(v, { depth: v !== null && typeof v === 'object' && !isArray(v) &&
      O.keys(v).length > 2 ? -1 : 0, maxArrayLength: 3, breakLength: Infinity });
    const indexes = (n) => { const a = []; for (let i = 0; i < n; i++) a.push(cell(i)); return a; };
    if (data instanceof Map) {
      const ks = [], vs = [];
      for (const [k, v] of Map.prototype.entries.call(data)) { ks.push(cell(k)); vs.push(cell(v)); }
      return render(['(iteration index)', 'Key', 'Values'], [indexes(ks.length), ks, vs]);
    }
    if (data instanceof Set) {
      const vs = [];
      for (const v of Set.prototype.values.call(data)) vs.push(cell(v));
      return render(['(iteration index)', 'Values'], [indexes(vs.length), vs]);
    }
    const columns = new Map(), rows = O.keys(data), values = [];
    let primitives = false;
    for (let i = 0; i < rows.length; i++) {
      const item = data[rows[i]];
      const primitive = item === null || (typeof item !== 'function' && typeof item !== 'object');
      if (props === undefined && primitive) { primitives = true; values[i] = cell(item); continue; }
      for (const k of props || O.keys(item)) {
        if (!columns.has(k)) columns.set(k, []);
        columns.get(k)[i] = primitive || !hasOwn(item, k) ? '' : cell(item[k]);
      }
    }
    const head = ['(index)'], cols = [rows];
    for (const [k, c] of columns) { head.push(Str(k)); cols.push(c); }
    if (primitives) { head.push('Values'); cols.push(values); }
    return render(head, cols);
  }
  function render(head, cols) {
    const widths = head.map((h) => h.length);
    let n = 0;
    for (const c of cols) if (c.length > n) n = c.length;
    const rows = [];
    for (let j = 0; j < n; j++) {
      const row = [];
      for (let i = 0; i < cols.length; i++) {
        const v = hasOwn(cols[i], j) ? cols[i][j] : '';
        row.push(v);
        if (v.length > widths[i]) widths[i] = v.length;
      }
      rows.push(row);
    }
    const line = (l, m, r) => l + widths.map((w) => '─'.repeat(w + 2)).join(m) + r;
    const show = (row) => '│ ' + row.map((c, i) => c + ' '.repeat(widths[i] - c.length)).join(' │ ') + ' │';
    const out = [line('┌', '┬', '┐'), show(head), line('├', '┼', '┤')];
    for (const row of rows) out.push(show(row));
    out.push(line('└', '┴', '┘'));
    return out.join('\n');
  }
  return { format, inspect, table };
})
