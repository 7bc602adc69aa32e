/**
 * Electron security scan (the checks Electronegativity rates high, written against our own sources because its
 * published CLI fetches translations from the internet on every run and no longer starts with current commander).
 *
 * Parses every TypeScript file under main/ and preload/ with the TypeScript compiler and the renderer's index.html,
 * then reports findings with a severity. Exits 1 when any high-severity finding exists.
 *   npx tsx scripts/security-scan.ts [--json]
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

export interface Finding {
  readonly id: string;
  readonly severity: 'high' | 'medium' | 'info';
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

/** webPreferences that must have exactly this value wherever they are written. */
const REQUIRED: Readonly<Record<string, boolean>> = {
  contextIsolation: true,
  sandbox: true,
  nodeIntegration: false,
  nodeIntegrationInWorker: false,
  nodeIntegrationInSubFrames: false,
  webviewTag: false,
  webSecurity: true,
  allowRunningInsecureContent: false,
  experimentalFeatures: false,
};

const FORBIDDEN_PROPS = ['enableBlinkFeatures', 'enableRemoteModule'];

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) walk(full, out);
    else if (/\.tsx?$/.test(name) && !/\.test\.tsx?$/.test(name)) out.push(full);
  }
  return out;
}

/** Scans TypeScript sources for insecure Electron settings and calls. */
export function scanSource(file: string, text: string, root: string): Finding[] {
  const findings: Finding[] = [];
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const at = (node: ts.Node) => sf.getLineAndCharacterOfPosition(node.getStart()).line + 1;
  const rel = relative(root, file);
  const seen = { webPreferences: false, permissionHandler: false, windowOpenHandler: false, willNavigate: false };
  const visit = (node: ts.Node) => {
    if (ts.isPropertyAssignment(node) && (ts.isIdentifier(node.name) || ts.isStringLiteral(node.name))) {
      const name = node.name.text;
      if (name in REQUIRED) {
        seen.webPreferences = true;
        const want = REQUIRED[name];
        const init = node.initializer;
        const literal = init.kind === ts.SyntaxKind.TrueKeyword ? true : init.kind === ts.SyntaxKind.FalseKeyword ? false : null;
        if (literal === null)
          findings.push({ id: 'WEBPREF_NOT_LITERAL', severity: 'high', file: rel, line: at(node), message: `${name} must be the literal ${want}` });
        else if (literal !== want)
          findings.push({ id: `WEBPREF_${name.toUpperCase()}`, severity: 'high', file: rel, line: at(node), message: `${name}: ${literal} (must be ${want})` });
      }
      if (FORBIDDEN_PROPS.includes(name))
        findings.push({ id: 'FORBIDDEN_WEBPREF', severity: 'high', file: rel, line: at(node), message: `${name} must not be set` });
    }
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
      const method = node.expression.name.text;
      if (method === 'setPermissionRequestHandler') seen.permissionHandler = true;
      if (method === 'setWindowOpenHandler') seen.windowOpenHandler = true;
      if (method === 'on' && node.arguments[0] && ts.isStringLiteral(node.arguments[0]) && node.arguments[0].text === 'will-navigate') seen.willNavigate = true;
      if (method === 'openExternal')
        findings.push({
          id: 'OPEN_EXTERNAL',
          severity: 'high',
          file: rel,
          line: at(node),
          message: 'shell.openExternal is not allowed (links to arbitrary URLs)',
        });
      if (method === 'executeJavaScript' || method === 'insertCSS')
        findings.push({ id: 'CODE_INJECTION', severity: 'high', file: rel, line: at(node), message: `${method} is not allowed` });
      if (method === 'exposeInMainWorld' && node.arguments[1] && ts.isIdentifier(node.arguments[1]) && node.arguments[1].text === 'ipcRenderer') {
        findings.push({ id: 'RAW_IPC_EXPOSED', severity: 'high', file: rel, line: at(node), message: 'raw ipcRenderer exposed to the page' });
      }
    }
    if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'BrowserView') {
      findings.push({ id: 'BROWSER_VIEW', severity: 'medium', file: rel, line: at(node), message: 'BrowserView is not used by Clusterdesk' });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return findings.concat(
    seen.webPreferences && !seen.permissionHandler && /BrowserWindow/.test(text)
      ? [{ id: 'NO_PERMISSION_HANDLER', severity: 'info', file: rel, line: 1, message: 'window created here; permission handler set elsewhere?' } as Finding]
      : [],
  );
}

/** Checks the renderer's CSP meta tag. */
export function scanHtml(file: string, html: string, root: string): Finding[] {
  const rel = relative(root, file);
  const m = /<meta\s+http-equiv=["']Content-Security-Policy["']\s+content=(["'])([\s\S]*?)\1/i.exec(html);
  if (!m?.[2]) return [{ id: 'CSP_MISSING', severity: 'high', file: rel, line: 1, message: 'no Content-Security-Policy meta tag' }];
  const csp = m[2].trim();
  const out: Finding[] = [];
  if (!csp.startsWith("default-src 'none'"))
    out.push({ id: 'CSP_DEFAULT', severity: 'high', file: rel, line: 1, message: `CSP must start with default-src 'none': ${csp}` });
  if (/unsafe-inline|unsafe-eval|\*/.test(csp))
    out.push({ id: 'CSP_UNSAFE', severity: 'high', file: rel, line: 1, message: `CSP allows unsafe sources: ${csp}` });
  if (/<script(?![^>]*\bsrc=)[^>]*>/i.test(html))
    out.push({ id: 'INLINE_SCRIPT', severity: 'high', file: rel, line: 1, message: 'inline <script> in index.html' });
  return out;
}

/** Runs every check over the project; the program-wide checks need the handlers to exist somewhere in main/. */
export function scanProject(root: string): Finding[] {
  const files = [...walk(join(root, 'main')), ...walk(join(root, 'preload'))];
  const findings: Finding[] = [];
  let all = '';
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    all += text;
    findings.push(...scanSource(f, text, root).filter((x) => x.id !== 'NO_PERMISSION_HANDLER'));
  }
  for (const [needle, id, message] of [
    ['setPermissionRequestHandler', 'NO_PERMISSION_HANDLER', 'permission requests are not denied anywhere'],
    ['setWindowOpenHandler', 'NO_WINDOW_OPEN_HANDLER', 'new windows are not denied anywhere'],
    ["'will-navigate'", 'NO_NAVIGATION_GUARD', 'navigation is not guarded anywhere'],
    ['requestSingleInstanceLock', 'NO_SINGLE_INSTANCE', 'no single-instance lock'],
  ] as const) {
    if (!all.includes(needle)) findings.push({ id, severity: 'high', file: 'main/', line: 0, message });
  }
  const html = join(root, 'renderer', 'index.html');
  findings.push(...scanHtml(html, readFileSync(html, 'utf8'), root));
  return findings;
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const root = join(import.meta.dirname, '..');
  const findings = scanProject(root);
  if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(findings, null, 2)}\n`);
  else for (const f of findings) process.stdout.write(`${f.severity.toUpperCase()} ${f.id} ${f.file}:${f.line} ${f.message}\n`);
  const high = findings.filter((f) => f.severity === 'high').length;
  process.stdout.write(`security scan: ${findings.length} finding(s), ${high} high\n`);
  process.exit(high > 0 ? 1 : 0);
}
