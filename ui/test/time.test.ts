import { describe, expect, it } from "vitest";
import { countdown, formatDate, formatDateTime, relative, timeLeft } from "../src/logic/time";

// 2027-11-24 01:00 UTC: the same calendar day in Australia and the US.
const ts = Date.UTC(2027, 10, 24, 1, 0) / 1000;

describe("dates in the system locale", () => {
  it("puts the day first in en-AU and the month first in en-US", () => {
    expect(formatDate(ts, "en-AU")).toBe("24/11/2027");
    expect(formatDate(ts, "en-US")).toBe("11/24/2027");
    expect(formatDate(ts, "de-DE")).toBe("24.11.2027");
    expect(formatDateTime(ts, "en-AU")).toContain("24/11/2027");
  });

  it("falls back instead of throwing on a bad locale", () => {
    expect(() => formatDate(ts, "not a locale!")).not.toThrow();
  });

  it("says how far off a date is in the locale's words", () => {
    const now = ts - 3 * 86400;
    expect(relative(ts, now, "en-AU")).toBe("in 3 days");
    expect(relative(now - 7200, now, "en-AU")).toBe("2 hours ago");
    expect(relative(now + 10, now, "en-AU")).toBe("now");
    expect(relative(ts, now, "de-DE")).toBe("in 3 Tagen");
  });

  it("counts down a row's time left compactly", () => {
    expect(timeLeft(null, 0)).toBe("");
    expect(timeLeft(100, 100)).toBe("Expired");
    expect(timeLeft(145, 100)).toBe("45s");
    expect(timeLeft(100 + 19 * 60 + 59, 100)).toBe("19m 59s");
    expect(timeLeft(100 + 3 * 3600 + 12 * 60, 100)).toBe("3h 12m");
    expect(timeLeft(100 + 12 * 86400, 100)).toBe("12d");
    expect(countdown(299)).toBe("4:59");
  });
});
