import { useEffect, useMemo, useRef, useState } from 'react';
import type { ConsoleState } from '../core/console-model.js';
import { useDeps } from './context.js';
import { detailLines, type DetailData } from './detail-lines.js';
import type { ScreenLayout } from './layout.js';
import { ScrollView } from './scroll-view.js';

// Enter on a row: the ticket with its runtimes, the tail of its pane, its findings and its activity log.
// It reloads when the controller publishes a new snapshot (no timer of its own) and never overlaps loads.

const EVENT_LIMIT = 40;
const PANE_LINES = 12;

function useTicketDetail(key: string, at: number | null): DetailData {
  const { service } = useDeps();
  const [data, setData] = useState<DetailData>({ detail: null, pane: null, error: null });
  const loading = useRef(false);
  const mounted = useRef(true);
  useEffect(
    () => () => {
      mounted.current = false;
    },
    [],
  );
  useEffect(() => {
    // A load still running when a new snapshot arrives is left to finish; the next snapshot loads again.
    if (loading.current) return;
    loading.current = true;
    void (async () => {
      try {
        const found = await service.ticketDetail(key, { eventLimit: EVENT_LIMIT });
        const detail = found.ok ? found.value : null;
        const tail = detail ? await service.paneTail(key, PANE_LINES) : null;
        const pane: DetailData['pane'] =
          tail === null
            ? null
            : tail.ok
              ? { ok: true, lines: tail.value.lines, status: tail.value.status, explain: tail.value.explain }
              : { ok: false, reason: tail.message };
        if (mounted.current) setData({ detail, pane, error: found.ok ? null : found.message });
      } catch (e) {
        if (mounted.current) setData((d) => ({ ...d, error: e instanceof Error ? e.message : String(e) }));
      } finally {
        loading.current = false;
      }
    })();
  }, [service, key, at]);
  return data;
}

/** The detail view of one ticket. */
export function DetailView(props: { ticketKey: string; state: ConsoleState | null; layout: ScreenLayout }) {
  const { ticketKey, state, layout } = props;
  const data = useTicketDetail(ticketKey, state?.at ?? null);
  const row = state?.rows.find((r) => r.key === ticketKey) ?? null;
  const now = state?.at ?? Date.now();
  const lines = useMemo(
    () => detailLines(ticketKey, row, data, now, layout.columns),
    [ticketKey, row, data, now, layout.columns],
  );
  return <ScrollView lines={lines} height={layout.body} width={layout.columns} />;
}
