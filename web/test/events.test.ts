import { describe, expect, it } from "vitest";
import { ApiClient } from "../src/api/client";
import { followTale, SseParser } from "../src/api/events";
import { fakeFetch, problem } from "./fixtures";

describe("SseParser", () => {
  it("parses events split anywhere across chunks", () => {
    const text =
      "retry: 3000\n\n: keep-alive\n\nid: 0.1\nevent: tale\ndata: {\"progress\": 5}\n\nid: 0.2\r\nevent: shot\r\ndata: {\"index\": 0}\r\n\r\n";
    const parser = new SseParser();
    const events = [];
    for (let i = 0; i < text.length; i += 7) events.push(...parser.feed(text.slice(i, i + 7)));
    expect(events).toEqual([
      { id: null, event: "message", data: "", retry: 3000 },
      { id: "0.1", event: "tale", data: '{"progress": 5}', retry: null },
      { id: "0.2", event: "shot", data: '{"index": 0}', retry: null },
    ]);
  });

  it("joins multi-line data", () => {
    const events = new SseParser().feed("data: a\ndata: b\n\n");
    expect(events[0]!.data).toBe("a\nb");
  });
});

function stream(text: string): Response {
  return new Response(text, { status: 200, headers: { "Content-Type": "text/event-stream" } });
}

const tale = (progress: number, status = "rendering") =>
  JSON.stringify({ id: "t", status, stage: "shots", progress, shot_count: 2, shots_rendered: 0, shots_voiced: 0, has_video: false, updated_at: progress });

describe("followTale", () => {
  it("reconnects with Last-Event-ID until the end event, with the token", async () => {
    const answers = [
      stream(`retry: 1\n\nid: 0.1\nevent: tale\ndata: ${tale(40)}\n\n`),
      stream(
        `retry: 1\n\nid: 0.2\nevent: shot\ndata: {"index":1,"attempt":1,"status":"rendered","voiced":true}\n\n` +
          `id: 0.3\nevent: tale\ndata: ${tale(100, "completed")}\n\n` +
          `id: 0.4\nevent: end\ndata: {"id":"t","status":"completed","has_video":true}\n\n`,
      ),
    ];
    const { fetch, seen } = fakeFetch(() => answers.shift()!);
    const api = new ApiClient({ base: "", token: async () => "tok" });
    const got: string[] = [];
    await followTale(
      api,
      "t",
      {
        tale: (d) => got.push(`tale ${d.progress}`),
        shot: (d) => got.push(`shot ${d.index} ${d.status}`),
        end: (d) => got.push(`end ${d.status}`),
      },
      new AbortController().signal,
      fetch,
    );
    expect(got).toEqual(["tale 40", "shot 1 rendered", "tale 100", "end completed"]);
    expect(seen).toHaveLength(2);
    expect(seen[0]!.url).toBe("/v1/tales/t/events");
    expect(seen[0]!.headers.authorization).toBe("Bearer tok");
    expect(seen[0]!.headers["last-event-id"]).toBeUndefined();
    expect(seen[1]!.headers["last-event-id"]).toBe("0.1");
  });

  it("stops at a problem it cannot retry (another user's tale)", async () => {
    const { fetch, seen } = fakeFetch(() => problem(404, "not-found", "tale t"));
    const api = new ApiClient({ base: "", token: async () => "tok" });
    let status = 0;
    await followTale(api, "t", { error: (e) => (status = e.status) }, new AbortController().signal, fetch);
    expect(status).toBe(404);
    expect(seen).toHaveLength(1);
  });

  it("stops when aborted", async () => {
    const controller = new AbortController();
    const { fetch } = fakeFetch(() => {
      controller.abort();
      return stream("retry: 1\n\n");
    });
    const api = new ApiClient({ base: "", token: async () => null });
    await followTale(api, "t", {}, controller.signal, fetch);
    expect(controller.signal.aborted).toBe(true);
  });
});
