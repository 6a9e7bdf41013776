import { describe, expect, it } from "vitest";
import { flatten, group, move, NO_CLIENT, visibleNames } from "../src/logic/group";
import { view } from "./fixture";

const list = [
  view({ name: "zeta", client: "Clearwater" }),
  view({ name: "alpha", client: "clearwater " }),
  view({ name: "loose" }),
  view({ name: "b2", client: "Äpfel GmbH", needs_attention: true }),
  view({ name: "b10", client: "Äpfel GmbH" }),
  view({ name: "m", client: "Bayside", needs_attention: true }),
  view({ name: "n", client: "Bayside", needs_attention: true }),
];

describe("grouping by client", () => {
  it("sorts groups by client with the no-client group last, rows by name", () => {
    const g = group(list, new Set(), "en-AU");
    expect(g.map((x) => x.label)).toEqual(["Äpfel GmbH", "Bayside", "Clearwater", NO_CLIENT]);
    // Numeric collation: b2 before b10.
    expect(g[0].items.map((v) => v.name)).toEqual(["b2", "b10"]);
    // The same client written twice (case, spaces) is one group.
    expect(g[2].items.map((v) => v.name)).toEqual(["alpha", "zeta"]);
  });

  it("counts the connections that need attention per group", () => {
    const g = group(list, new Set(), "en-AU");
    expect(g.map((x) => [x.items.length, x.attention])).toEqual([[2, 1], [2, 2], [2, 0], [1, 0]]);
  });

  it("leaves a collapsed group's rows out of the list and the arrow keys", () => {
    const items = flatten(group(list, new Set(["bayside"]), "en-AU"));
    const names = visibleNames(items);
    expect(names).toEqual(["b2", "b10", "alpha", "zeta", "loose"]);
    expect(items.filter((i) => i.kind === "group")).toHaveLength(4);
  });

  it("moves the selection within the rows shown", () => {
    const names = ["a", "b", "c"];
    expect(move(names, null, 1)).toBe("a");
    expect(move(names, null, -1)).toBe("c");
    expect(move(names, "a", 1)).toBe("b");
    expect(move(names, "c", 1)).toBe("c");
    expect(move(names, "b", -10)).toBe("a");
    expect(move(names, "gone", 1)).toBe("a");
    expect(move([], "a", 1)).toBeNull();
  });
});
