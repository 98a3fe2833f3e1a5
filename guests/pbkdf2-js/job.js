// The PBKDF2 job in JavaScript: the same payload, tasks and results as the Rust guest
// (guests/pbkdf2), free of bindings so that `node --test` runs it natively. The derivation is
// @noble/hashes' PBKDF2 (audited, pure JavaScript): StarlingMonkey has no WebCrypto PBKDF2.
import { pbkdf2 } from '@noble/hashes/pbkdf2.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';

export const DESCRIPTION =
  'PBKDF2-HMAC-SHA512/SHA256 of a list of passwords, one task per password (CPU-bound; JavaScript)';
const DEFAULT_PASSWORDS = ['password', 'password1', 'password2', 'password3'];
const MAX_KEY_LENGTH = 1024;
const FIELDS = new Set(['passwords', 'iterations', 'hash', 'keyLength', 'salt']);
const HASHES = { sha256, sha512 };

const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

function randomSalt() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return hex(bytes);
}

// One task per password; an Error with the Rust guest's words for a bad payload.
export function plan(payload) {
  let p;
  try {
    p = payload.trim() === '' ? {} : JSON.parse(payload);
  } catch (e) {
    throw new Error(`invalid pbkdf2 payload: ${e.message}`);
  }
  if (p === null) p = {};
  if (typeof p !== 'object' || Array.isArray(p)) throw new Error('invalid pbkdf2 payload: expected an object');
  const unknown = Object.keys(p).filter((k) => !FIELDS.has(k)).sort();
  if (unknown.length) throw new Error(`invalid pbkdf2 payload: unknown field \`${unknown[0]}\``);
  const iterations = p.iterations ?? 1000000;
  if (!Number.isInteger(iterations) || iterations < 1) {
    throw new Error('invalid pbkdf2 payload: `iterations` must be at least 1');
  }
  const keyLength = p.keyLength ?? 64;
  if (!Number.isInteger(keyLength) || keyLength < 1 || keyLength > MAX_KEY_LENGTH) {
    throw new Error(`invalid pbkdf2 payload: \`keyLength\` must be 1..=${MAX_KEY_LENGTH} bytes, got ${keyLength}`);
  }
  const passwords = p.passwords ?? DEFAULT_PASSWORDS;
  if (!passwords.length) throw new Error('invalid pbkdf2 payload: `passwords` is empty');
  const hash = p.hash ?? 'sha512';
  if (!(hash in HASHES)) throw new Error(`invalid pbkdf2 payload: unknown \`hash\` ${JSON.stringify(hash)}`);
  return passwords.map((password) =>
    JSON.stringify({ password, salt: p.salt ?? randomSalt(), iterations, hash, keyLength }));
}

// Derives the key of one task: {password, salt, key} with the key in hex.
export function run(task) {
  const t = JSON.parse(task);
  const enc = new TextEncoder();
  const key = pbkdf2(HASHES[t.hash], enc.encode(t.password), enc.encode(t.salt), {
    c: t.iterations,
    dkLen: t.keyLength,
  });
  return JSON.stringify({ password: t.password, salt: t.salt, key: hex(key) });
}
