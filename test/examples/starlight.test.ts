// examples/starlight: the Starlight plugin (remark plugin + page script), built with `astro build`.
import { describeExample } from './reader-flows.ts';

describeExample('starlight', { outputDir: 'dist', first: '/', second: '/second/' });
