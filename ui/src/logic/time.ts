// Dates and times in the system locale (Rust passes it: LANG=en_AU.UTF-8 → "en-AU"), and
// the compact "time left" of a row. Pure functions of (timestamp, now, locale).

const cache = new Map<string, Intl.DateTimeFormat>();

function fmt(locale: string, opts: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale}|${JSON.stringify(opts)}`;
  let f = cache.get(key);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat(locale, opts);
    } catch {
      f = new Intl.DateTimeFormat(undefined, opts);
    }
    cache.set(key, f);
  }
  return f;
}

const DATE: Intl.DateTimeFormatOptions = { day: "2-digit", month: "2-digit", year: "numeric" };
const TIME: Intl.DateTimeFormatOptions = { hour: "2-digit", minute: "2-digit" };

/** A calendar date: en-AU 24/11/2027, en-US 11/24/2027. `ts` in unix seconds. */
export function formatDate(ts: number, locale: string): string {
  return fmt(locale, DATE).format(new Date(ts * 1000));
}

/** Date and time of day in the locale's own order and clock. */
export function formatDateTime(ts: number, locale: string): string {
  return fmt(locale, { ...DATE, ...TIME }).format(new Date(ts * 1000));
}

/** Only the time when `ts` is today, else date and time. */
export function formatWhen(ts: number, now: number, locale: string): string {
  const d = new Date(ts * 1000);
  const today = new Date(now * 1000);
  if (d.toDateString() === today.toDateString()) return fmt(locale, TIME).format(d);
  return formatDateTime(ts, locale);
}

const rtfCache = new Map<string, Intl.RelativeTimeFormat>();

/** "in 3 days", "2 hours ago", "now", in the locale's words. */
export function relative(ts: number, now: number, locale: string): string {
  let rtf = rtfCache.get(locale);
  if (!rtf) {
    try {
      rtf = new Intl.RelativeTimeFormat(locale, { numeric: "auto" });
    } catch {
      rtf = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
    }
    rtfCache.set(locale, rtf);
  }
  const s = ts - now;
  const a = Math.abs(s);
  if (a < 45) return rtf.format(0, "second");
  if (a < 3600) return rtf.format(Math.round(s / 60), "minute");
  if (a < 86400) return rtf.format(Math.round(s / 3600), "hour");
  if (a < 60 * 86400) return rtf.format(Math.round(s / 86400), "day");
  if (a < 365 * 86400) return rtf.format(Math.round(s / (30 * 86400)), "month");
  return rtf.format(Math.round(s / (365 * 86400)), "year");
}

/** A date with its relative time: "24/11/2027 (in 11 months)". */
export function dateWithRelative(ts: number, now: number, locale: string): string {
  return `${formatDateTime(ts, locale)} (${relative(ts, now, locale)})`;
}

/** The row's "time left": "59s", "19m 59s", "3h 12m", "12d", "Expired", "" (no expiry). */
export function timeLeft(expiresAt: number | null | undefined, now: number): string {
  if (expiresAt == null) return "";
  const s = expiresAt - now;
  if (s <= 0) return "Expired";
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  if (s < 2 * 86400) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  return `${Math.floor(s / 86400)}d`;
}

/** The countdown of the waiting panel: "4:59". */
export function countdown(left: number): string {
  return `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
}
