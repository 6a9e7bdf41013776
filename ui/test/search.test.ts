import { describe, expect, it } from "vitest";
import { filter } from "../src/logic/search";
import { view } from "./fixture";

const list = [
  view({ name: "acme-payroll", client: "Clearwater", vendor: "myob", vendor_label: "MYOB Business API", account: "Clearwater Pty Ltd",
    details: [{ key: "user", label: "my.MYOB user", env: "MYOB_USER", value: "kate@example.com" }] }),
  view({ name: "shop", client: "Bayside", note: "Nightly order sync" }),
  view({ name: "erp", client: "Café Rōma", vendor: "myob-advanced", vendor_label: "MYOB Advanced", account: "Tenant ROMA" }),
];
const names = (q: string) => filter(list, q).map((v) => v.name);

describe("search", () => {
  it("finds by name, client, vendor, account, note and account details", () => {
    expect(names("payroll")).toEqual(["acme-payroll"]);
    expect(names("bayside")).toEqual(["shop"]);
    expect(names("advanced")).toEqual(["erp"]);
    expect(names("pty")).toEqual(["acme-payroll"]);
    expect(names("nightly")).toEqual(["shop"]);
    expect(names("kate@")).toEqual(["acme-payroll"]);
    expect(names("myob")).toEqual(["acme-payroll", "erp"]);
  });

  it("needs every word, ignores case and accents, and a blank query shows all", () => {
    expect(names("myob roma")).toEqual(["erp"]);
    expect(names("cafe")).toEqual(["erp"]);
    expect(names("CLEARWATER payroll")).toEqual(["acme-payroll"]);
    expect(names("clearwater nightly")).toEqual([]);
    expect(names("   ")).toEqual(["acme-payroll", "shop", "erp"]);
  });

  it("filters 1,000 connections well within a frame", () => {
    const many = Array.from({ length: 1000 }, (_, i) => view({ name: `c${String(i).padStart(4, "0")}`, client: `Client ${i % 8}`, note: i === 777 ? "the one" : null }));
    filter(many, "warm-up");
    const t0 = performance.now();
    const found = filter(many, "the one");
    const ms = performance.now() - t0;
    expect(found.map((v) => v.name)).toEqual(["c0777"]);
    expect(ms).toBeLessThan(16);
  });
});
