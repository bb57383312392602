import { describe, expect, it } from "vitest";
import { href, parseRoute } from "../src/router";

describe("routes in the hash", () => {
  it("round-trips every page", () => {
    for (const route of [
      { page: "tales" },
      { page: "new" },
      { page: "new", trend: "trd-0123456789abcdef", idea: 2 },
      { page: "tale", id: "tale-3f2a9c" },
      { page: "account" },
      { page: "trends" },
    ] as const) {
      expect(parseRoute(href(route))).toEqual(route);
    }
  });

  it("refuses ids that are not ids", () => {
    expect(parseRoute("#/tales/..%2Fetc").page).toBe("missing");
    expect(parseRoute("#/tales/a/b").page).toBe("missing");
    expect(parseRoute("#/nowhere")).toEqual({ page: "missing", path: "/nowhere" });
    expect(parseRoute("")).toEqual({ page: "tales" });
  });
});
