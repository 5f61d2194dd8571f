import type { NotifyTemplateConfig } from '../config/types';

/** The notify command's limit on display text (device-commander's MAX_TEXT). */
export const NOTIFY_TEXT_MAX = 64;

/** Fills `{campaign}` and `{index}` (one decimal) into the template's text; cut to what the display takes. */
export function renderNotify(
  t: NotifyTemplateConfig,
  campaign: string,
  index: number,
): { text?: string; led?: string; buzz?: boolean } {
  const out: { text?: string; led?: string; buzz?: boolean } = {};
  if (t.text !== undefined) {
    const text = t.text.replace(/\{campaign\}/g, campaign).replace(/\{index\}/g, index.toFixed(1));
    out.text = text.length > NOTIFY_TEXT_MAX ? text.slice(0, NOTIFY_TEXT_MAX - 1) + '…' : text;
  }
  if (t.led !== undefined) out.led = t.led;
  if (t.buzz !== undefined) out.buzz = t.buzz;
  return out;
}
