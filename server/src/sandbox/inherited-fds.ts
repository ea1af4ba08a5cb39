/**
 * node-pty opens every PTY master without close-on-exec, so each process the relay starts later inherits the
 * terminal masters of all sessions started before it, of every sandbox. Inside a sandbox, root can take a descriptor
 * from any process there (`pidfd_getfd`) and so could read another session's output or type into its shell. Every
 * process that enters a sandbox is therefore started through this: a host-side bash that closes each descriptor above
 * stderr (except `keep`) and then execs the real command.
 */
export function withoutInheritedFds([command, args]: [string, string[]], keep: number[] = []): [string, string[]] {
  // Multi-digit descriptors need bash (dash redirects only 0-9). The glob is read before any close, so its own
  // directory descriptor is listed but already gone: closing it again is harmless.
  const kept = keep.map((fd) => ` && [ "$fd" != ${fd} ]`).join('');
  const script = `for fd in /proc/$$/fd/*; do fd=\${fd##*/}; if [ "$fd" -gt 2 ]${kept}; then eval "exec $fd<&-"; fi; done; exec "$@"`;
  // No startup file of the host may run here: --posix skips BASH_ENV, --norc the ~/.bashrc that Debian's bash reads
  // when its stdin is a socket (as child_process's pipes are).
  return ['/bin/bash', ['--norc', '--posix', '-c', script, 'bash', command, ...args]];
}
