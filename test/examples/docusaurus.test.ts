// examples/docusaurus: the Docusaurus plugin and the remark plugin, built with `docusaurus build`.
import { describeExample } from './reader-flows.ts';

describeExample('docusaurus', { outputDir: 'build', first: '/', second: '/second' });
