import assert from "node:assert/strict";
import { REALTIME_MAXDELTA } from "../protocol/limits.ts";
import { CLOCK_START, ManualClock, relativeExptime, SystemClock } from "./clock.ts";

Deno.test("relativeExptime keeps 0 as never", () => {
  assert.equal(relativeExptime(0, new ManualClock()), 0);
});

Deno.test("relativeExptime makes up to 30 days relative to now", () => {
  const clock = new ManualClock({ now: 100 });
  assert.equal(relativeExptime(1, clock), 101);
  assert.equal(relativeExptime(REALTIME_MAXDELTA, clock), 100 + REALTIME_MAXDELTA);
});

Deno.test("relativeExptime reads more than 30 days as a Unix time", () => {
  const clock = new ManualClock({ now: 100, started: 1_700_000_000 });
  assert.equal(relativeExptime(1_700_000_500, clock), 500);
  // In the past but after the start: at or before now, so already expired.
  assert.equal(relativeExptime(1_700_000_050, clock), 50);
  // At or before the clock's start: memcached's 1.
  assert.equal(relativeExptime(REALTIME_MAXDELTA + 1, clock), 1);
  assert.equal(relativeExptime(1_700_000_000, clock), 1);
});

Deno.test("relativeExptime makes a negative exptime already expired", () => {
  const clock = new ManualClock();
  assert.equal(relativeExptime(-1, clock), 1);
  assert.equal(relativeExptime(-2147483648, clock), 1);
});

Deno.test("ManualClock moves only when advanced", () => {
  const clock = new ManualClock({ started: 1000 });
  assert.equal(clock.now(), CLOCK_START);
  assert.equal(clock.unixTime(), 1000 + CLOCK_START);
  clock.advance(5);
  assert.equal(clock.now(), CLOCK_START + 5);
  assert.throws(() => clock.advance(-1), RangeError);
  assert.throws(() => clock.advance(0.5), RangeError);
  assert.throws(() => new ManualClock({ now: -1 }), RangeError);
});

Deno.test("SystemClock starts at 62 like memcached and tracks Unix time", () => {
  const clock = new SystemClock();
  const now = clock.now();
  assert.ok(now === CLOCK_START || now === CLOCK_START + 1, `now() is ${now}`);
  assert.ok(Math.abs(clock.unixTime() - Date.now() / 1000) <= 1.5);
  assert.equal(clock.started + clock.now(), clock.unixTime());
});
