/**
 * `bash -c` arguments that enter `cwd` and then run `command` exactly as `bash -c command` would, with no
 * positional parameters left over. Shared by every backend so a one-off exec behaves the same everywhere.
 */
export function oneShotBashArgs(command: string, cwd: string): string[] {
  const script = '__st_c=$2; builtin cd -- "$1" || exit 1; set --; eval "$__st_c"';
  return ['-c', script, 'bash', cwd, command];
}
