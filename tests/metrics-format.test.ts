/** The Prometheus text format's label escaping, and the repeated-query-key guard of every request. */
import { describe, expect, test } from "bun:test";
import { repeatedQueryKey } from "../src/app.ts";
import { Counter } from "../src/metrics.ts";

describe("metric labels", () => {
  test('plain values are written as they are; \\, " and newlines are escaped', () => {
    const counter = new Counter("pt_test_total", "test");
    counter.inc({ route: "/tracking", status: "200" });
    counter.inc({ route: "/tracking", status: "200" });
    counter.inc({ route: 'a\\b"c\nd' });
    const lines = counter.render();
    expect(lines).toContain('pt_test_total{route="/tracking",status="200"} 2');
    expect(lines).toContain('pt_test_total{route="a\\\\b\\"c\\nd"} 1');
  });

  test("label order does not make a new series", () => {
    const counter = new Counter("pt_order_total", "test");
    counter.inc({ b: "2", a: "1" });
    counter.inc({ a: "1", b: "2" });
    expect(counter.get({ a: "1", b: "2" })).toBe(2);
  });
});

describe("repeated query keys", () => {
  test("found with two or more parameters, never with fewer", () => {
    expect(repeatedQueryKey("http://h/tracking")).toBeNull();
    expect(repeatedQueryKey("http://h/tracking?repo=a")).toBeNull();
    expect(repeatedQueryKey("http://h/tracking?repo=a&branch=b")).toBeNull();
    expect(repeatedQueryKey("http://h/tracking?repo=a&repo=b")).toBe("repo");
    expect(repeatedQueryKey("http://h/tracking?branch=x&repo=a&branch=b")).toBe("branch");
  });
});
