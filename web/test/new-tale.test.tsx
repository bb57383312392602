import { render } from "preact";
import { act } from "preact/test-utils";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ApiClient, type Schemas } from "../src/api/client";
import { AppContext } from "../src/app-context";
import { NewTale } from "../src/pages/NewTale";
import { fakeFetch, json, problem, type Seen, localAuth } from "./fixtures";

let root: HTMLElement;
beforeEach(() => {
  root = document.createElement("div");
  document.body.append(root);
});
afterEach(() => {
  render(null, root);
  root.remove();
});

const auth = localAuth;

/** The API's quote: narration costs $0.25 unless the voice is "none". */
function quote(url: URL): Schemas["Quote"] {
  const voice = url.searchParams.get("voice") ?? "";
  const narration = voice === "none" ? 0 : 0.25;
  return {
    shot_count: Number(url.searchParams.get("shot_count")),
    shot_seconds: Number(url.searchParams.get("shot_seconds")),
    voice,
    credits: 8,
    balance: 16,
    estimate: { usd: 3 + narration, by_stage: { rendering: 3, narration }, scenario: "A", price_table: "test" },
  };
}

async function form(route: (req: Seen) => Response = (req) => json(quote(new URL(req.url, "http://x")))) {
  const { fetch, seen } = fakeFetch(route);
  const api = new ApiClient({ base: "", token: async () => "tok", fetch });
  const services = { config: { auth: "local" as const, api: "" }, auth, api, session: auth.current() };
  await act(async () => {
    render(
      <AppContext.Provider value={services}>
        <NewTale />
      </AppContext.Provider>,
      root,
    );
  });
  const estimates = () =>
    seen.filter((r) => r.url.startsWith("/v1/estimate")).map((r) => new URL(r.url, "http://x").searchParams);
  return { estimates };
}

async function until(seen: () => unknown) {
  for (let i = 0; i < 50 && !seen(); i++) {
    await act(async () => {
      await new Promise((r) => setTimeout(r, 20));
    });
  }
  expect(seen()).toBeTruthy();
}

async function choose(id: string, value: string) {
  const field = root.querySelector<HTMLSelectElement | HTMLInputElement>(`#${id}`)!;
  await act(async () => {
    field.value = value;
    field.dispatchEvent(new Event(field instanceof HTMLSelectElement ? "change" : "input", { bubbles: true }));
  });
}

const usd = () => root.querySelector(".estimate-usd")?.textContent ?? "";

describe("the new tale's estimate", () => {
  it("is asked again when the voice changes, and prices no narration without one", async () => {
    const { estimates } = await form();
    await until(() => usd().includes("$3.25"));
    expect(estimates()).toHaveLength(1);
    expect(estimates()[0]!.has("voice")).toBe(false); // the default voice

    await choose("voice", "none");
    await until(() => estimates().length === 2);
    expect(estimates()[1]!.get("voice")).toBe("none");
    await until(() => usd().includes("$3.00"));

    await choose("voice", "default");
    await until(() => estimates().length === 3);
    expect(estimates()[2]!.has("voice")).toBe(false);
    await until(() => usd().includes("$3.25"));
  });

  it("sends a named voice with the story's language when one is chosen", async () => {
    const { estimates } = await form();
    await until(() => estimates().length === 1);
    await choose("language", "ko");
    await choose("voice", "named");
    await choose("voice-name", "Kore");
    await until(() => estimates().some((q) => q.get("voice") === "Kore"));
    const last = estimates().at(-1)!;
    expect([last.get("voice"), last.get("language")]).toEqual(["Kore", "ko"]);
  });

  it("shows the API's refusal of an unknown voice in its words", async () => {
    const { estimates } = await form((req) =>
      new URL(req.url, "http://x").searchParams.get("voice") === "Nobody"
        ? problem(422, "unknown-voice", "no voice 'Nobody' for ko/en/ja/zh stories")
        : json(quote(new URL(req.url, "http://x"))),
    );
    await until(() => estimates().length === 1);
    await choose("voice", "named");
    await choose("voice-name", "Nobody");
    await until(() => root.textContent?.includes("no voice 'Nobody'"));
  });
});
