/**
 * Text → validated state, with `state-corrupt` errors that point at the line (not JSON) or the field (not valid).
 */
import type { Stats } from 'node:fs';
import type { z } from 'zod';
import { AppError } from '../errors';
import { FileTooLargeError, formatBytes, NotRegularFileError, readRegularFile } from '../files/regular-file';
import { fromAiHowImplementation, fromRefedez, isAiHowImplementation, isRefedezNative } from './convert';
import { corruptError, isNotFound } from './errors';
import { isCertainlyValidCluster } from './fast-validate';
import { clusterStateSchema, federationStateSchema, type AnyState, type StateKind, type StateOf } from './schema';

/** Where a loaded state came from. */
export type SourceFormat = 'clusterdesk' | 'ai-how' | 'ai-how-implementation' | 'refedez';

export interface ParsedState<K extends StateKind = StateKind> {
  readonly state: StateOf<K>;
  readonly format: SourceFormat;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** 1-based line and column of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(Math.max(offset, 0), text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

/**
 * Limits on what a state file may be (issue #10): a 10,000-VM state is ~4 MB and nests 4 levels, so these leave
 * ample room for real files and none for a file built to exhaust memory or the stack.
 */
export const STATE_LIMITS = {
  /** Bytes read from a state file, backup or history generation (~180,000 VMs). */
  maxBytes: 64 * 2 ** 20,
  /** Nesting of objects and arrays (the formats use 5 at most; unknown fields are kept, so allow some). */
  maxDepth: 64,
} as const;

/**
 * The largest serial a state may carry: written serials stop at `SERIAL_MAX - 1` (see `nextSerial`), so every file
 * that loads can still be written and restored; a file or bundle claiming `SERIAL_MAX` or more is refused.
 */
export const SERIAL_MAX = 2 ** 53 - 2;

/** The serial of the next write after `current` (never past `SERIAL_MAX - 1`, so the result always loads again). */
export function nextSerial(current: number): number {
  return Math.min(Math.max(0, current) + 1, SERIAL_MAX - 1);
}

/**
 * Reads a state file (or a backup of one) without ever blocking or reading without bound: null when it does not
 * exist; `state-io` for a FIFO, device, socket or folder (nothing is read); `state-corrupt` when it is larger than
 * `STATE_LIMITS.maxBytes`. Other file-system errors propagate for the caller's `fsError`.
 */
export async function readStateText(path: string): Promise<{ text: string; stats: Stats } | null> {
  try {
    return await readRegularFile(path, STATE_LIMITS.maxBytes);
  } catch (err) {
    if (isNotFound(err)) return null;
    throw limitError(err) ?? err;
  }
}

/** Maps the bounded-read errors of `main/files/regular-file` to the state engine's typed errors (null: not one). */
export function limitError(err: unknown): AppError | null {
  if (err instanceof NotRegularFileError) {
    return new AppError('state-io', `${err.path} is a ${err.kind}, not a state file; nothing was read from it.`, {
      path: err.path,
      hint: `Point the workspace at a regular JSON file (--state PATH), or remove the ${err.kind} at this path.`,
      details: { kind: err.kind },
    });
  }
  if (err instanceof FileTooLargeError) {
    const e = corruptError(err.path, `the file is ${formatBytes(err.size)}; a state file may be at most ${formatBytes(err.limit)}.`);
    return new AppError('state-corrupt', e.message, {
      ...e.fields,
      hint: 'This is far larger than any state Clusterdesk writes. Restore a backup, or check what wrote this file.',
      details: { size: err.size, limit: err.limit },
    });
  }
  return null;
}

/**
 * The offset at which `text` nests arrays/objects deeper than `limit`, or -1. A linear scan that skips strings, so
 * neither JSON.parse, zod nor any later walk (clone, stringify, redaction) meets a value deep enough to overflow.
 */
export function excessiveDepthAt(text: string, limit: number): number {
  // A plain character loop: measured against a regex/indexOf skipper it is as fast once warm (~8 ms for a 10,000-VM
  // state) and simplest to check.
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      // Skip the string: the next quote not escaped by a backslash.
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 92) i++;
        else if (d === 34) break;
      }
    } else if (c === 123 || c === 91) {
      if (++depth > limit) return i;
    } else if (c === 125 || c === 93) {
      depth--;
    }
  }
  return -1;
}

