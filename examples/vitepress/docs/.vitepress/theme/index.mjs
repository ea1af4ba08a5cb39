import DefaultTheme from 'vitepress/theme';
import { withRunnableBlocks } from '@sandbox-terminal/docs/vitepress';

export default withRunnableBlocks(DefaultTheme);
