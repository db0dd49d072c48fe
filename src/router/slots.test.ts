import { describe, expect, test } from "bun:test";
import { affinityKey, Slots } from "./slots.ts";

describe("Slots", () => {
  test("each session keeps its own slot; a new one takes a free slot", () => {
    const slots = new Slots(2);
    expect(slots.slotFor("h", "s1")).toBe(0);
    expect(slots.slotFor("h", "s2")).toBe(1);
    expect(slots.slotFor("h", "s1")).toBe(0);
    expect(slots.slotFor("h", "s2")).toBe(1);
  });

  test("more sessions than slots: the least recently used gives its slot up", () => {
    const slots = new Slots(2);
    slots.slotFor("h", "s1");
    slots.slotFor("h", "s2");
    slots.slotFor("h", "s1");
    expect(slots.slotFor("h", "s3")).toBe(1); // s2 was used least recently
    expect(slots.slotFor("h", "s1")).toBe(0);
  });

  test("hosts count apart", () => {
    const slots = new Slots(1);
    expect(slots.slotFor("h1", "s1")).toBe(0);
    expect(slots.slotFor("h2", "s2")).toBe(0);
  });
});

describe("affinityKey", () => {
  test("session and agent; the main agent by default; none without a session", () => {
    expect(affinityKey(new Headers(), "s")).toBe("s\u0000main");
    expect(affinityKey(new Headers({ "x-claude-code-agent-id": "a1" }), "s")).toBe("s\u0000a1");
    expect(affinityKey(new Headers({ "x-claude-code-agent-id": "a1" }), null)).toBeUndefined();
  });
});
