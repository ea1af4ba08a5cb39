/**
 * What a key pressed on a focused tab of `<session-tabs>` does, as WAI-ARIA's tabs pattern has it (roving tabindex):
 * arrows, Home and End move to another tab; F2 renames, Delete asks to close, Enter and Space go to its terminal.
 */
export type TabKeyAction = { move: number } | { act: 'rename' | 'close' | 'focus-terminal' };

export function tabKeyAction(key: string, index: number, count: number): TabKeyAction | undefined {
  switch (key) {
    case 'ArrowRight':
      return { move: (index + 1) % count };
    case 'ArrowLeft':
      return { move: (index - 1 + count) % count };
    case 'Home':
      return { move: 0 };
    case 'End':
      return { move: count - 1 };
    case 'F2':
      return { act: 'rename' };
    case 'Delete':
      return { act: 'close' };
    case 'Enter':
    case ' ':
      return { act: 'focus-terminal' };
    default:
      return undefined;
  }
}
