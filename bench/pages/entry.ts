// The bench page's bundle: our element, plus a bare xterm for the no-network reference.
import '@sandbox-terminal/elements';
import * as XTerm from '@xterm/xterm';
import './bench-page.ts';

(window as unknown as { XTerm: typeof XTerm }).XTerm = XTerm;
