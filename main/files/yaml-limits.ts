/**
 * Limits on the YAML files we read (cluster.yaml, refedez.yaml, project.yml), checked before the `yaml` package sees
 * the text: it composes about 100 KB/s on a loaded machine, overflows the stack at ~1,000 levels of flow nesting and
 * runs out of memory (a fatal crash, not an exception) at ~10,000. So the text is scanned once, linearly, for size,
 * nesting depth and item count; aliases are bounded by `maxAliasCount` when the document is turned into values.
 *
 * Every problem comes back as data (message + hint + line): each caller turns it into its own `config-invalid`.
 */
import { LineCounter, parseDocument, type Document } from 'yaml';
import { yamlErrorLine } from './yaml-lines';
import { AppError } from '../errors';
import { FileTooLargeError, formatBytes, NotRegularFileError, readRegularFile } from './regular-file';

export const YAML_LIMITS = {
  /** A 10,000-node list-form cluster.yaml is ~0.7 MB. */
  maxBytes: 2 ** 20,
  /** Nesting of mappings, sequences and flow collections (the formats use 6 at most). */
  maxDepth: 64,
  /** List items, flow entries and aliases: enough for a 10,000-node cluster written in any style. */
  maxItems: 65_536,
  /** Alias expansions when the document becomes values (the `yaml` package's own guard against alias bombs). */
  maxAliasCount: 100,
} as const;

export interface YamlProblem {
  readonly message: string;
  readonly hint: string;
  /** 1-based line the problem was found on. */
  readonly line: number;
}

/** Reads a YAML file: refuses special files at once and files over `maxBytes` without reading them. */
export async function readYamlFile(path: string, what: string): Promise<{ text: string } | { problem: YamlProblem; code?: string }> {
  try {
    return { text: (await readRegularFile(path, YAML_LIMITS.maxBytes)).text };
  } catch (err) {
    if (err instanceof NotRegularFileError) {
      return { problem: { message: `${what} is a ${err.kind}, not a file; nothing was read from it`, hint: `Point to the ${what} file itself.`, line: 1 } };
    }
    if (err instanceof FileTooLargeError) {
      return {
        problem: {
          message: `${what} is ${formatBytes(err.size)}, more than the limit of ${formatBytes(err.limit)} for a config file`,
          hint: 'A real config is a few kilobytes; check that this is the right file.',
          line: 1,
        },
      };
    }
    throw err;
  }
}

/**
 * One linear pass over the text: the nesting depth (indentation levels + `- ` runs + flow brackets, skipping quoted
 * strings, comments and block scalars) and the number of items (`- `, `,`, `*alias`). Conservative: it may count a
 * little more than the parser would, never less.
 */
export function scanYaml(text: string): YamlProblem | null {
  if (text.length > YAML_LIMITS.maxBytes) {
    return {
      message: `the text is ${formatBytes(text.length)}, more than the limit of ${formatBytes(YAML_LIMITS.maxBytes)}`,
      hint: 'A real config is a few kilobytes.',
      line: 1,
    };
  }
  const n = text.length;
  const indents: number[] = [];
  let flow = 0;
  let items = 0;
  let line = 1;
  let i = 0;
  let blockParent = -1; // indentation of the line that opened a block scalar, -1 when not in one
  const tooDeep = (depth: number): YamlProblem | null =>
    depth > YAML_LIMITS.maxDepth
      ? {
          message: `nesting deeper than ${YAML_LIMITS.maxDepth} levels at line ${line}`,
          hint: `No config nests more than a few levels; the limit is ${YAML_LIMITS.maxDepth}.`,
          line,
        }
      : null;
  while (i < n) {
    // Start of a line: indentation.
    let col = 0;
    while (i < n && text.charCodeAt(i) === 32) {
      i++;
      col++;
    }
    const c0 = text.charCodeAt(i);
    const blank = i >= n || c0 === 10 || c0 === 13 || c0 === 35; // empty or comment-only
    if (blockParent >= 0) {
      if (blank || col > blockParent) {
        i = skipLine(text, i);
        line++;
        continue;
      }
      blockParent = -1;
    }
    if (blank) {
      i = skipLine(text, i);
      line++;
      continue;
    }
    if (flow === 0) {
      while (indents.length > 0 && indents[indents.length - 1]! >= col) indents.pop();
      indents.push(col);
    }
    // `- - - x`: each dash opens a sequence on the same line.
    let dashes = 0;
    while (text.charCodeAt(i) === 45 && (text.charCodeAt(i + 1) === 32 || text.charCodeAt(i + 1) === 10 || i + 1 >= n)) {
      dashes++;
      items++;
      i += 2;
      while (text.charCodeAt(i) === 32) i++;
    }
    const problem = tooDeep(indents.length + dashes + flow);
    if (problem) return problem;
    // The rest of the line. A quote, a flow bracket, an alias or a block scalar header only counts where a value
    // may begin (line start, after `: `, `- `, `[`, `{`, `,`): inside a plain scalar they are just characters.
    let valueStart = true;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 10) break;
      if (c === 35 && (i === 0 || text.charCodeAt(i - 1) === 32 || text.charCodeAt(i - 1) === 9)) {
        while (i < n && text.charCodeAt(i) !== 10) i++;
        break;
      }
      if (c === 32 || c === 9 || c === 13) {
        i++;
        continue;
      }
      if (valueStart && (c === 34 || c === 39)) {
        // A quoted scalar, possibly over several lines.
        for (i++; i < n; i++) {
          const d = text.charCodeAt(i);
          if (d === 10) line++;
          if (c === 34 && d === 92) i++;
          else if (d === c) {
            if (c === 39 && text.charCodeAt(i + 1) === 39) i++;
            else break;
          }
        }
        i++;
        valueStart = false;
        continue;
      }
      if (valueStart && flow === 0 && (c === 124 || c === 62) && isBlockHeader(text, i + 1)) {
        blockParent = col; // `key: |` / `- >-`: the deeper-indented lines below are text
        while (i < n && text.charCodeAt(i) !== 10) i++;
        break;
      }
      if ((c === 91 || c === 123) && (valueStart || flow > 0)) {
        flow++;
        const p = tooDeep(indents.length + dashes + flow);
        if (p) return p;
        valueStart = true;
      } else if ((c === 93 || c === 125) && flow > 0) {
        flow--;
        valueStart = false;
      } else if (c === 44 && flow > 0) {
        items++;
        valueStart = true;
      } else if (c === 58 && (i + 1 >= n || [32, 9, 10, 13].includes(text.charCodeAt(i + 1)) || flow > 0)) {
        valueStart = true;
      } else if (c === 45 && valueStart && [32, 10].includes(text.charCodeAt(i + 1))) {
        items++; // `key: - x` is invalid, but `[- x]`… count it anyway
        valueStart = true;
      } else {
        if (c === 42 && valueStart) items++;
        valueStart = false;
      }
      if (items > YAML_LIMITS.maxItems) {
        return {
          message: `more than ${YAML_LIMITS.maxItems} list items and aliases (at line ${line})`,
          hint: 'A config holds at most a few thousand nodes; the limit is there so a huge file cannot stall Clusterdesk.',
          line,
        };
      }
      i++;
    }
    i = skipLine(text, i);
    line++;
  }
  return null;
}

