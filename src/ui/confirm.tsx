import type { Finding } from '../core/findings.js';
import { sanitizeLine } from '../core/sanitize.js';
import { commandOf, keysLabel } from './keymap.js';
import type { ScreenLayout } from './layout.js';
import { planLines } from './plan.js';
import { ScrollView } from './scroll-view.js';
import { wrap, type ViewLine } from './text.js';

// Confirmation before something that cannot be undone: retiring a runtime, applying a reconcile plan.
// The keys to answer come from the keymap.

/** The answer line: which key confirms, which cancels. */
export function answerLine(what: string): ViewLine {
  return {
    text: `${keysLabel(commandOf('confirm.yes'))} ${what}   ${keysLabel(commandOf('confirm.no'))} cancel`,
    style: 'heading',
  };
}

/** A yes/no question over the body. */
export function Confirm(props: { question: string; yes: string; layout: ScreenLayout }) {
  const { layout } = props;
  const lines: ViewLine[] = [
    ...wrap(sanitizeLine(props.question), layout.columns).map((text) => ({ text, style: 'warn' as const })),
    { text: '' },
    answerLine(props.yes),
  ];
  return <ScrollView lines={lines} height={layout.body} width={layout.columns} />;
}

/** The dry-run plan of `R`, with what `y` applies. */
export function PlanConfirm(props: { findings: readonly Finding[]; layout: ScreenLayout }) {
  const { layout } = props;
  const lines = [answerLine('apply this plan now (reconcile auto)'), ...planLines(props.findings)];
  return <ScrollView lines={lines} height={layout.body} width={layout.columns} />;
}
