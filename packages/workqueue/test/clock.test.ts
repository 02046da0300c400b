import { describe, expect, it } from "vitest";
import { FakeClock, flushPromises, realClock, sleep } from "../src/index.ts";

describe("FakeClock", () => {
  it("fires timers in due order (ties in arming order) as time advances", () => {
    const clock = new FakeClock(1000);
    const fired: string[] = [];
    clock.setTimer(() => fired.push("b"), 20);
    clock.setTimer(() => fired.push("a"), 10);
    clock.setTimer(() => fired.push("b2"), 20);
    const stopped = clock.setTimer(() => fired.push("never"), 15);
    stopped.stop();
    expect(clock.pendingTimers()).toBe(3);
    expect(clock.nextTimerAt()).toBe(1010);
    expect(clock.advance(15)).toBe(1);
    expect(clock.now()).toBe(1015);
    expect(clock.advance(10)).toBe(2);
    expect(fired).toEqual(["a", "b", "b2"]);
    expect(clock.timersCreated()).toBe(4);
  });

  it("fires timers armed by callbacks within the same advance", () => {
    const clock = new FakeClock();
    const at: number[] = [];
    const tick = () => {
      at.push(clock.now());
      if (at.length < 3) clock.setTimer(tick, 10);
    };
    clock.setTimer(tick, 10);
    clock.advance(100);
    expect(at).toEqual([10, 20, 30]);
  });

  it("refuses to go backwards", () => {
    const clock = new FakeClock(50);
    expect(() => clock.advance(-1)).toThrow(RangeError);
    expect(() => clock.setTime(10)).toThrow(RangeError);
    clock.setTime(60);
    expect(clock.now()).toBe(60);
  });

  it("advanceAsync lets async code re-arm timers between firings", async () => {
    const clock = new FakeClock();
    const wakes: number[] = [];
    const loop = (async () => {
      for (let i = 0; i < 3; i++) {
        await sleep(clock, 100);
        wakes.push(clock.now());
      }
    })();
    await clock.advanceAsync(1000);
    await loop;
    expect(wakes).toEqual([100, 200, 300]);
  });
});

describe("sleep", () => {
  it("rejects with the abort reason and stops its timer", async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    const slept = sleep(clock, 100, controller.signal);
    controller.abort(new Error("cancelled"));
    await expect(slept).rejects.toThrow("cancelled");
    expect(clock.pendingTimers()).toBe(0);
    await expect(sleep(clock, 5, AbortSignal.abort(new Error("early")))).rejects.toThrow("early");
  });

  it("works on the real clock", async () => {
    await sleep(realClock, 0);
    await flushPromises();
    expect(realClock.now()).toBeGreaterThan(0);
  });
});