/** After `|` or `>`: only indicators (`-`, `+`, a digit), then spaces and an optional comment, then the line end. */
function isBlockHeader(text: string, i: number): boolean {
  const n = text.length;
  while (i < n && /[-+0-9]/.test(text[i]!)) i++;
  while (i < n && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9 || text.charCodeAt(i) === 13)) i++;
  return i >= n || text.charCodeAt(i) === 10 || (text.charCodeAt(i) === 35 && text.charCodeAt(i - 1) === 32);
}

/** Past the end of the current line. */
function skipLine(text: string, i: number): number {
  const nl = text.indexOf('\n', i);
  return nl < 0 ? text.length : nl + 1;
}

/** `doc.toJS()` with alias expansion bounded: an alias bomb is a problem, not an exception. */
export function toJsBounded(doc: Document, what: string): { value: unknown } | { problem: YamlProblem } {
  try {
    return { value: doc.toJS({ maxAliasCount: YAML_LIMITS.maxAliasCount }) };
  } catch (err) {
    if (err instanceof ReferenceError || err instanceof RangeError) {
      return {
        problem: {
          message: `${what} expands its aliases (*name) beyond the limit of ${YAML_LIMITS.maxAliasCount} (${err.message})`,
          hint: 'Write the values out, or use fewer nested aliases.',
          line: 1,
        },
      };
    }
    throw err;
  }
}

/**
 * Reads a YAML file's plain value within every limit: a special file, a size, depth, item or alias problem, or a
 * syntax error is `config-invalid` naming the file and line (never a hang, a crash or `internal`).
 */
/** Documents at most this large are kept for a second parse of the same text (`parseYamlOnce`). */
const KEEP_PARSED_MAX_CHARS = 256 * 1024;
let lastParsed: { readonly text: string; readonly doc: Document; readonly lines: LineCounter } | null = null;

/**
 * Parses YAML text (unique keys, no pretty errors, lines counted), reusing the last document when the text is exactly
 * the same: one command reads cluster.yaml twice (workspace detection, then the config load), and this makes that one
 * parse. Keyed by the whole text, so it can never be stale; callers only read the document (`getIn`, `toJS`).
 */
export function parseYamlOnce(text: string): { readonly doc: Document; readonly lines: LineCounter } {
  if (lastParsed !== null && lastParsed.text === text) return lastParsed;
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const parsed = { text, doc, lines };
  lastParsed = text.length <= KEEP_PARSED_MAX_CHARS ? parsed : null;
  return parsed;
}

export async function readYamlValue(file: string): Promise<unknown> {
  let read;
  try {
    read = await readYamlFile(file, file);
  } catch (err) {
    throw new AppError('config-invalid', `Cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`, { path: file });
  }
  const fail = (p: YamlProblem) => new AppError('config-invalid', `${file}:${p.line}: ${p.message}.`, { path: file, line: p.line, hint: p.hint });
  if ('problem' in read) throw fail(read.problem);
  const problem = scanYaml(read.text);
  if (problem) throw fail(problem);
  const { doc, lines: lineCounter } = parseYamlOnce(read.text);
  const first = doc.errors[0];
  if (first) {
    const line = yamlErrorLine(first, lineCounter);
    throw new AppError('config-invalid', `${file}:${line}: ${first.message.split('\n')[0]}`, { path: file, line, hint: 'Fix the YAML syntax at that line.' });
  }
  const js = toJsBounded(doc, file);
  if ('problem' in js) throw fail(js.problem);
  return js.value;
}
