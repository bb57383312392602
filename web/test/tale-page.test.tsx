import { render } from "preact";
import { act } from "preact/test-utils";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiClient } from "../src/api/client";
import { AppContext } from "../src/app-context";
import { SLOW_AFTER_MS, TalePage } from "../src/pages/Tale";
import { fakeFetch, json, problem, type Seen, localAuth } from "./fixtures";

let root: HTMLElement;
beforeEach(() => {
  root = document.createElement("div");
  document.body.append(root);
});
afterEach(() => {
  render(null, root);
  root.remove();
  vi.useRealTimers();
});

const auth = localAuth;

function tale(status: string, more: Record<string, unknown> = {}) {
  return {
    id: "tale-1",
    title: "Mina and the fox",
    status,
    stage: status,
    progress: 40,
    language: "en",
    shot_count: 2,
    has_video: false,
    created_at: 1_800_000_000,
    updated_at: 1_800_000_000,
    shots: [],
    ...more,
  };
}

async function show(route: (req: Seen) => Response) {
  const { fetch } = fakeFetch(route);
  const api = new ApiClient({ base: "", token: async () => "tok", fetch });
  const services = { config: { auth: "local" as const, api: "" }, auth, api, session: auth.current() };
  await act(async () => {
    render(
      <AppContext.Provider value={services}>
        <TalePage id="tale-1" />
      </AppContext.Provider>,
      root,
    );
    await new Promise((r) => setTimeout(r, 20));
  });
}

const text = () => root.textContent ?? "";

async function until(seen: () => unknown) {
  for (let i = 0; i < 50 && !seen(); i++) {
    await act(async () => {
      await new Promise((r) => setTimeout(r, 20));
    });
  }
  expect(seen()).toBeTruthy();
}

describe("a tale's page", () => {
  it("says another user's (or no) tale is not found, and nothing of it", async () => {
    await show(() => problem(404, "not-found", "tale tale-1"));
    await until(() => root.querySelector("h1"));
    expect(root.querySelector("h1")?.textContent).toBe("Tale not found");
  });

  it("explains a failed tale: the step, the reason, the refund", async () => {
    await show((req) =>
      req.url.endsWith("/storyboard")
        ? problem(409, "conflict", "no storyboard")
        : json(tale("failed", { stage: "failed", error_stage: "shots", error_reason: "the video model refused shot 2 (safety filter)" })),
    );
    await until(() => root.querySelector('[role="alert"]'));
    const alert = root.querySelector('[role="alert"]')!.textContent!;
    expect(alert).toContain("This tale failed while rendering the shots.");
    expect(alert).toContain("the video model refused shot 2 (safety filter)");
    expect(alert).toContain("Its credits were refunded in full.");
    expect(root.querySelector(".step.failed")?.textContent).toContain("Shots");
  });

  it("says a quiet tale is slow, and what it is waiting for", async () => {
    vi.useFakeTimers({ toFake: ["Date", "setInterval"] });
    const quiet = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode("retry: 3000\n\n"));
      },
    });
    await show((req) => {
      if (req.url.endsWith("/events")) return new Response(quiet, { headers: { "Content-Type": "text/event-stream" } });
      if (req.url.endsWith("/storyboard")) return problem(409, "conflict", "not yet");
      return json(tale("rendering", { stage: "shots" }));
    });
    await until(() => root.querySelector("#tale-progress"));
    expect(text()).not.toContain("no news");
    await act(async () => {
      vi.advanceTimersByTime(SLOW_AFTER_MS + 10_000);
    });
    expect(root.querySelector(".slow")?.textContent).toMatch(/^Still rendering the shots: no news for 1 min\./);
  });
});
