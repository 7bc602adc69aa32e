/**
 * Generates startup kits that behave like NVIDIA FLARE's, for tests, the demo and benchmarks — no Python needed:
 *
 * - `startup/start.sh` starts `startup/sub_start.sh` in the background and returns at once;
 * - `sub_start.sh` supervises the participant process (`startup/fl_process.sh`): writes `daemon_pid.fl` and
 *   `pid.fl`, restarts it when it crashes, and gives up after 5 crashes within 300 s;
 * - the process appends a heartbeat line to `log.txt` every second and exits when `shutdown.fl` appears in the kit
 *   folder; the supervisor then removes its markers (`pid.fl`, `daemon_pid.fl`, `shutdown.fl`), as FLARE does.
 * - a `crash.fl` file in the kit folder makes the process exit with code 3 at once (to exercise the crash limit).
 *
 * Plain POSIX sh, exec bits set.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';

export interface KitParticipant {
  readonly name: string;
  readonly type: 'server' | 'client' | 'admin' | 'overseer';
}

export interface GenerateKitsOptions {
  /** Extra payload files per kit under `custom/` (default 0). */
  readonly extraFiles?: number;
  /** Total payload bytes per kit, spread over the extra files (default 0). */
  readonly bytes?: number;
  /** Seconds the supervisor waits before restarting a crashed process (default 1). */
  readonly restartDelaySec?: number;
}

export interface GeneratedKit {
  readonly name: string;
  readonly type: KitParticipant['type'];
  /** Absolute path of the kit folder (`<outDir>/<name>`). */
  readonly path: string;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._@-]*$/;

const START_SH = `#!/bin/sh
# Starts this participant in the background, like NVIDIA FLARE's start.sh; sub_start.sh supervises it.
DIR=$(cd "$(dirname "$0")" && pwd)
echo "WORKSPACE set to $DIR/.."
"$DIR/sub_start.sh" </dev/null >>"$DIR/../log.txt" 2>&1 &
`;

function subStartSh(restartDelaySec: number): string {
  return `#!/bin/sh
# Supervises the participant process like FLARE's sub_start.sh: restart on crash, give up after MAX_CRASHES crashes
# within WINDOW seconds, stop when shutdown.fl appears in the kit folder.
DIR=$(cd "$(dirname "$0")" && pwd)
KIT=$(dirname "$DIR")
MAX_CRASHES=5
WINDOW=300
RESTART_DELAY=${restartDelaySec}
cd "$KIT" || exit 1

log() { echo "$(date '+%Y-%m-%d %H:%M:%S') $*" >>"$KIT/log.txt"; }
cleanup() { rm -f "$KIT/pid.fl" "$KIT/daemon_pid.fl" "$KIT/shutdown.fl" "$KIT/restart.fl"; }

if [ -f daemon_pid.fl ] && kill -0 "$(cat daemon_pid.fl)" 2>/dev/null; then
  log "already running (daemon pid $(cat daemon_pid.fl))"
  exit 1
fi
echo $$ >daemon_pid.fl

child=""
trap 'kill "$child" 2>/dev/null; cleanup; log "supervisor terminated"; exit 143' TERM INT HUP

crashes=""
while :; do
  "$DIR/fl_process.sh" &
  child=$!
  echo "$child" >pid.fl
  log "started participant process (pid $child)"
  wait "$child"
  code=$?
  if [ -f shutdown.fl ]; then
    cleanup
    log "shutdown requested: stopped"
    exit 0
  fi
  now=$(date +%s)
  recent=""
  n=0
  for t in $crashes $now; do
    if [ $((now - t)) -lt "$WINDOW" ]; then
      recent="$recent $t"
      n=$((n + 1))
    fi
  done
  crashes=$recent
  log "participant process exited with code $code ($n crashes within $WINDOW s)"
  if [ "$n" -ge "$MAX_CRASHES" ]; then
    log "system is in trouble and unable to start the task: giving up"
    cleanup
    exit 1
  fi
  sleep "$RESTART_DELAY"
done
`;
}

