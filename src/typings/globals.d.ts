// ---- Globals every script sees (README "Globals"; ECMAScript itself comes from `lib`). ----

/** The global object itself, as in Node. */
declare var global: typeof globalThis & Record<string, any>;
declare function queueMicrotask(callback: () => void): void;

interface Console {
  log(...data: unknown[]): void;
  info(...data: unknown[]): void;
  warn(...data: unknown[]): void;
  error(...data: unknown[]): void;
  debug(...data: unknown[]): void;
  trace(...data: unknown[]): void;
  dir(item: unknown, options?: { depth?: number | null }): void;
  table(data: unknown, properties?: string[]): void;
  assert(condition?: unknown, ...data: unknown[]): void;
  count(label?: string): void;
  countReset(label?: string): void;
  time(label?: string): void;
  timeLog(label?: string, ...data: unknown[]): void;
  timeEnd(label?: string): void;
  group(...label: unknown[]): void;
  groupCollapsed(...label: unknown[]): void;
  groupEnd(): void;
}
/** To the server log, at most `console_cap_bytes` per script per login. */
declare var console: Console;

/** Node's CommonJS `require`: local modules, npm packages, the built-in modules. */
declare function require(id: string): any;
declare namespace require {
  function resolve(id: string): string;
}
/** Actions and modules: absolute paths in modules, `undefined` in an Action file. */
declare var __filename: string | undefined;
declare var __dirname: string | undefined;

type BufferEncoding =
  | 'utf8' | 'utf-8' | 'hex' | 'base64' | 'base64url' | 'latin1' | 'binary' | 'ascii' | 'ucs2'
  | 'ucs-2' | 'utf16le' | 'utf-16le';
interface Buffer extends Uint8Array {
  toString(encoding?: BufferEncoding, start?: number, end?: number): string;
  equals(other: Uint8Array): boolean;
  compare(target: Uint8Array, targetStart?: number, targetEnd?: number, sourceStart?: number, sourceEnd?: number): number;
  write(string: string, offset?: number, length?: number, encoding?: BufferEncoding): number;
  copy(target: Uint8Array, targetStart?: number, sourceStart?: number, sourceEnd?: number): number;
  fill(value: string | number | Uint8Array, offset?: number, end?: number, encoding?: BufferEncoding): this;
  indexOf(value: string | number | Uint8Array, byteOffset?: number, encoding?: BufferEncoding): number;
  includes(value: string | number | Uint8Array, byteOffset?: number, encoding?: BufferEncoding): boolean;
  toJSON(): { type: 'Buffer'; data: number[] };
  readUInt8(offset?: number): number;
  readUint8(offset?: number): number;
  readInt8(offset?: number): number;
  readUInt16BE(offset?: number): number;
  readUint16BE(offset?: number): number;
  readUInt16LE(offset?: number): number;
  readUint16LE(offset?: number): number;
  readInt16BE(offset?: number): number;
  readInt16LE(offset?: number): number;
  readUInt32BE(offset?: number): number;
  readUint32BE(offset?: number): number;
  readUInt32LE(offset?: number): number;
  readUint32LE(offset?: number): number;
  readInt32BE(offset?: number): number;
  readInt32LE(offset?: number): number;
  writeUInt8(value: number, offset?: number): number;
  writeUint8(value: number, offset?: number): number;
  writeInt8(value: number, offset?: number): number;
  writeUInt16BE(value: number, offset?: number): number;
  writeUint16BE(value: number, offset?: number): number;
  writeUInt16LE(value: number, offset?: number): number;
  writeUint16LE(value: number, offset?: number): number;
  writeInt16BE(value: number, offset?: number): number;
  writeInt16LE(value: number, offset?: number): number;
  writeUInt32BE(value: number, offset?: number): number;
  writeUint32BE(value: number, offset?: number): number;
  writeUInt32LE(value: number, offset?: number): number;
  writeUint32LE(value: number, offset?: number): number;
  writeInt32BE(value: number, offset?: number): number;
  writeInt32LE(value: number, offset?: number): number;
}
interface BufferConstructor {
  new (value: string | ArrayLike<number> | ArrayBufferLike | number, encodingOrOffset?: BufferEncoding | number, length?: number): Buffer;
  (value: string | ArrayLike<number> | ArrayBufferLike | number, encodingOrOffset?: BufferEncoding | number, length?: number): Buffer;
  from(value: string, encoding?: BufferEncoding): Buffer;
  from(value: ArrayLike<number> | Uint8Array | { type: 'Buffer'; data: number[] }): Buffer;
  from(value: ArrayBufferLike, byteOffset?: number, length?: number): Buffer;
  alloc(size: number, fill?: string | number | Uint8Array, encoding?: BufferEncoding): Buffer;
  allocUnsafe(size: number): Buffer;
  allocUnsafeSlow(size: number): Buffer;
  concat(list: readonly Uint8Array[], totalLength?: number): Buffer;
  byteLength(value: string | ArrayBufferView | ArrayBufferLike, encoding?: BufferEncoding): number;
  isBuffer(value: unknown): value is Buffer;
  isEncoding(encoding: string): encoding is BufferEncoding;
  compare(a: Uint8Array, b: Uint8Array): number;
  poolSize: number;
}
declare var Buffer: BufferConstructor;