/** The checks on the text alone: empty, or longer than the limit. */
function checkText(text: string, path: string): void {
  if (text.trim() === '') throw corruptError(path, 'the file is empty.', { line: 1, column: 1 });
  if (text.length > STATE_LIMITS.maxBytes) {
    throw corruptError(path, `the text is ${formatBytes(text.length)}; a state may be at most ${formatBytes(STATE_LIMITS.maxBytes)}.`);
  }
}

/** `state-corrupt` with the line and column when the text nests deeper than the limit. */
function checkDepth(text: string, path: string): void {
  const deep = excessiveDepthAt(text, STATE_LIMITS.maxDepth);
  if (deep >= 0) {
    const { line, column } = lineColumn(text, deep);
    throw corruptError(path, `nesting deeper than ${STATE_LIMITS.maxDepth} levels at line ${line}, column ${column}; no state is that deep.`, { line, column });
  }
}

/**
 * JSON.parse, a syntax error turned into `state-corrupt` with the line and column. V8's JSON.parse is iterative, so
 * deep input cannot overflow it; a text both too deep and broken reports the depth (as the scan-first order did).
 */
function parseText(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    checkDepth(text, path);
    // V8 gives a position for some errors only ("Unexpected token 'x', "…" is not valid JSON" has none): locate it ourselves.
    const offset = locateJsonError(text);
    const { line, column } = lineColumn(text, offset);
    const found = offset >= text.length ? 'unexpected end of the file' : `unexpected ${JSON.stringify(text.slice(offset, offset + 1))}`;
    throw corruptError(path, `not valid JSON at line ${line}, column ${column}: ${found}.`, { line, column }, err);
  }
}

/** Parses JSON within the limits (size, nesting depth), turning a syntax error into `state-corrupt` with the line and column. */
export function parseJson(text: string, path: string): unknown {
  checkText(text, path);
  checkDepth(text, path);
  return parseText(text, path);
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPES = '"\\/bfnrtu';

class SyntaxAt {
  constructor(readonly offset: number) {}
}

/** The offset of the first JSON syntax error in `text` (`text.length` for an unexpected end), or -1 if it parses. */
export function locateJsonError(text: string): number {
  const n = text.length;
  let i = 0;
  const fail = (at = i): never => {
    throw new SyntaxAt(Math.min(at, n));
  };
  const ws = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) i++;
      else break;
    }
  };
  const string = () => {
    i++; // opening quote
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 34) {
        i++;
        return;
      }
      if (c < 0x20) fail();
      if (c === 92) {
        const e = text[i + 1];
        if (e === undefined || !ESCAPES.includes(e)) fail(i + 1);
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail(i + 2);
          i += 6;
        } else i += 2;
      } else i++;
    }
    fail(n);
  };
  const value = (): void => {
    ws();
    if (i >= n) fail();
    const c = text[i];
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i++;
      ws();
      if (text[i] === close) {
        i++;
        return;
      }
      for (;;) {
        if (c === '{') {
          ws();
          if (text[i] !== '"') fail();
          string();
          ws();
          if (text[i] !== ':') fail();
          i++;
        }
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === close) {
          i++;
          return;
        }
        fail();
      }
    }
    if (c === '"') return string();
    NUMBER.lastIndex = i;
    if (NUMBER.exec(text)) {
      i = NUMBER.lastIndex;
      return;
    }
    for (const literal of ['true', 'false', 'null']) {
      if (text.startsWith(literal, i)) {
        i += literal.length;
        return;
      }
    }
    fail();
  };
  try {
    value();
    ws();
    return i < n ? i : -1;
  } catch (err) {
    if (err instanceof SyntaxAt) return err.offset;
    return n; // nesting too deep for the stack: point at the end rather than nowhere
  }
}

