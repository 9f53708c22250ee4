// Node's `assert` and `assert/strict`: the assertion functions, AssertionError with Node's
// fields. Messages for primitives are Node's; for objects a shorter text than Node's diff.
'use strict';

const { inspect } = require('claimsmith:console');
const { isDeepStrictEqual, isDeepEqual } = require('claimsmith:equal');

class AssertionError extends Error {
  constructor(options) {
    if (options === null || typeof options !== 'object') {
      const e = new TypeError('The "options" argument must be of type object. Received ' + typeof options);
      e.code = 'ERR_INVALID_ARG_TYPE';
      throw e;
    }
    const { message, actual, expected, operator } = options;
    super(message !== undefined ? String(message) : inspect(actual) + ' ' + operator + ' ' + inspect(expected));
    this.generatedMessage = message === undefined;
    this.code = 'ERR_ASSERTION';
    this.actual = actual;
    this.expected = expected;
    this.operator = operator;
  }
}
Object.defineProperty(AssertionError.prototype, 'name', { value: 'AssertionError', writable: true, configurable: true });

const HEADS = {
  strictEqual: 'Expected values to be strictly equal:',
  deepStrictEqual: 'Expected values to be strictly deep-equal:',
  deepEqual: 'Expected values to be loosely deep-equal:',
  notStrictEqual: 'Expected "actual" to be strictly unequal to:',
  notDeepStrictEqual: 'Expected "actual" not to be strictly deep-equal to:',
  notDeepEqual: 'Expected "actual" not to be loosely deep-equal to:',
};
const OPS = { equal: '==', notEqual: '!=' };

// Throws Node's AssertionError; `generated` is the text used when no message was given.
function fail(actual, expected, message, operator, fn, generated) {
  if (message instanceof Error) throw message;
  let text = message;
  if (text === undefined) text = generated !== undefined ? generated : defaultText(actual, expected, operator);
  const e = new AssertionError({ message: text, actual, expected, operator: OPS[operator] || operator });
  e.generatedMessage = message === undefined;
  if (typeof Error.captureStackTrace === 'function' && fn) Error.captureStackTrace(e, fn);
  throw e;
}

function defaultText(actual, expected, operator) {
  const head = HEADS[operator];
  if (operator === 'equal' || operator === 'notEqual') return inspect(actual) + ' ' + OPS[operator] + ' ' + inspect(expected);
  if (head && operator.startsWith('not')) {
    return expected !== null && typeof expected === 'object' ? head + '\n\n' + inspect(expected) + '\n' : head + ' ' + inspect(expected);
  }
  if (head) return head + '\n\n' + inspect(actual) + ' !== ' + inspect(expected) + '\n';
  return 'Failed';
}

function ok(value, message) {
  if (!value) {
    const generated = arguments.length === 0 ? 'No value argument passed to `assert.ok()`' : inspect(value) + ' == true';
    fail(value, true, message, '==', ok, generated);
  }
}

function matches(err, expected) {
  if (expected === undefined) return true;
  if (typeof expected === 'function') {
    if (expected.prototype !== undefined && err instanceof expected) return true;
    if (Error.isPrototypeOf(expected) || expected === Error) return false;
    return expected.call({}, err) === true;
  }
  if (expected instanceof RegExp) return expected.test(String(err));
  if (expected !== null && typeof expected === 'object') {
    for (const k of Object.keys(expected)) {
      const want = expected[k];
      const got = err !== null && err !== undefined ? err[k] : undefined;
      if (want instanceof RegExp && typeof got === 'string') { if (!want.test(got)) return false; }
      else if (!isDeepStrictEqual(got, want)) return false;
    }
    return true;
  }
  return false;
}

function throws(fn, expected, message) {
  if (typeof fn !== 'function') throw new TypeError('The "fn" argument must be of type function.');
  if (typeof expected === 'string') { message = expected; expected = undefined; }
  try {
    fn();
  } catch (err) {
    if (!matches(err, expected)) {
      if (expected !== null && typeof expected === 'object' && !(expected instanceof RegExp)) {
        fail(err, expected, message, 'throws', throws);
      }
      throw err;
    }
    return;
  }
  fail(undefined, expected, message === undefined ? 'Missing expected exception.' : 'Missing expected exception: ' + message, 'throws', throws);
}

