import { render } from "preact";
import { act } from "preact/test-utils";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ApiClient, type Schemas } from "../src/api/client";
import { makeI18n } from "../src/i18n";
import { MusicPanel } from "../src/tale/Music";
import { clock, MAX_MUSIC_BYTES, musicContentType, musicMayChange, size } from "../src/tale/music";
import { fakeFetch, json, problem, type Seen } from "./fixtures";

const track: Schemas["MusicView"] = {
  content_type: "audio/wav",
  bytes: 32_044,
  seconds: 2,
  channels: 1,
  sample_rate: 8000,
  sha256: "ab".repeat(32),
};

describe("music rules and words", () => {
  it("may change before stitching, and after it only with a video (the API's rule)", () => {
    for (const status of ["submitted", "planning", "awaiting_approval", "rendering"]) {
      expect(musicMayChange(status, false), status).toBe(true);
    }
    expect(musicMayChange("stitching", true)).toBe(false);
    for (const status of ["completed", "failed", "cancelled"]) {
      expect(musicMayChange(status, true), status).toBe(true);
      expect(musicMayChange(status, false), status).toBe(false);
    }
  });

  it("sends a file as its own type when taken, else as its ending says, else as it is", () => {
    expect(musicContentType({ name: "a.m4a", type: "audio/x-m4a" })).toBe("audio/x-m4a");
    expect(musicContentType({ name: "a.flac", type: "" })).toBe("audio/flac");
    expect(musicContentType({ name: "a.webm", type: "video/webm" })).toBe("audio/webm");
    expect(musicContentType({ name: "a.txt", type: "text/plain" })).toBe("text/plain");
    expect(musicContentType({ name: "a.constructor", type: "" })).toBe("application/octet-stream");
  });

  it("says lengths and sizes, never a file over the limit as the limit", () => {
    const number = makeI18n("en", () => {}).number;
    expect(clock(2.02)).toBe("0:02");
    expect(clock(125.6)).toBe("2:06");
    expect(size(32_044, number)).toBe("32 kB");
    expect(size(MAX_MUSIC_BYTES, number)).toBe("20 MB");
    expect(size(MAX_MUSIC_BYTES + 1, number)).toBe("20.1 MB");
  });
});

let root: HTMLElement;
beforeEach(() => {
  root = document.createElement("div");
  document.body.append(root);
});
afterEach(() => {
  render(null, root);
  root.remove();
});

async function panel(route: (req: Seen) => Response, props: { status?: string; hasVideo?: boolean; music?: Schemas["MusicView"] | null } = {}) {
  const { fetch, seen } = fakeFetch(route);
  const api = new ApiClient({ base: "", token: async () => "tok", fetch });
  const changes: (Schemas["MusicView"] | null)[] = [];
  let music = props.music ?? null;
  const draw = () =>
    render(
      <MusicPanel
        api={api}
        taleId="tale-1"
        music={music}
        status={props.status ?? "awaiting_approval"}
        hasVideo={props.hasVideo ?? false}
        onChange={(m) => {
          changes.push(m);
          music = m;
          draw();
        }}
      />,
      root,
    );
  await act(async () => draw());
  return { seen, changes };
}

const picker = () => root.querySelector<HTMLInputElement>("#music-file")!;

async function choose(file: File) {
  Object.defineProperty(picker(), "files", { value: [file], configurable: true });
  await act(async () => {
    picker().dispatchEvent(new Event("change", { bubbles: true }));
    await new Promise((r) => setTimeout(r, 20));
  });
}

describe("the music panel", () => {
  it("has a labelled picker that uploads the chosen file as its body, then shows the track", async () => {
    const { seen, changes } = await panel((req) => (req.method === "PUT" ? json(track, 201) : json({})));
    expect(root.querySelector('label[for="music-file"]')?.textContent).toBe("Music file");
    expect(root.textContent).toContain("No background music.");
    await choose(new File([new Uint8Array(64)], "tone.wav", { type: "audio/wav" }));
    expect(seen).toHaveLength(1);
    expect(seen[0]!.method).toBe("PUT");
    expect(seen[0]!.url).toBe("/v1/tales/tale-1/music");
    expect(seen[0]!.headers["content-type"]).toBe("audio/wav");
    expect(changes).toEqual([track]);
    expect(root.querySelector(".music-track")?.textContent).toBe("Current track: WAV, 0:02, 32 kB");
    expect(root.querySelector('[role="status"]')?.textContent).toBe("Background music set (0:02).");
  });

  it("refuses a file over the limit before uploading it", async () => {
    const { seen } = await panel(() => json(track, 201));
    await choose(new File([new Uint8Array(MAX_MUSIC_BYTES + 1)], "long.wav", { type: "audio/wav" }));
    expect(seen).toHaveLength(0);
    const alert = root.querySelector('[role="alert"]')!.textContent!;
    expect(alert).toContain("The file is too large");
    expect(alert).toContain("long.wav is 20.1 MB; a track may be at most 20 MB.");
  });

  it("shows the API's problem in words", async () => {
    await panel(() => problem(415, "unsupported-media-type", "send the track as one of audio/mpeg, …, not text/plain"));
    await choose(new File(["words"], "notes.txt", { type: "text/plain" }));
    const alert = root.querySelector('[role="alert"]')!.textContent!;
    expect(alert).toContain("This kind of file cannot be used here.");
    expect(alert).toContain("not text/plain");
  });

  it("removes the track", async () => {
    const { seen, changes } = await panel(() => new Response(null, { status: 204 }), { music: track });
    const remove = [...root.querySelectorAll("button")].find((b) => b.textContent === "Remove music")!;
    await act(async () => {
      remove.click();
      await new Promise((r) => setTimeout(r, 20));
    });
    expect(seen.map((r) => r.method)).toEqual(["DELETE"]);
    expect(changes).toEqual([null]);
    expect(root.textContent).toContain("No background music.");
    expect(root.querySelector('[role="status"]')?.textContent).toBe("Background music removed.");
  });

  it("is disabled, saying why, while the tale is stitching or has no video to revise", async () => {
    await panel(() => json({}), { status: "stitching", music: track });
    expect(picker().disabled).toBe(true);
    expect(root.querySelector("#music-locked")?.textContent).toContain("being put together");
    expect(picker().getAttribute("aria-describedby")).toContain("music-locked");
    render(null, root);
    await panel(() => json({}), { status: "failed", hasVideo: false });
    expect(picker().disabled).toBe(true);
    expect(root.querySelector("#music-locked")?.textContent).toContain("cannot change");
    render(null, root);
    await panel(() => json({}), { status: "completed", hasVideo: true });
    expect(picker().disabled).toBe(false);
    expect(root.textContent).toContain("a change plays in the next revision");
  });
});
