// Node's `util`: format and inspect (the console's formatter), promisify, callbackify, inherits,
// deprecate, types, isDeepStrictEqual and the legacy is* checks.
'use strict';

const { format, inspect } = require('claimsmith:console');
const { isDeepStrictEqual } = require('claimsmith:equal');

const customPromisify = Symbol.for('nodejs.util.promisify.custom');
const invalid = (name, type, v) => {
  const e = new TypeError('The "' + name + '" argument must be of type ' + type + '. Received ' + (v === null ? 'null' : typeof v));
  e.code = 'ERR_INVALID_ARG_TYPE';
  return e;
};

function promisify(original) {
  if (typeof original !== 'function') throw invalid('original', 'function', original);
  if (original[customPromisify]) {
    const fn = original[customPromisify];
    if (typeof fn !== 'function') throw invalid('util.promisify.custom', 'function', fn);
    return fn;
  }
  function fn(...args) {
    return new Promise((resolve, reject) => {
      Reflect.apply(original, this, [...args, (err, ...values) => {
        if (err) return reject(err);
        resolve(values[0]);
      }]);
    });
  }
  Object.setPrototypeOf(fn, Object.getPrototypeOf(original));
  Object.defineProperty(fn, customPromisify, { value: fn, enumerable: false, writable: false, configurable: true });
  return Object.defineProperties(fn, Object.getOwnPropertyDescriptors(original));
}
promisify.custom = customPromisify;

function callbackify(original) {
  if (typeof original !== 'function') throw invalid('original', 'function', original);
  return function (...args) {
    const cb = args.pop();
    if (typeof cb !== 'function') throw invalid('last argument', 'function', cb);
    Reflect.apply(original, this, args).then(
      (v) => cb(null, v),
      (e) => {
        if (!e) {
          const w = new Error('Promise was rejected with a falsy value');
          w.code = 'ERR_FALSY_VALUE_REJECTION';
          w.reason = e;
          e = w;
        }
        cb(e);
      },
    );
  };
}

function inherits(ctor, superCtor) {
  if (typeof ctor !== 'function') throw invalid('ctor', 'function', ctor);
  if (typeof superCtor !== 'function') throw invalid('superCtor', 'function', superCtor);
  if (superCtor.prototype === undefined) throw invalid('superCtor.prototype', 'object', undefined);
  Object.defineProperty(ctor, 'super_', { value: superCtor, writable: true, configurable: true });
  Object.setPrototypeOf(ctor.prototype, superCtor.prototype);
}

const warned = new Set();
function deprecate(fn, msg, code) {
  if (typeof fn !== 'function') throw invalid('fn', 'function', fn);
  return function deprecated(...args) {
    const key = code || msg;
    if (!warned.has(key)) {
      warned.add(key);
      console.warn('[' + (code || 'DEP') + '] DeprecationWarning: ' + msg);
    }
    return new.target ? Reflect.construct(fn, args, new.target) : Reflect.apply(fn, this, args);
  };
}

const tag = (v) => Object.prototype.toString.call(v).slice(8, -1);
const TypedArray = typeof Uint8Array === 'function' ? Object.getPrototypeOf(Uint8Array) : undefined;
const typed = (name) => (v) => typeof globalThis[name] === 'function' && v instanceof globalThis[name];
const types = {
  isDate: (v) => v instanceof Date,
  isRegExp: (v) => v instanceof RegExp,
  isMap: (v) => v instanceof Map,
  isSet: (v) => v instanceof Set,
  isWeakMap: (v) => v instanceof WeakMap,
  isWeakSet: (v) => v instanceof WeakSet,
  isPromise: (v) => v instanceof Promise,
  isNativeError: (v) => v instanceof Error,
  isAsyncFunction: (v) => typeof v === 'function' && tag(v) === 'AsyncFunction',
  isGeneratorFunction: (v) => typeof v === 'function' && /GeneratorFunction$/.test(tag(v)),
  isGeneratorObject: (v) => tag(v) === 'Generator',
  isBoxedPrimitive: (v) => v !== null && typeof v === 'object' &&
    ['Number', 'String', 'Boolean', 'BigInt', 'Symbol'].includes(tag(v)) && !Array.isArray(v),
  isNumberObject: (v) => v instanceof Number,
  isStringObject: (v) => v instanceof String,
  isBooleanObject: (v) => v instanceof Boolean,
  isSymbolObject: (v) => v !== null && typeof v === 'object' && tag(v) === 'Symbol',
  isTypedArray: (v) => TypedArray !== undefined && v instanceof TypedArray,
  // jose-style code asks these; `crypto` is only loaded when a script asks with an object.
  isKeyObject: (v) => v !== null && typeof v === 'object' && v instanceof require('crypto').KeyObject,
  isCryptoKey: (v) => typeof globalThis.CryptoKey === 'function' && v instanceof globalThis.CryptoKey,
  isArrayBuffer: typed('ArrayBuffer'),
  isAnyArrayBuffer: typed('ArrayBuffer'),
  isDataView: typed('DataView'),
  isUint8Array: typed('Uint8Array'),
  isProxy: () => false, // not observable from JS
};

const isPrimitive = (v) => v === null || (typeof v !== 'object' && typeof v !== 'function');

module.exports = {
  format,
  formatWithOptions: (opts, ...args) => format(...args),
  inspect,
  promisify,
  callbackify,
  inherits,
  deprecate,
  types,
  isDeepStrictEqual,
  isArray: Array.isArray,
  isBoolean: (v) => typeof v === 'boolean',
  isNull: (v) => v === null,
  isNullOrUndefined: (v) => v === null || v === undefined,
  isNumber: (v) => typeof v === 'number',
  isString: (v) => typeof v === 'string',
  isSymbol: (v) => typeof v === 'symbol',
  isUndefined: (v) => v === undefined,
  isRegExp: types.isRegExp,
  isObject: (v) => v !== null && typeof v === 'object',
  isDate: types.isDate,
  isError: types.isNativeError,
  isFunction: (v) => typeof v === 'function',
  isPrimitive,
  TextEncoder: globalThis.TextEncoder,
  TextDecoder: globalThis.TextDecoder,
};