declare class TextEncoder {
  readonly encoding: 'utf-8';
  encode(input?: string): Uint8Array;
  encodeInto(source: string, destination: Uint8Array): { read: number; written: number };
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
  readonly encoding: string;
  readonly fatal: boolean;
  readonly ignoreBOM: boolean;
  decode(input?: ArrayBufferView | ArrayBufferLike, options?: { stream?: boolean }): string;
}
declare function atob(data: string): string;
declare function btoa(data: string): string;
declare function structuredClone<T>(value: T, options?: {}): T;

declare class URLSearchParams {
  constructor(init?: string | Record<string, string> | [string, string][] | URLSearchParams);
  readonly size: number;
  append(name: string, value: string): void;
  delete(name: string, value?: string): void;
  get(name: string): string | null;
  getAll(name: string): string[];
  has(name: string, value?: string): boolean;
  set(name: string, value: string): void;
  sort(): void;
  toString(): string;
  forEach(callback: (value: string, key: string, parent: URLSearchParams) => void): void;
  entries(): IterableIterator<[string, string]>;
  keys(): IterableIterator<string>;
  values(): IterableIterator<string>;
  [Symbol.iterator](): IterableIterator<[string, string]>;
}
declare class URL {
  constructor(input: string | URL, base?: string | URL);
  static canParse(input: string | URL, base?: string | URL): boolean;
  href: string;
  protocol: string;
  username: string;
  password: string;
  host: string;
  hostname: string;
  port: string;
  pathname: string;
  search: string;
  hash: string;
  readonly origin: string;
  readonly searchParams: URLSearchParams;
  toString(): string;
  toJSON(): string;
}

/** The DOM-style event of `EventTarget` and `AbortSignal` (the value `Event`; the type `Event`
 * is Auth0's post-login event, as in Auth0's editor). */
interface DOMEvent {
  readonly type: string;
  readonly defaultPrevented: boolean;
  readonly target: EventTarget | null;
  preventDefault(): void;
  stopImmediatePropagation(): void;
}
declare var Event: { prototype: DOMEvent; new (type: string, options?: { cancelable?: boolean }): DOMEvent };
declare class EventTarget {
  addEventListener(type: string, listener: ((event: DOMEvent) => void) | null, options?: { once?: boolean } | boolean): void;
  removeEventListener(type: string, listener: ((event: DOMEvent) => void) | null): void;
  dispatchEvent(event: DOMEvent): boolean;
}
declare class AbortSignal extends EventTarget {
  readonly aborted: boolean;
  readonly reason: unknown;
  onabort: ((event: DOMEvent) => void) | null;
  throwIfAborted(): void;
  static abort(reason?: unknown): AbortSignal;
  static any(signals: AbortSignal[]): AbortSignal;
  static timeout(milliseconds: number): AbortSignal;
}
declare class AbortController {
  readonly signal: AbortSignal;
  abort(reason?: unknown): void;
}

