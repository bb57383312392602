import { render } from "preact";
import { act } from "preact/test-utils";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ApiClient, type Schemas } from "../src/api/client";
import { AppContext } from "../src/app-context";
import { Trends } from "../src/pages/Trends";
import { fakeFetch, json, localAuth } from "./fixtures";

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

/** The API: Japanese write-ups exist for JP's trend only; others answer in English. */
function trends(url: URL): Schemas["TrendList"] {
  const asked = url.searchParams.get("language") ?? "en";
  const trend = (id: string, region: string, written: string[]) =>
    ({
      id,
      region,
      rank: 1,
      label: id,
      keywords: ["moon"],
      niches: [],
      sample: true,
      language: written.includes(asked) ? asked : "en",
      ideas: [{ index: 0, title: `${id} idea`, story: "A story." }],
    }) as unknown as Schemas["TrendView"];
  return { tier: "pro", trends: [trend("jp-trend", "JP", ["ko", "en", "ja"]), trend("us-trend", "US", ["ko", "en"])] };
}

async function page() {
  const { fetch, seen } = fakeFetch((req) => json(trends(new URL(req.url, "http://x"))));
  const api = new ApiClient({ base: "", token: async () => "tok", fetch });
  const services = { config: { auth: "local" as const, api: "" }, auth, api, session: auth.current() };
  await act(async () => {
    render(
      <AppContext.Provider value={services}>
        <Trends />
      </AppContext.Provider>,
      root,
    );
  });
  return seen;
}

async function settle() {
  for (let i = 0; i < 10; i++) {
    await act(async () => {
      await new Promise((r) => setTimeout(r, 10));
    });
  }
}

describe("the trends page", () => {
  it("offers Japanese and Chinese and says when a write-up is shown in English", async () => {
    const seen = await page();
    await settle();
    const select = root.querySelector<HTMLSelectElement>("#trend-language")!;
    expect([...select.options].map((o) => o.value)).toEqual(["ko", "en", "ja", "zh"]);
    expect(root.querySelectorAll(".notice").length).toBe(0); // English: nothing to say
    await act(async () => {
      select.value = "ja";
      select.dispatchEvent(new Event("change", { bubbles: true }));
    });
    await settle();
    expect(seen.some((r) => r.url.includes("language=ja"))).toBe(true);
    const [jp, us] = [...root.querySelectorAll(".trend-list > li")];
    expect(jp).toBeDefined();
    expect(us).toBeDefined();
    expect(jp!.querySelector(".notice")).toBeNull();
    expect(jp!.querySelector(".ideas")?.getAttribute("lang")).toBe("ja");
    expect(us!.querySelector(".notice")?.textContent).toMatch(/English/);
    expect(us!.querySelector(".ideas")?.getAttribute("lang")).toBe("en");
  });
});
