import { render } from "preact";
import { act } from "preact/test-utils";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiClient } from "../src/api/client";
import { StoryboardEditor } from "../src/storyboard/Editor";
import { fakeFetch, json, problem, type Seen, storyboard } from "./fixtures";

let root: HTMLElement;
beforeEach(() => {
  root = document.createElement("div");
  document.body.append(root);
});
afterEach(() => {
  render(null, root);
  root.remove();
});

function mount(route: (req: Seen) => Response) {
  const { fetch, seen } = fakeFetch(route);
  const api = new ApiClient({ base: "", token: async () => "tok", fetch });
  const props = {
    onChange: vi.fn(),
    onApproved: vi.fn(),
    onStale: vi.fn(),
  };
  act(() => {
    render(<StoryboardEditor api={api} taleId="tale-1" storyboard={storyboard()} etag='"1"' {...props} />, root);
  });
  return { seen, ...props };
}

const field = (id: string) => root.querySelector<HTMLTextAreaElement & HTMLSelectElement>(`#${id}`)!;
const button = (name: string) =>
  [...root.querySelectorAll("button")].find((b) => b.textContent?.trim() === name) as HTMLButtonElement;
const text = () => root.textContent ?? "";

function type(id: string, value: string) {
  act(() => {
    const el = field(id);
    el.value = value;
    el.dispatchEvent(new Event(el.tagName === "SELECT" ? "change" : "input", { bubbles: true }));
  });
}

async function click(b: HTMLButtonElement) {
  await act(async () => {
    b.click();
    await new Promise((r) => setTimeout(r, 10));
  });
}

describe("the storyboard editor", () => {
  it("labels every field and shows the cost", () => {
    mount(() => json({}));
    for (const id of ["narration-1", "prompt-1", "camera-1", "duration-1", "character-0"]) {
      expect(root.querySelector(`label[for="${id}"]`), id).not.toBeNull();
    }
    expect(text()).toContain("Cost: 2 credits");
    expect(text()).toContain("$0.42");
    expect(button("Save changes").disabled).toBe(true);
  });

  it("updates the credits as lengths change, before saving", () => {
    mount(() => json({}));
    type("duration-3", "8"); // 16 s: still two started 8-second blocks
    expect(text()).toContain("Cost: 2 credits");
    type("duration-2", "8");
    expect(text()).toContain("Cost after your changes: 3 credits (now 2)");
    expect(text()).toContain("(updated when you save)");
  });

  it("saves one shot's narration with If-Match and takes the new version", async () => {
    const edited = storyboard({ version: 2, estimate: { usd: 0.5, by_stage: {}, scenario: "local", price_table: "t" } });
    const { seen, onChange } = mount(() => json(edited, 200, { ETag: '"2"' }));
    type("narration-2", "The fox was home at last.");
    await click(button("Save changes"));
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      method: "PATCH",
      url: "/v1/tales/tale-1/storyboard",
      body: { operations: [{ op: "edit_shot", shot: 2, narration: "The fox was home at last." }] },
    });
    expect(seen[0]!.headers["if-match"]).toBe('"1"');
    expect(onChange).toHaveBeenCalledWith(edited, '"2"');
    expect(text()).toContain("Saved.");
  });

  it("says so and reloads when another tab edited first (412)", async () => {
    const { onStale, onChange } = mount(() => problem(412, "precondition-failed", "the storyboard is at version 3"));
    type("narration-1", "mine");
    await click(button("Save changes"));
    expect(onStale).toHaveBeenCalledOnce();
    expect(onChange).not.toHaveBeenCalled();
    expect(root.querySelector('[role="alert"]')?.textContent).toMatch(/changed elsewhere/);
  });

  it("shows a refused edit in words, from the problem document", async () => {
    mount(() => problem(422, "invalid-edit", "shot 1: the narration takes 9.2 s to read; the shot is 4 s"));
    type("narration-1", "a very long line");
    await click(button("Save changes"));
    const alert = root.querySelector('[role="alert"]')!.textContent!;
    expect(alert).toContain("The storyboard cannot take this change.");
    expect(alert).toContain("the narration takes 9.2 s to read");
  });

  it("saves pending changes, then approves", async () => {
    const { seen, onApproved } = mount((req) =>
      req.method === "PATCH" ? json(storyboard({ version: 2 }), 200, { ETag: '"2"' }) : json({ id: "tale-1", status: "rendering" }),
    );
    type("prompt-1", "a fox at dusk");
    await click(button("Save and approve"));
    expect(seen.map((r) => `${r.method} ${r.url}`)).toEqual([
      "PATCH /v1/tales/tale-1/storyboard",
      "POST /v1/tales/tale-1/approve",
    ]);
    expect(onApproved).toHaveBeenCalledOnce();
  });

  it("removes a shot, but never the last one", async () => {
    const { seen } = mount(() => json(storyboard({ version: 2 }), 200, { ETag: '"2"' }));
    act(() => button("Remove shot 1").click());
    act(() => button("Remove shot 2").click());
    expect(button("Remove shot 3").disabled).toBe(true);
    expect(text()).toContain("Cost after your changes: 1 credit (now 2)");
    await click(button("Save changes"));
    expect(seen[0]!.body).toEqual({ operations: [{ op: "remove_shot", shot: 2 }, { op: "remove_shot", shot: 1 }] });
  });
});