function flProcessSh(name: string, type: string): string {
  return `#!/bin/sh
# Stands in for FLARE's participant process: a heartbeat line in log.txt every second until shutdown.fl appears.
DIR=$(cd "$(dirname "$0")" && pwd)
KIT=$(dirname "$DIR")
cd "$KIT" || exit 1
NAME='${name}'
ROLE='${type}'
if [ -f crash.fl ]; then
  echo "$(date '+%Y-%m-%d %H:%M:%S') $NAME: simulated crash (crash.fl present)" >>log.txt
  exit 3
fi
n=0
while [ ! -f shutdown.fl ]; do
  n=$((n + 1))
  echo "$(date '+%Y-%m-%d %H:%M:%S') $NAME ($ROLE) heartbeat $n" >>log.txt
  sleep 1
done
echo "$(date '+%Y-%m-%d %H:%M:%S') $NAME: shutdown.fl seen, exiting" >>log.txt
exit 0
`;
}

/** Reads FLARE project.yml participants (name, type). */
export async function readParticipants(projectYml: string): Promise<KitParticipant[]> {
  const doc = parse(await readFile(projectYml, 'utf8')) as { participants?: { name?: unknown; type?: unknown }[] };
  return (doc.participants ?? []).map((p) => ({ name: String(p.name), type: String(p.type) as KitParticipant['type'] }));
}

/**
 * Writes one FLARE-like kit per non-admin participant into `<outDir>/<name>` and returns them. `project` is a
 * project.yml path or the participant list.
 */
export async function generateKits(project: string | readonly KitParticipant[], outDir: string, opts: GenerateKitsOptions = {}): Promise<GeneratedKit[]> {
  const participants = typeof project === 'string' ? await readParticipants(project) : project;
  const extraFiles = Math.max(0, Math.floor(opts.extraFiles ?? 0));
  const bytes = Math.max(0, Math.floor(opts.bytes ?? 0));
  const delay = opts.restartDelaySec ?? 1;
  if (!Number.isFinite(delay) || delay < 0) throw new Error('restartDelaySec must be a non-negative number');
  const kits: GeneratedKit[] = [];
  for (const p of participants) {
    if (p.type === 'admin') continue;
    if (!NAME_RE.test(p.name)) throw new Error(`invalid participant name ${JSON.stringify(p.name)}`);
    const kit = join(outDir, p.name);
    const startup = join(kit, 'startup');
    await mkdir(startup, { recursive: true });
    await mkdir(join(kit, 'local'), { recursive: true });
    await mkdir(join(kit, 'transfer'), { recursive: true });
    const scripts: [string, string][] = [
      ['start.sh', START_SH],
      ['sub_start.sh', subStartSh(delay)],
      ['fl_process.sh', flProcessSh(p.name, p.type)],
    ];
    for (const [file, text] of scripts) {
      await writeFile(join(startup, file), text);
      await chmod(join(startup, file), 0o755);
    }
    const fedConfig = p.type === 'server' ? 'fed_server.json' : 'fed_client.json';
    await writeFile(join(startup, fedConfig), `${JSON.stringify({ format_version: 2, participant: p.name, role: p.type }, null, 2)}\n`);
    await writeFile(join(kit, 'readme.txt'), `Startup kit for ${p.name} (${p.type}), generated by Clusterdesk for tests and demos.\n`);
    if (extraFiles > 0) {
      const custom = join(kit, 'custom');
      await mkdir(custom, { recursive: true });
      const per = Math.floor(bytes / extraFiles);
      for (let i = 0; i < extraFiles; i++) {
        const size = i === extraFiles - 1 ? bytes - per * (extraFiles - 1) : per;
        // Incompressible content, so transfer benchmarks measure real bytes.
        await writeFile(join(custom, `part-${String(i).padStart(4, '0')}.bin`), randomBytes(size));
      }
    }
    kits.push({ name: p.name, type: p.type, path: kit });
  }
  return kits;
}