async function rejects(promiseFn, expected, message) {
  if (typeof expected === 'string') { message = expected; expected = undefined; }
  const p = typeof promiseFn === 'function' ? promiseFn() : promiseFn;
  try {
    await p;
  } catch (err) {
    if (!matches(err, expected)) throw err;
    return;
  }
  fail(undefined, expected, message === undefined ? undefined : 'Missing expected rejection: ' + message, 'rejects', rejects, 'Missing expected rejection.');
}

function doesNotThrow(fn, expected, message) {
  try { fn(); } catch (err) {
    fail(err, expected, undefined, 'doesNotThrow', doesNotThrow, 'Got unwanted exception.\nActual message: "' + (err && err.message) + '"');
  }
}

async function doesNotReject(p) {
  try { await (typeof p === 'function' ? p() : p); } catch (err) {
    fail(err, undefined, undefined, 'doesNotReject', doesNotReject, 'Got unwanted rejection.\nActual message: "' + (err && err.message) + '"');
  }
}

function build(strict) {
  function assert(value, message) { if (!value) ok(value, message); }
  const eq = strict
    ? (a, b, m) => { if (!Object.is(a, b)) fail(a, b, m, 'strictEqual', eq); }
    : (a, b, m) => { if (!(a == b || (a !== a && b !== b))) fail(a, b, m, 'equal', eq); }; // eslint-disable-line eqeqeq
  const ne = strict
    ? (a, b, m) => { if (Object.is(a, b)) fail(a, b, m, 'notStrictEqual', ne); }
    : (a, b, m) => { if (a == b || (a !== a && b !== b)) fail(a, b, m, 'notEqual', ne); }; // eslint-disable-line eqeqeq
  const deepStrictEqual = (a, b, m) => { if (!isDeepStrictEqual(a, b)) fail(a, b, m, 'deepStrictEqual', deepStrictEqual); };
  const notDeepStrictEqual = (a, b, m) => { if (isDeepStrictEqual(a, b)) fail(a, b, m, 'notDeepStrictEqual', notDeepStrictEqual); };
  const deepEqual = strict ? deepStrictEqual : (a, b, m) => { if (!isDeepEqual(a, b)) fail(a, b, m, 'deepEqual', deepEqual); };
  const notDeepEqual = strict ? notDeepStrictEqual : (a, b, m) => { if (isDeepEqual(a, b)) fail(a, b, m, 'notDeepEqual', notDeepEqual); };
  Object.assign(assert, {
    ok,
    equal: eq,
    notEqual: ne,
    strictEqual: (a, b, m) => { if (!Object.is(a, b)) fail(a, b, m, 'strictEqual', assert.strictEqual); },
    notStrictEqual: (a, b, m) => { if (Object.is(a, b)) fail(a, b, m, 'notStrictEqual', assert.notStrictEqual); },
    deepEqual,
    notDeepEqual,
    deepStrictEqual,
    notDeepStrictEqual,
    throws,
    doesNotThrow,
    rejects,
    doesNotReject,
    fail: (message) => fail(undefined, undefined, message, 'fail', assert.fail, 'Failed'),
    ifError: (v) => {
      if (v === null || v === undefined) return;
      const text = 'ifError got unwanted exception: ' + (v instanceof Error ? v.message : inspect(v));
      const e = new AssertionError({ message: text, actual: v, expected: null, operator: 'ifError' });
      e.generatedMessage = false;
      throw e;
    },
    match: (s, re, m) => { if (!re.test(s)) fail(s, re, m, 'match', undefined, 'The input did not match the regular expression ' + String(re) + '. Input:\n\n' + inspect(s) + '\n'); },
    doesNotMatch: (s, re, m) => { if (re.test(s)) fail(s, re, m, 'doesNotMatch', undefined, 'The input was expected to not match the regular expression ' + String(re) + '. Input:\n\n' + inspect(s) + '\n'); },
    AssertionError,
  });
  return assert;
}

const assert = build(false);
assert.strict = build(true);
assert.strict.strict = assert.strict;
module.exports = assert;