declare class CryptoKey {
  readonly type: string;
  readonly extractable: boolean;
  readonly algorithm: { name: string; [key: string]: unknown };
  readonly usages: string[];
}
interface SubtleCrypto {
  digest(algorithm: string | { name: string }, data: ArrayBufferView | ArrayBufferLike): Promise<ArrayBuffer>;
  importKey(format: 'raw', keyData: ArrayBufferView | ArrayBufferLike, algorithm: { name: 'HMAC'; hash: string | { name: string }; length?: number }, extractable: boolean, usages: string[]): Promise<CryptoKey>;
  exportKey(format: 'raw', key: CryptoKey): Promise<ArrayBuffer>;
  sign(algorithm: string | { name: string }, key: CryptoKey, data: ArrayBufferView | ArrayBufferLike): Promise<ArrayBuffer>;
  verify(algorithm: string | { name: string }, key: CryptoKey, signature: ArrayBufferView | ArrayBufferLike, data: ArrayBufferView | ArrayBufferLike): Promise<boolean>;
}
declare var crypto: {
  randomUUID(): string;
  getRandomValues<T extends Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array>(array: T): T;
  readonly subtle: SubtleCrypto;
};

/** Node's timer handle (`+t` is its number). */
interface Timeout {
  ref(): this;
  unref(): this;
  hasRef(): boolean;
  refresh(): this;
  close(): this;
  [Symbol.toPrimitive](): number;
}
interface Immediate {
  ref(): this;
  unref(): this;
  hasRef(): boolean;
}
declare function setTimeout<A extends unknown[]>(callback: (...args: A) => void, ms?: number, ...args: A): Timeout;
declare function setInterval<A extends unknown[]>(callback: (...args: A) => void, ms?: number, ...args: A): Timeout;
declare function setImmediate<A extends unknown[]>(callback: (...args: A) => void, ...args: A): Immediate;
declare function clearTimeout(timeout: Timeout | number | undefined): void;
declare function clearInterval(timeout: Timeout | number | undefined): void;
declare function clearImmediate(immediate: Immediate | undefined): void;

declare var process: {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly version: string;
  readonly versions: Readonly<Record<string, string>>;
  readonly platform: string;
  readonly argv: readonly string[];
  nextTick<A extends unknown[]>(callback: (...args: A) => void, ...args: A): void;
};

type HeadersInit = Headers | Record<string, string> | [string, string][];
type BodyInit = string | ArrayBufferView | ArrayBufferLike | URLSearchParams | FormData;
interface RequestInit {
  method?: string;
  headers?: HeadersInit;
  body?: BodyInit | null;
  redirect?: 'follow';
  signal?: AbortSignal | null;
}
declare class Headers {
  constructor(init?: HeadersInit);
  append(name: string, value: string): void;
  delete(name: string): void;
  get(name: string): string | null;
  has(name: string): boolean;
  set(name: string, value: string): void;
  forEach(callback: (value: string, key: string, parent: Headers) => void): void;
  entries(): IterableIterator<[string, string]>;
  keys(): IterableIterator<string>;
  values(): IterableIterator<string>;
  [Symbol.iterator](): IterableIterator<[string, string]>;
}
declare class FormData {
  append(name: string, value: string): void;
  delete(name: string): void;
  get(name: string): string | null;
  getAll(name: string): string[];
  has(name: string): boolean;
  set(name: string, value: string): void;
  entries(): IterableIterator<[string, string]>;
  [Symbol.iterator](): IterableIterator<[string, string]>;
}
interface Body {
  readonly bodyUsed: boolean;
  arrayBuffer(): Promise<ArrayBuffer>;
  json(): Promise<any>;
  text(): Promise<string>;
  formData(): Promise<FormData>;
}
declare class Request implements Body {
  constructor(input: string | URL | Request, init?: RequestInit);
  readonly method: string;
  readonly url: string;
  readonly headers: Headers;
  readonly signal: AbortSignal;
  readonly bodyUsed: boolean;
  arrayBuffer(): Promise<ArrayBuffer>;
  json(): Promise<any>;
  text(): Promise<string>;
  formData(): Promise<FormData>;
  clone(): Request;
}
declare class Response implements Body {
  constructor(body?: BodyInit | null, init?: { status?: number; statusText?: string; headers?: HeadersInit });
  static json(data: unknown, init?: { status?: number; statusText?: string; headers?: HeadersInit }): Response;
  static error(): Response;
  readonly ok: boolean;
  readonly status: number;
  readonly statusText: string;
  readonly headers: Headers;
  readonly url: string;
  readonly redirected: boolean;
  readonly type: string;
  readonly bodyUsed: boolean;
  arrayBuffer(): Promise<ArrayBuffer>;
  json(): Promise<any>;
  text(): Promise<string>;
  formData(): Promise<FormData>;
  clone(): Response;
}
/** To the origins of `[scripts] fetch_allow` only. */
declare function fetch(input: string | URL | Request, init?: RequestInit): Promise<Response>;