/** `vms[3].state` from zod's path `['vms', 3, 'state']`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

function schemaError(path: string, kind: StateKind, error: z.ZodError, format: SourceFormat): Error {
  const issue = error.issues[0];
  const field = issue ? fieldPath(issue.path) : '';
  const converted = format === 'clusterdesk' || format === 'ai-how' ? '' : ` (converted from the ${format} format)`;
  const what = field ? `field ${field}` : 'the top level';
  return corruptError(path, `not a valid ${kind} state${converted}: ${what}: ${issue?.message ?? 'invalid'}.`, field ? { field } : {});
}

/**
 * Validates an already-parsed JSON value as a state of `kind`, converting foreign formats first.
 * Throws `state-corrupt` naming the offending field.
 */
export function validateState<K extends StateKind>(kind: K, raw: unknown, path: string): ParsedState<K> {
  return checkSerial(validateShape(kind, raw, path, false), path);
}

function checkSerial<K extends StateKind>(parsed: ParsedState<K>, path: string): ParsedState<K> {
  const serial = (parsed.state as { serial?: unknown }).serial;
  if (typeof serial === 'number' && serial >= SERIAL_MAX) {
    throw new AppError('state-corrupt', `${path}: serial ${serial} is at the ceiling (${SERIAL_MAX - 1} at most): no write could follow it.`, {
      path,
      field: 'serial',
      hint: 'Clusterdesk never writes such a serial. Restore a backup (Backups → Restore newest valid), or set "serial" to the highest serial in the history folder by hand.',
      details: { serial, max: SERIAL_MAX - 1 },
    });
  }
  return parsed;
}

/** `certain`: the caller has already seen `isCertainlyValidCluster(raw)` answer true (validated once, not twice). */
function validateShape<K extends StateKind>(kind: K, raw: unknown, path: string, certain: boolean): ParsedState<K> {
  if (!isObj(raw)) throw corruptError(path, `not a ${kind} state: the top level is not a JSON object.`);
  if (kind === 'cluster') {
    if (!('cluster_name' in raw) && 'type' in raw && 'data' in raw) {
      throw corruptError(path, 'this is a federation state file, not a cluster state file.', { field: 'type' });
    }
    let value: Obj = raw;
    let format: SourceFormat = 'version' in raw ? 'clusterdesk' : 'ai-how';
    if (isAiHowImplementation(raw)) {
      value = fromAiHowImplementation(raw);
      format = 'ai-how-implementation';
    }
    if (certain || isCertainlyValidCluster(value, STATE_LIMITS.maxDepth)) return { state: value as StateOf<K>, format };
    const result = clusterStateSchema.safeParse(value);
    if (!result.success) throw schemaError(path, kind, result.error, format);
    return { state: result.data as StateOf<K>, format };
  }
  if ('cluster_name' in raw && !('data' in raw)) {
    throw corruptError(path, 'this is a cluster state file, not a federation state file.', { field: 'cluster_name' });
  }
  let value: Obj = raw;
  let format: SourceFormat = 'clusterdesk';
  if (isRefedezNative(raw)) {
    value = fromRefedez(raw);
    format = 'refedez';
  }
  const result = federationStateSchema.safeParse(value);
  if (!result.success) throw schemaError(path, kind, result.error, format);
  return { state: result.data as StateOf<K>, format };
}

/**
 * Parses and validates a state file's text in one pass over the value: JSON.parse, then the hand-written check,
 * which also bounds the nesting of unknown fields. Only a value it cannot vouch for (a foreign format, a federation,
 * an invalid or very deep state) pays the character scan for the depth and zod's validation.
 */
export function parseState<K extends StateKind>(kind: K, text: string, path: string): ParsedState<K> {
  checkText(text, path);
  const raw = parseText(text, path);
  const certain = kind === 'cluster' && isCertainlyValidCluster(raw, STATE_LIMITS.maxDepth) && !isAiHowImplementation(raw as Obj);
  if (!certain) checkDepth(text, path);
  return checkSerial(validateShape(kind, raw, path, certain), path);
}

/** Serializes a state the way we write it: two-space indentation (diff-friendly, like the original tools), final newline. */
export function serializeState(state: AnyState): string {
  return `${JSON.stringify(state, null, 2)}\n`;
}
