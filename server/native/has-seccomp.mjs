// Prints 1 when libseccomp's header is installed (Debian: libseccomp-dev), else 0. binding.gyp builds the sandbox
// helper only then; without it the relay cannot isolate sandboxes and says so (the file-system addon builds anyway).
import { spawnSync } from 'node:child_process';

const compiler = process.env.CC || 'cc';
const probe = spawnSync(compiler, ['-E', '-x', 'c', '-'], { input: '#include <seccomp.h>\n', stdio: ['pipe', 'ignore', 'ignore'] });
process.stdout.write(probe.status === 0 ? '1' : '0');
