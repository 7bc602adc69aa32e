/**
 * Line numbers for config errors: one rule for every YAML file Clusterdesk reads (cluster.yaml, refedez.yaml,
 * project.yml), so an error about a field points at the same kind of line wherever it comes from.
 */
import { isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node, type YAMLError } from 'yaml';

export type YamlPath = readonly (string | number)[];

const lineAt = (lines: LineCounter, node: unknown): number | null => {
  const range = (node as Node | null | undefined)?.range;
  return range ? lines.linePos(range[0]).line : null;
};

/**
 * 1-based line of what `path` names: the key's line for a map entry (a nested map's value starts below its key), the
 * item's own line for a sequence item. A path that does not exist (a missing key) points at its nearest existing
 * ancestor; an empty document at line 1.
 */
export function yamlLineOf(doc: Document, lines: LineCounter, path: YamlPath): number {
  let node: unknown = doc.contents;
  let line = lineAt(lines, node) ?? 1;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) return line;
      line = lineAt(lines, pair.key) ?? line;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item: unknown = node.items[seg];
      if (!item) return line;
      line = lineAt(lines, item) ?? line;
      node = item;
    } else {
      return line;
    }
  }
  return line;
}

/** 1-based line of a YAML syntax error (as the parser reports it, else from its offset). */
export function yamlErrorLine(err: YAMLError, lines: LineCounter): number {
  return err.linePos?.[0]?.line ?? lines.linePos(err.pos[0]).line;
}
