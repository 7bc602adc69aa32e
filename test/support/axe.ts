import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { ROOT } from './app';

export interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly nodes: readonly { readonly target: readonly string[]; readonly failureSummary?: string }[];
}

/**
 * Runs axe-core (the installed package, injected as a script) on the page as it is now, WCAG 2 A/AA rules, and answers
 * the violations of at least `minImpact` ("serious" by default), each with its failing selectors for the message.
 */
export async function axeViolations(page: Page, minImpact: 'minor' | 'moderate' | 'serious' | 'critical' = 'serious'): Promise<AxeViolation[]> {
  const loaded = await page.evaluate(() => typeof (globalThis as { axe?: unknown }).axe !== 'undefined');
  if (!loaded) {
    const path = join(ROOT, 'node_modules', 'axe-core', 'axe.min.js');
    // The page's CSP (script-src 'self') refuses the inline <script> addScriptTag writes; evaluating the same source
    // through the DevTools protocol is not subject to it.
    await page.addScriptTag({ path }).catch(() => undefined);
    const injected = await page.evaluate(() => typeof (globalThis as { axe?: unknown }).axe !== 'undefined');
    if (!injected) await page.evaluate(await readFile(path, 'utf8'));
  }
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(ctx: unknown, opts: unknown): Promise<{ violations: AxeViolation[] }> } }).axe;
    const r = await axe.run((globalThis as unknown as { document: unknown }).document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
      resultTypes: ['violations'],
    });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })),
    }));
  });
  const order = ['minor', 'moderate', 'serious', 'critical'];
  return violations.filter((v) => order.indexOf(v.impact ?? 'minor') >= order.indexOf(minImpact));
}

/** A readable summary of violations for an assertion message. */
export function describeViolations(violations: readonly AxeViolation[]): string {
  return violations
    .map(
      (v) =>
        `${v.impact} ${v.id}: ${v.help}\n${v.nodes.map((n) => `  ${n.target.join(' ')}${n.failureSummary ? ` — ${n.failureSummary.split('\n').join(' ')}` : ''}`).join('\n')}`,
    )
    .join('\n');
}
