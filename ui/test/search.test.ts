import { describe, expect, it } from "vitest";
import { filter } from "../src/logic/search";
import { view } from "./fixture";

const list = [
  view({ name: "acme-payroll", client: "Clearwater", vendor: "books", vendor_label: "Books Online API", account: "Clearwater Pty Ltd",
    details: [{ key: "user", label: "User", env: "BOOKS_USER", value: "kate@example.com" }] }),
  view({ name: "shop", client: "Bayside", note: "Nightly order sync" }),
  view({ name: "roma-ledger", client: "Café Rōma", vendor: "books-erp", vendor_label: "Books ERP", account: "Tenant ROMA" }),
];
const names = (q: string) => filter(list, q).map((v) => v.name);

describe("search", () => {
  it("finds by name, client, vendor, account, note and account details", () => {
    expect(names("payroll")).toEqual(["acme-payroll"]);
    expect(names("bayside")).toEqual(["shop"]);
    expect(names("erp")).toEqual(["roma-ledger"]);
    expect(names("pty")).toEqual(["acme-payroll"]);
    expect(names("nightly")).toEqual(["shop"]);
    expect(names("kate@")).toEqual(["acme-payroll"]);
    expect(names("books")).toEqual(["acme-payroll", "roma-ledger"]);
  });

  it("needs every word, ignores case and accents, and a blank query shows all", () => {
    expect(names("books roma")).toEqual(["roma-ledger"]);
    expect(names("cafe")).toEqual(["roma-ledger"]);
    expect(names("CLEARWATER payroll")).toEqual(["acme-payroll"]);
    expect(names("clearwater nightly")).toEqual([]);
    expect(names("   ")).toEqual(["acme-payroll", "shop", "roma-ledger"]);
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
