import { describe, expect, it, vi } from "vitest";
import { ApiClient, fillPath, queryString } from "../src/api/client";
import { ApiError, problemWords } from "../src/api/problem";
import { translator } from "../src/i18n";
import { fakeFetch, json, problem, storyboard } from "./fixtures";

function client(route: Parameters<typeof fakeFetch>[0], token: string | null = "tok") {
  const fake = fakeFetch(route);
  const onUnauthorized = vi.fn();
  const api = new ApiClient({ base: "https://api.example", token: async () => token, onUnauthorized, fetch: fake.fetch });
  return { api, seen: fake.seen, onUnauthorized };
}

describe("paths and queries", () => {
  it("fills path parameters, encoded", () => {
    expect(fillPath("/v1/tales/{tale_id}/shots/{shot}/regenerate", { tale_id: "a b", shot: 2 })).toBe(
      "/v1/tales/a%20b/shots/2/regenerate",
    );
    expect(() => fillPath("/v1/tales/{tale_id}", {})).toThrow(/tale_id/);
  });
  it("leaves out empty query values", () => {
    expect(queryString({ shot_count: 2, language: undefined, region: "" })).toBe("?shot_count=2");
    expect(queryString(undefined)).toBe("");
  });
});

describe("ApiClient", () => {
  it("sends the bearer token and JSON, and returns the typed answer", async () => {
    const { api, seen } = client(() => json({ id: "tale-1", status: "submitted" }, 201));
    const tale = await api.post("/v1/tales", {
      body: { text: "A fox ran home.", shot_count: 2, shot_seconds: 4 },
      headers: { "Idempotency-Key": "k1" },
    });
    expect(tale.id).toBe("tale-1");
    expect(seen[0]).toMatchObject({
      method: "POST",
      url: "https://api.example/v1/tales",
      body: { text: "A fox ran home.", shot_count: 2, shot_seconds: 4 },
    });
    expect(seen[0]!.headers.authorization).toBe("Bearer tok");
    expect(seen[0]!.headers["idempotency-key"]).toBe("k1");
    expect(seen[0]!.headers["content-type"]).toBe("application/json");
  });

  it("puts the query string on the path", async () => {
    const { api, seen } = client(() =>
      json({ shot_count: 2, shot_seconds: 4, credits: 1, balance: 16, estimate: { usd: 0.1, by_stage: {}, scenario: "x", price_table: "p" } }),
    );
    const quote = await api.get("/v1/estimate", { query: { shot_count: 2, shot_seconds: 4 } });
    expect(quote.credits).toBe(1);
    expect(seen[0]!.url).toBe("https://api.example/v1/estimate?shot_count=2&shot_seconds=4");
  });

  it("returns a storyboard's ETag and sends If-Match", async () => {
    const { api, seen } = client(() => json(storyboard({ version: 2 }), 200, { ETag: '"2"' }));
    const answer = await api.call("patch", "/v1/tales/{tale_id}/storyboard", {
      path: { tale_id: "tale-1" },
      body: { operations: [{ op: "edit_shot", shot: 1, narration: "new" }] },
      headers: { "If-Match": '"1"' },
    });
    expect(answer.etag).toBe('"2"');
    expect(answer.data.version).toBe(2);
    expect(seen[0]!.method).toBe("PATCH");
    expect(seen[0]!.headers["if-match"]).toBe('"1"');
  });

  it("sends no Authorization header when signed out", async () => {
    const { api, seen } = client(() => json({ tales: [] }), null);
    await api.get("/v1/tales");
    expect(seen[0]!.headers.authorization).toBeUndefined();
  });

  it("turns a problem document into an ApiError", async () => {
    const { api } = client(() => problem(402, "insufficient-credits", "the tale needs 8 credits; you have 2"));
    const error = await api.get("/v1/me").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).kind).toBe("insufficient-credits");
    expect((error as ApiError).status).toBe(402);
    expect((error as ApiError).message).toBe("the tale needs 8 credits; you have 2");
  });

  it("keeps the current ETag of a lost conditional edit (412)", async () => {
    const { api } = client(() => new Response(JSON.stringify({ type: "x", title: "Precondition failed", status: 412, detail: "stale" }), { status: 412, headers: { ETag: '"5"' } }));
    const error = (await api
      .call("patch", "/v1/tales/{tale_id}/storyboard", { path: { tale_id: "t" }, body: { operations: [{ op: "remove_shot", shot: 1 }] }, headers: { "If-Match": '"4"' } })
      .catch((e: unknown) => e)) as ApiError;
    expect(error.status).toBe(412);
    expect(error.etag).toBe('"5"');
  });

  it("ends the session on 401", async () => {
    const { api, onUnauthorized } = client(() => problem(401, "unauthorized", "the token has expired"));
    await expect(api.get("/v1/tales")).rejects.toBeInstanceOf(ApiError);
    expect(onUnauthorized).toHaveBeenCalledOnce();
  });

  it("says what went wrong when the answer is not a problem document", async () => {
    const { api } = client(() => new Response("<html>Bad gateway</html>", { status: 502, statusText: "Bad Gateway" }));
    const error = (await api.get("/v1/tales").catch((e: unknown) => e)) as ApiError;
    expect(error.status).toBe(502);
    expect(error.problem.title).toBe("Bad Gateway");
  });

  it("turns a network failure into a problem", async () => {
    const { api } = client(() => {
      throw new TypeError("Failed to fetch");
    });
    const error = (await api.get("/v1/tales").catch((e: unknown) => e)) as ApiError;
    expect(error.kind).toBe("network");
  });

  it("reaches endpoints the document does not list yet through raw()", async () => {
    const { api, seen } = client(() => problem(404, "not-found", "no such endpoint: /v1/billing/checkout"));
    await expect(api.raw("POST", "/v1/billing/checkout", { plan: "pro" })).rejects.toBeInstanceOf(ApiError);
    expect(seen[0]).toMatchObject({ method: "POST", url: "https://api.example/v1/billing/checkout", body: { plan: "pro" } });
  });
});

describe("problems in words", () => {
  const error = (status: number, kind: string) =>
    new ApiError({ type: `https://tale.dev/problems/${kind}`, title: "T", status, detail: "the detail" });

  it("has a headline in the reader's language and keeps the API's detail", () => {
    expect(problemWords(error(402, "insufficient-credits"), translator("en"))).toEqual({
      title: "Not enough credits for this.",
      detail: "the detail",
    });
    expect(problemWords(error(402, "insufficient-credits"), translator("ko")).title).toBe("크레딧이 부족합니다.");
    expect(problemWords(error(402, "insufficient-credits"), translator("ja")).title).toBe("クレジットが足りません。");
  });

  it("falls back to the status class, then to the API's title", () => {
    expect(problemWords(error(418, "teapot"), translator("en")).title).toBe("The request was refused.");
    expect(problemWords(error(503, "whatever"), translator("en")).title).toMatch(/server had a problem/);
    expect(problemWords(new Error("boom"), translator("en"))).toEqual({ title: "Something went wrong", detail: "boom" });
  });
});
