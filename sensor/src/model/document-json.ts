/**
 * JSON of a document, equal byte for byte to `JSON.stringify(doc)`, for the capture thread's hot path: as text
 * (documentJson) or encoded straight into a line buffer (encodeDocument).
 *
 * Most of a syscall document's bytes are objects the builder shares between documents: `host` (one per sensor),
 * `process` (one per process until it changes), `data_stream`, `user`/`group`. What the builder shares goes through
 * shareDocumentPart(), which freezes it deeply, so its text can never go stale: it is serialised once and the text
 * reused (weak maps, so it goes with the object). Everything else (the event's own fields) goes through
 * `JSON.stringify` as before. An object frozen elsewhere is not trusted: only the marked ones are cached.
 *
 * Encoding: a shared part's UTF-8 bytes are cached too and copied into the buffer, so only the event's own text is
 * encoded (measured: turning a ~1 KB text built from pieces into bytes cost as much as making the text).
 */
const shared = new WeakSet<object>();
const fragments = new WeakMap<object, string>();
/** per shared part: the UTF-8 bytes of `"key":<value>` under each key it was met (usually one) */
const fragmentBytes = new WeakMap<object, Map<string, Uint8Array>>();
const encoder = new TextEncoder();
const OPEN_BRACE = '{';
const COMMA = 0x2c;
/** `"key":` per top-level key (a plain object: measured cheaper than a Map here). */
const keyTexts: Record<string, string> = Object.create(null);
let keyCount = 0;

function keyText(key: string): string {
  let text = keyTexts[key];
  if (text === undefined) {
    text = `${JSON.stringify(key)}:`;
    // Document keys are a small fixed vocabulary; the bound only guards against a document built from input.
    if (keyCount < 4096) (keyTexts[key] = text), keyCount++;
  }
  return text;
}

function valueText(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  let text = fragments.get(value);
  if (text === undefined) {
    if (!shared.has(value)) return JSON.stringify(value);
    text = JSON.stringify(value);
    fragments.set(value, text);
  }
  return text;
}

export function documentJson(doc: object): string {
  // JSON.stringify honours toJSON; documents never have one, but an object that does must still come out the same.
  if (typeof (doc as { toJSON?: unknown }).toJSON === 'function') return JSON.stringify(doc);
  let out = '{';
  for (const key of Object.keys(doc)) {
    const text = valueText((doc as Record<string, unknown>)[key]);
    // undefined, functions and symbols are left out, as JSON.stringify leaves them out
    if (text === undefined) continue;
    out += out.length === 1 ? keyText(key) + text : `,${keyText(key)}${text}`;
  }
  return `${out}}`;
}

/**
 * Encodes `doc` as JSON (the bytes of documentJson(doc)) into `buffer` from `at`, using no byte at or past `limit`.
 * Returns the end offset, or -1 when it might not fit (the caller makes room, or takes documentJson's text).
 */
export function encodeDocument(doc: object, buffer: Uint8Array, at: number, limit: number): number {
  if (typeof (doc as { toJSON?: unknown }).toJSON === 'function') return -1;
  let text = OPEN_BRACE;
  let first = true;
  for (const key of Object.keys(doc)) {
    const value = (doc as Record<string, unknown>)[key];
    const bytes = typeof value === 'object' && value !== null ? sharedBytes(value, key) : undefined;
    if (bytes !== undefined) {
      if (text.length > 0) {
        at = encodeText(text, buffer, at, limit);
        if (at < 0) return -1;
        text = '';
      }
      if (at + bytes.length + 1 > limit) return -1;
      if (!first) buffer[at++] = COMMA;
      buffer.set(bytes, at);
      at += bytes.length;
      first = false;
      continue;
    }
    const valueJson = JSON.stringify(value);
    if (valueJson === undefined) continue;
    text += first ? keyText(key) + valueJson : `,${keyText(key)}${valueJson}`;
    first = false;
  }
  return encodeText(`${text}}`, buffer, at, limit);
}

function encodeText(text: string, buffer: Uint8Array, at: number, limit: number): number {
  // encodeInto writes at most 3 bytes per UTF-16 unit: with that much room it cannot stop short
  if (at + text.length * 3 > limit) return -1;
  return at + encoder.encodeInto(text, buffer.subarray(at, limit)).written;
}

function sharedBytes(value: object, key: string): Uint8Array | undefined {
  let byKey = fragmentBytes.get(value);
  if (byKey === undefined) {
    if (!shared.has(value)) return undefined;
    byKey = new Map();
    fragmentBytes.set(value, byKey);
  }
  let bytes = byKey.get(key);
  if (bytes === undefined) {
    bytes = encoder.encode(keyText(key) + valueText(value));
    byKey.set(key, bytes);
  }
  return bytes;
}

/**
 * Marks a part that many documents share (and that nobody may change from now on) so documentJson serialises it once:
 * it is frozen with everything inside it, so a change is an error rather than a stale text.
 */
export function shareDocumentPart<T extends object>(value: T): T {
  deepFreeze(value);
  shared.add(value);
  return value;
}

function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null) return;
  // into frozen objects too: one frozen by someone else may still hold changeable ones
  for (const inner of Object.values(value)) deepFreeze(inner);
  Object.freeze(value);
}
