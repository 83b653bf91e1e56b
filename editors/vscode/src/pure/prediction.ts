// Edit prediction without VS Code: the `prediction` settings object, the toggle's state and its tooltip.

import { userValue, type Inspected, type Layers } from "./settings";

/** The server's `prediction` keys, each a `kimi.prediction.<key>` setting of its own. */
export const PREDICTION_KEYS = ["enabled", "debounceMs", "nextEdit", "maxCostPerHour"] as const;

export type PredictionKey = (typeof PREDICTION_KEYS)[number];

/** Read only from the user's own settings: a workspace must not raise what the user pays per hour. */
const USER_ONLY: ReadonlySet<PredictionKey> = new Set(["maxCostPerHour"]);

/**
 * The `prediction` object for the server: the user-set `kimi.prediction.*` values (the server
 * merges key by key, so the rest keep its defaults), with `enabled` forced off while snoozed or
 * in Restricted Mode. Undefined when nothing is set and nothing is forced.
 */
export function predictionWire(
  inspect: (key: string) => Inspected | undefined,
  trusted: boolean,
  forcedOff: boolean,
): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const key of PREDICTION_KEYS) {
    const layers: Layers = trusted && !USER_ONLY.has(key) ? "all" : "user";
    const value = userValue(inspect(`prediction.${key}`), layers);
    if (value !== undefined) out[key] = value;
  }
  if (forcedOff) out.enabled = false;
  return Object.keys(out).length ? out : undefined;
}

/** What the toggle shows: on, off (the setting), snoozed (until a time) or restricted (untrusted workspace). */
export type PredictionMode = "on" | "off" | "snoozed" | "restricted";

export function predictionMode(opts: { enabled: boolean; trusted: boolean; snoozedUntil: number | undefined; now: number }): PredictionMode {
  if (!opts.trusted) return "restricted";
  if (!opts.enabled) return "off";
  if (opts.snoozedUntil !== undefined && opts.snoozedUntil > opts.now) return "snoozed";
  return "on";
}

/** "14 min" / "1 h 5 min" left of a snooze (rounded up to the minute). */
export function remaining(until: number, now: number): string {
  const minutes = Math.max(1, Math.ceil((until - now) / 60000));
  if (minutes < 60) return `${minutes} min`;
  const rest = minutes % 60;
  return rest ? `${Math.floor(minutes / 60)} h ${rest} min` : `${minutes / 60} h`;
}

/** The status bar text of the toggle (a codicon and a word). */
export function modeText(mode: PredictionMode, until: number | undefined, now: number): string {
  if (mode === "on") return "$(sparkle) Predict";
  if (mode === "snoozed" && until !== undefined) return `$(clock) Predict ${remaining(until, now)}`;
  return "$(circle-slash) Predict";
}

/** `kimi/status.prediction` (the fields shown here). */
export interface PredictionStats {
  enabled?: boolean;
  made?: number;
  shown?: number;
  accepted?: number;
  rejected?: number;
  ignored?: number;
  cost?: number;
  costLastHour?: number;
  maxCostPerHour?: number;
  capped?: number;
}

function n(value: number | undefined): string {
  return typeof value === "number" && Number.isFinite(value) ? String(value) : "0";
}

function dollars(value: number | undefined): string {
  return typeof value === "number" && Number.isFinite(value) ? `$${value.toFixed(4)}` : "$0.0000";
}

/** The toggle's tooltip: the mode in a sentence, then the server's counts and cost. */
export function modeTooltip(mode: PredictionMode, until: number | undefined, now: number, stats: PredictionStats | undefined): string {
  const head = {
    on: "Kimi edit prediction is on (ghost text and next-edit suggestions). Click to turn off or snooze.",
    off: "Kimi edit prediction is off (kimi.prediction.enabled). Click to turn it on.",
    snoozed: `Kimi edit prediction is snoozed for ${until !== undefined ? remaining(until, now) : "a while"}. Click to resume.`,
    restricted: "Kimi edit prediction is off in Restricted Mode: trust the workspace to use it.",
  }[mode];
  if (!stats) return head;
  const lines = [
    head,
    `Predictions: ${n(stats.made)} made, ${n(stats.shown)} shown, ${n(stats.accepted)} accepted, ${n(stats.rejected)} rejected, ${n(stats.ignored)} ignored`,
    `Cost: ${dollars(stats.cost)} (last hour ${dollars(stats.costLastHour)} of ${dollars(stats.maxCostPerHour)} allowed)`,
  ];
  if (stats.capped) lines.push(`${n(stats.capped)} request(s) skipped at the hourly cap (kimi.prediction.maxCostPerHour)`);
  return lines.join("\n");
}
