  // claimsmith's Node globals, part 4 of 5 (appended to node_globals.js, inside its factory):
  // the timers. Nothing runs them but the sandbox's driver loop (sandbox.rs): when a login waits
  // and no job is left, it calls `run`, which fires the earliest due timer (then the driver drains
  // the microtasks, as Node does between timers) or says how long to wait. The wait is bounded by
  // the login's deadline, and whatever is still pending when the login ends is dropped (`clear`).
  function makeTimers(named) {
    let seq = 0;
    const queue = new Map(); // id -> { id, due, delay, fn, args, repeat, order, handle }
    let idOf;
    class Timeout {
      #id;
      static { idOf = (t) => (t instanceof Timeout ? t.#id : undefined); }
      constructor(id) { this.#id = id; }
      ref() { return this; }
      unref() { return this; }
      hasRef() { return true; }
      refresh() { const t = queue.get(this.#id); if (t !== undefined) t.due = Date.now() + t.delay; return this; }
      close() { queue.delete(this.#id); return this; }
      [Symbol.toPrimitive]() { return this.#id; }
    }
    class Immediate extends Timeout {}
    function schedule(fn, ms, args, repeat, immediate) {
      if (typeof fn !== 'function') throw named('TypeError', 'The "callback" argument must be of type function. Received ' + (fn === null ? 'null' : 'type ' + typeof fn), TE, 'ERR_INVALID_ARG_TYPE');
      let delay = immediate ? 0 : +ms;
      // Node: a delay that is not a number in [1, 2^31 - 1] is 1 ms.
      if (!immediate && !(delay >= 1 && delay <= 2147483647)) delay = 1;
      const id = ++seq;
      const handle = immediate ? new Immediate(id) : new Timeout(id);
      // Immediates go before the timeouts due at the same moment.
      queue.set(id, { id, due: Date.now() + delay - (immediate ? 1 : 0), delay, fn, args, repeat, order: id, handle });
      return handle;
    }
    const clear = (t) => {
      const id = idOf(t);
      queue.delete(id !== undefined ? id : typeof t === 'string' ? +t : t);
    };
    const run = () => {
      if (queue.size === 0) return -1;
      const now = Date.now();
      let best = null;
      for (const t of queue.values()) if (best === null || t.due < best.due || (t.due === best.due && t.order < best.order)) best = t;
      if (best.due > now) return best.due - now;
      if (best.repeat) { best.due = now + best.delay; best.order = ++seq; } else queue.delete(best.id);
      Reflect.apply(best.fn, best.handle, best.args);
      return 0;
    };
    return {
      globals: {
        setTimeout: (fn, ms, ...args) => schedule(fn, ms, args, false, false),
        setInterval: (fn, ms, ...args) => schedule(fn, ms, args, true, false),
        setImmediate: (fn, ...args) => schedule(fn, 0, args, false, true),
        clearTimeout: clear, clearInterval: clear, clearImmediate: clear,
      },
      // `types`: not globals in Node either, but listed here so that warm isolation freezes them.
      runner: { run, clear: () => queue.clear(), types: [Timeout, Immediate] },
    };
  }
