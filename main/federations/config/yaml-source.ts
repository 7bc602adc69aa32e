/**
 * YAML files read with positions, so every config error can name its file, line and field.
 */
import { LineCounter, parseDocument, type Document } from 'yaml';
import type { ErrorData } from '../../../preload/contract';
import { AppError } from '../../errors';
import { yamlErrorLine, yamlLineOf } from '../../files/yaml-lines';
import { readYamlFile, scanYaml, toJsBounded } from '../../files/yaml-limits';

export type PathSeg = string | number;

/** A parsed YAML file plus what is needed to point at its lines. */
export class YamlSource {
  private constructor(
    readonly path: string,
    private readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
    private readonly plain: unknown,
  ) {}

  /** Reads and parses `path`; a missing file or a syntax error is `config-invalid` with the line. */
  static async load(path: string, what: string): Promise<YamlSource> {
    let text: string;
    try {
      const read = await readYamlFile(path, what);
      if ('problem' in read) throw new AppError('config-invalid', `${path}: ${read.problem.message}.`, { path, line: 1, hint: read.problem.hint });
      text = read.text;
    } catch (err) {
      if (err instanceof AppError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      throw new AppError('config-invalid', `${what} not found: ${path}`, {
        path,
        hint: code === 'ENOENT' ? `Create ${what} or fix the path that points to it.` : `Could not read it (${code ?? String(err)}).`,
      });
    }
    return YamlSource.parse(text, path, what);
  }

  static parse(text: string, path: string, what: string): YamlSource {
    // Size, nesting and item count before the parser sees the text (a deep file crashes it), aliases when it becomes values.
    const problem = scanYaml(text);
    if (problem) throw new AppError('config-invalid', `${what}: ${problem.message}.`, { path, line: problem.line, hint: problem.hint });
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    const err = doc.errors[0];
    if (err) {
      const line = yamlErrorLine(err, lines);
      throw new AppError('config-invalid', `${what} is not valid YAML: ${err.message.split('\n')[0]}`, {
        path,
        line,
        hint: 'Fix the YAML syntax at that line (indentation, a missing colon or quote).',
      });
    }
    const js = toJsBounded(doc, what);
    if ('problem' in js) throw new AppError('config-invalid', `${what}: ${js.problem.message}.`, { path, line: js.problem.line, hint: js.problem.hint });
    return new YamlSource(path, doc, lines, js.value);
  }

  /** The plain JS value of the whole document (computed once, within the alias limit). */
  value(): unknown {
    return this.plain;
  }

  /** 1-based line of the key at `path` (or of the value for sequence items); the nearest existing ancestor otherwise. */
  lineOf(path: readonly PathSeg[]): number {
    return yamlLineOf(this.doc, this.lines, path);
  }

  /** A `config-invalid` error about `path` in this file. */
  error(path: readonly PathSeg[], message: string, hint: string): ErrorData {
    const field = path.join('.');
    return {
      code: 'config-invalid',
      message: `${basename(this.path)}: ${field ? `${field}: ` : ''}${message}`,
      path: this.path,
      line: this.lineOf(path),
      field,
      hint,
    };
  }
}

function basename(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}
