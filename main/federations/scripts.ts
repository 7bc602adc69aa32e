/**
 * The fixed POSIX scripts the federation operations run on machines, one round trip each.
 *
 * Each runs as `sh -c SCRIPT sh ARG…` through `Machine.exec` (argv: quoted by `shellQuote` over SSH, spawned without a
 * shell locally), so data only ever arrives as `"$1"`, `"$2"` and is never parsed as shell syntax.
 */

/** argv for running a script with positional arguments. */
export function scriptArgv(script: string, ...args: string[]): string[] {
  return ['sh', '-c', script, 'sh', ...args];
}

// "$1" = tmp_dir, "$2" = a recorded pid or ''. Prints `alive|dead|gone`.
// A zombie answers kill -0 but is dead; where /proc exists its state letter tells.
const ALIVE_FN =
  'alive() { case "$1" in ""|*[!0-9]*) return 1;; esac; kill -0 "$1" 2>/dev/null || test -d "/proc/$1" || return 1; ' +
  'test -r "/proc/$1/stat" || return 0; case "$(sed -e "s/.*) //" "/proc/$1/stat")" in Z*|X*) return 1;; esac; return 0; }; ';

/**
 * Stop one machine: touch shutdown.fl in the kit folder; say whether the participant process was alive. "$3" = the
 * temp root. Prints `symlink` or `refused` (the folder's real path is `/` or the temp root) and touches nothing then.
 */
export const STOP_SCRIPT =
  ALIVE_FN +
  'd=$1; if test -L "$d"; then echo symlink; exit 0; fi; test -d "$d" || { echo gone; exit 0; }; ' +
  'real=$(cd -P -- "$d" && pwd -P) || exit 3; root=$(cd -P -- "${3:-/tmp}" 2>/dev/null && pwd -P); ' +
  'if [ "$real" = / ] || [ "$real" = "$root" ]; then echo refused; exit 0; fi; ' +
  'p=""; test -f "$d/pid.fl" && p=$(head -n 1 -- "$d/pid.fl"); test -z "$p" && p=$2; ' +
  'touch -- "$d/shutdown.fl" || exit 3; ' +
  'if alive "$p"; then echo alive; else echo dead; fi';

/**
 * Probe one machine (read-only). Prints `nodir`, or `<alive|dead> <shutdown yes|no>` then the last log line.
 */
export const PROBE_SCRIPT =
  ALIVE_FN +
  'd=$1; test -d "$d" || { echo nodir; exit 0; }; ' +
  'p=""; test -f "$d/pid.fl" && p=$(head -n 1 -- "$d/pid.fl"); test -z "$p" && p=$2; ' +
  'if alive "$p"; then a=alive; else a=dead; fi; ' +
  'if test -e "$d/shutdown.fl"; then s=yes; else s=no; fi; ' +
  'echo "$a $s"; test -f "$d/log.txt" && tail -n 1 -- "$d/log.txt"; exit 0';

// Is the kit's participant or its supervisor (FLARE's pid.fl / daemon_pid.fl) alive in folder "$1"?
const RUNNING_FN =
  ALIVE_FN + 'running() { for f in pid.fl daemon_pid.fl; do test -f "$1/$f" && alive "$(head -n 1 -- "$1/$f")" && return 0; done; return 1; }; ';

/**
 * Check a recorded temp folder before removal: `missing`, `symlink`, `notdir`, or `dir` followed by the folder's real
 * path, the temp root's real path and `running|stopped` (one per line). "$1" = folder, "$2" = temp root.
 */
export const CHECK_SCRIPT =
  RUNNING_FN +
  'd=$1; r=$2; ' +
  'if test -L "$d"; then echo symlink; exit 0; fi; ' +
  'test -e "$d" || { echo missing; exit 0; }; ' +
  'test -d "$d" || { echo notdir; exit 0; }; ' +
  'real=$(cd -P -- "$d" && pwd -P) || exit 3; root=$(cd -P -- "$r" && pwd -P) || exit 3; ' +
  'if running "$d"; then st=running; else st=stopped; fi; ' +
  'printf "dir\\n%s\\n%s\\n%s\\n" "$real" "$root" "$st"';

/** In a verified kit folder "$1": touch shutdown.fl while the kit still runs; prints `running|stopped`. */
export const SETTLE_SCRIPT = RUNNING_FN + 'd=$1; if running "$d"; then touch -- "$d/shutdown.fl"; echo running; else echo stopped; fi';

/**
 * After launching `startup/start.sh` in folder "$1": wait (up to ~3 s) until the kit's supervisor or participant wrote
 * its pid file (FLARE's start.sh returns before they exist) and print that PID; exit 1 if none appeared. Until then
 * a clean could see no running kit and remove a folder a participant is about to start in.
 */
export const LAUNCHED_SCRIPT =
  'd=$1; i=0; while [ "$i" -lt 60 ]; do ' +
  'for f in daemon_pid.fl pid.fl; do p=""; test -s "$d/$f" && p=$(head -n 1 -- "$d/$f"); ' +
  'case "$p" in ""|*[!0-9]*) ;; *) echo "$p"; exit 0;; esac; done; ' +
  'sleep 0.05 2>/dev/null || sleep 1; i=$((i + 1)); done; exit 1';
