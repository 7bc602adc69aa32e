import { describe, expect, it } from 'vitest';
import { LineCounter, parseDocument } from 'yaml';
import { yamlErrorLine, yamlLineOf } from './yaml-lines';

const TEXT = ['a:', '  b:', '    c: 1', '  list:', '    - x: 1', '    - y: 2', 'd: 4'].join('\n');

function parse(text: string) {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  return { doc, lines };
}

describe('yamlLineOf', () => {
  it('names the key of a map entry, the item of a sequence, and the nearest ancestor of what is missing', () => {
    const { doc, lines } = parse(TEXT);
    expect(yamlLineOf(doc, lines, [])).toBe(1);
    expect(yamlLineOf(doc, lines, ['a', 'b'])).toBe(2);
    expect(yamlLineOf(doc, lines, ['a', 'b', 'c'])).toBe(3);
    expect(yamlLineOf(doc, lines, ['a', 'list', 1])).toBe(6);
    expect(yamlLineOf(doc, lines, ['a', 'list', 1, 'y'])).toBe(6);
    expect(yamlLineOf(doc, lines, ['a', 'b', 'missing'])).toBe(2);
    expect(yamlLineOf(doc, lines, ['a', 'list', 9])).toBe(4);
    expect(yamlLineOf(doc, lines, ['d', 'deeper'])).toBe(7);
  });

  it('is line 1 for an empty document', () => {
    const { doc, lines } = parse('');
    expect(yamlLineOf(doc, lines, ['a'])).toBe(1);
  });
});

describe('yamlErrorLine', () => {
  it('is the line of a syntax error', () => {
    const { doc, lines } = parse('a: 1\nb: [1, 2\nc: 3\n');
    expect(doc.errors.length).toBeGreaterThan(0);
    expect(yamlErrorLine(doc.errors[0]!, lines)).toBeGreaterThanOrEqual(2);
    const dup = parse('a: 1\nb: 2\na: 3\n');
    expect(yamlErrorLine(dup.doc.errors[0]!, dup.lines)).toBe(3);
  });
});
