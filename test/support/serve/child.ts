/** Spawning `serve-child.ts` and talking to it: raw HTTP, raw WebSocket frames, and a liveness check. */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect as netConnect, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Channel } from '../../../preload/contract';
import { serveInvoke } from './ws-invoke';

const here = dirname(fileURLToPath(import.meta.url));

export interface ServeChild {
  readonly proc: ChildProcess;
  readonly port: number;
  readonly url: string;
  /** Everything the child wrote to stdout and stderr so far. */
  output(): string;
  /** The exit code once it exited, else undefined. */
  exitCode(): number | null | undefined;
  stop(): Promise<number | null>;
}

/** Starts a host in a child process and waits for its port. */
export async function startServeChild(staticDir: string, dataDir: string, token: string, host?: string): Promise<ServeChild> {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(here, 'serve-child.ts'), staticDir, dataDir, token, ...(host ? [host] : [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let exit: number | null | undefined;
  proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve((exit = code))));
  const [port, url] = await new Promise<[number, string]>((resolve, reject) => {
    const check = () => {
      const m = /LISTENING (\d+) (\S+)/.exec(out);
      if (m) resolve([Number(m[1]), m[2]!]);
    };
    proc.stdout.on('data', check);
    void exited.then((code) => reject(new Error(`serve child exited with ${code}:\n${out}`)));
  });
  return {
    proc,
    port,
    url,
    output: () => out,
    exitCode: () => exit,
    stop: async () => {
      if (exit !== undefined) return exit;
      proc.kill('SIGTERM');
      return exited;
    },
  };
}

/** Sends raw bytes and collects the answer until the server closes the connection (or `untilMatch` matches). */
export function rawExchange(port: number, request: string | Buffer, untilMatch?: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(port, '127.0.0.1');
    let data = '';
    const done = () => {
      socket.destroy();
      resolve(data);
    };
    socket.on('data', (c: Buffer) => {
      data += c.toString('latin1');
      if (untilMatch?.test(data)) done();
    });
    socket.on('end', done);
    socket.on('close', done);
    socket.on('error', (err) => (data ? done() : reject(err)));
    socket.write(request);
  });
}

/** The status code of a raw HTTP answer ("HTTP/1.1 400 Bad Request" → 400), or 0 for none. */
export function statusOf(answer: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
}

/** A raw WebSocket client: the handshake by hand, then whatever frames the test builds. */
export async function rawWebSocket(port: number, headers: Record<string, string>): Promise<{ socket: Socket; closeCode: Promise<number | null> }> {
  const socket = netConnect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const lines = [
    'GET /ws HTTP/1.1',
    `Host: 127.0.0.1:${port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version: 13',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  let buf = Buffer.alloc(0);
  await new Promise<void>((resolve, reject) => {
    const onData = (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.subarray(0, end).toString('latin1');
      buf = buf.subarray(end + 4);
      socket.off('data', onData);
      if (statusOf(head) !== 101) reject(new Error(`handshake answered: ${head.split('\r\n')[0]}`));
      else resolve();
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
  socket.on('error', () => undefined);
  const closeCode = new Promise<number | null>((resolve) => {
    const onData = (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      // Server frames are unmasked: byte 0 = FIN|opcode, byte 1 = length (< 126 for a close frame).
      while (buf.length >= 2) {
        const opcode = buf[0]! & 0x0f;
        const len = buf[1]! & 0x7f;
        if (len >= 126 || buf.length < 2 + len) return;
        if (opcode === 8) return resolve(len >= 2 ? buf.readUInt16BE(2) : null);
        buf = buf.subarray(2 + len);
      }
    };
    socket.on('data', onData);
    if (buf.length) onData(Buffer.alloc(0));
    socket.on('close', () => resolve(null));
  });
  return { socket, closeCode };
}

/** One client frame: FIN + opcode, masked unless `mask: false`, with any header bits the test wants to break. */
export function frame(opcode: number, payload: Buffer, opts: { mask?: boolean; rsv?: number; length?: bigint } = {}): Buffer {
  const mask = opts.mask ?? true;
  const len = opts.length ?? BigInt(payload.length);
  const head: number[] = [0x80 | ((opts.rsv ?? 0) << 4) | opcode];
  const m = mask ? 0x80 : 0;
  let ext = Buffer.alloc(0);
  if (len < 126n) head.push(m | Number(len));
  else if (len < 65536n) {
    head.push(m | 126);
    ext = Buffer.alloc(2);
    ext.writeUInt16BE(Number(len));
  } else {
    head.push(m | 127);
    ext = Buffer.alloc(8);
    ext.writeBigUInt64BE(len);
  }
  if (!mask) return Buffer.concat([Buffer.from(head), ext, payload]);
  const key = Buffer.from([1, 2, 3, 4]);
  const masked = Buffer.allocUnsafe(payload.length);
  for (let i = 0; i < payload.length; i++) masked[i] = payload[i]! ^ key[i % 4]!;
  return Buffer.concat([Buffer.from(head), ext, key, masked]);
}

/**
 * A WebSocket call through the `ws` library, authenticated as a non-browser client (Bearer header): the result with
 * its own id (events broadcast meanwhile are skipped).
 */
export async function wsCall(port: number, token: string, channel = 'app:info', arg: unknown = {}): Promise<unknown> {
  return serveInvoke(`http://127.0.0.1:${port}`, token, channel as Channel, arg as never);
}

/** Serve is alive: `GET /` answers 200 and a WebSocket call answers. */
export async function assertAlive(child: ServeChild, token: string): Promise<void> {
  if (child.exitCode() !== undefined) throw new Error(`serve exited with ${child.exitCode()}:\n${child.output()}`);
  const res = await fetch(`http://127.0.0.1:${child.port}/?token=${encodeURIComponent(token)}`);
  if (res.status !== 200) throw new Error(`GET / answered ${res.status}`);
  const info = (await wsCall(child.port, token)) as { ok: boolean };
  if (!info.ok) throw new Error(`app:info answered ${JSON.stringify(info)}`);
}
