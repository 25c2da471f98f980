import { FIELD_SEP } from '../../src/probes/tmux-protocol.js';

type Field =
  'session' | 'win' | 'pane' | 'id' | 'pid' | 'dead' | 'status' | 'signal' | 'created' | 'activity' | 'tag' | 'cmd';

/** One line of `list-panes -a -F PANE_FORMAT` output as tmux prints it, with overridable fields. */
export function paneLine(p: Partial<Record<Field, string>> = {}): string {
  return [
    p.session ?? 'mc-MC-1',
    p.win ?? '0',
    p.pane ?? '0',
    p.id ?? '%0',
    p.pid ?? '4242',
    p.dead ?? '0',
    p.status ?? '',
    p.signal ?? '',
    p.created ?? '1795569990',
    p.activity ?? '1795570001',
    p.tag ?? 'store-1',
    p.cmd ?? 'node',
  ].join(FIELD_SEP);
}
