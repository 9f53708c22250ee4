// claimsmith's `console` object: Node's `console` over the formatter (console.js), each line to
// the shim's `emit`. Moved out of the shim, whose code every strict context reads and frees:
// compiled once to bytecode as global code whose value is the factory below, run in a strict
// context on its first read of `console`, in a warm one at install (hardening freezes it).
// `io` holds what stays in the shim, captured before any script ran: `emit(level, line)`
// (indentation, then host.log), `cs()` (this script's counters, timers and indentation, reset by
// the shim per script), `describe(e)`, `freeze`, `Err`, `TE`, `Str`, and `format`, `inspect` and
// `table`, which load the formatter on their first call.
(function makeConsole(io) {
  'use strict';
  const { emit, cs, describe, freeze, Err, TE, Str, format, inspect, table } = io;
  function logger(level) {
    return function (...args) {
      let line;
      try { line = format(args); } catch (e) {
        if (e === null || e === undefined) throw e;
        line = '[unprintable: ' + describe(e).message + ']';
      }
      emit(level, line);
    };
  }
  const label = (l) => (l === undefined ? 'default' : Str(l));
  const elapsed = (t0) => {
    const ms = Date.now() - t0;
    return ms >= 1000 ? (ms / 1000).toFixed(3) + 's' : ms.toFixed(3) + 'ms';
  };
  const log = logger(2), warn = logger(3);
  const console = freeze({
    log, info: log, warn, error: logger(4), debug: logger(1),
    trace(...args) {
      const e = new Err();
      let stack = typeof e.stack === 'string' ? e.stack.replace(/^.*\n/, '') : '';
      stack = stack.split('\n').filter((l) => l !== '').slice(1).join('\n'); // without trace itself
      let line;
      try { line = format(args); } catch (x) { line = '[unprintable]'; }
      emit(0, 'Trace' + (args.length ? ': ' + line : '') + (stack ? '\n' + stack : ''));
    },
    dir(v, opts) {
      const d = opts !== null && typeof opts === 'object' && typeof opts.depth === 'number' ? opts.depth : 2;
      let line;
      try { line = inspect(v, { depth: d }); } catch (x) { line = '[unprintable]'; }
      emit(2, line);
    },
    table(data, props) {
      let t;
      try { t = table(data, props); } catch (e) {
        if (e instanceof TE) throw e; // a `properties` that is not an array, as Node
        t = '[unprintable]';
      }
      if (t === null) log(data); else emit(2, t);
    },
    assert(ok, ...args) {
      if (ok) return;
      if (args.length && typeof args[0] === 'string') args[0] = 'Assertion failed: ' + args[0];
      else args.unshift('Assertion failed');
      warn(...args);
    },
    count(l) {
      const k = label(l), m = cs().counts, n = (m.get(k) || 0) + 1;
      m.set(k, n);
      emit(2, k + ': ' + n);
    },
    countReset(l) {
      const k = label(l), m = cs().counts;
      if (m.has(k)) m.set(k, 0); else emit(3, "Count for '" + k + "' does not exist");
    },
    time(l) {
      const k = label(l), m = cs().timers;
      if (m.has(k)) { emit(3, "Label '" + k + "' already exists for console.time()"); return; }
      m.set(k, Date.now());
    },
    timeLog(l, ...args) {
      const k = label(l), m = cs().timers;
      if (!m.has(k)) { emit(3, "No such label '" + k + "' for console.timeLog()"); return; }
      let extra = '';
      if (args.length) { try { extra = ' ' + format(args); } catch (x) { extra = ' [unprintable]'; } }
      emit(2, k + ': ' + elapsed(m.get(k)) + extra);
    },
    timeEnd(l) {
      const k = label(l), m = cs().timers;
      if (!m.has(k)) { emit(3, "No such label '" + k + "' for console.timeEnd()"); return; }
      emit(2, k + ': ' + elapsed(m.get(k)));
      m.delete(k);
    },
    group(...args) {
      if (args.length) log(...args);
      const s = cs();
      s.indent += '  ';
    },
    groupCollapsed(...args) { console.group(...args); },
    groupEnd() {
      const s = cs();
      s.indent = s.indent.slice(2);
    },
  });
  return console;
})
