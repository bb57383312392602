import { describe, expect, it } from "vitest";
import { creditsOf, draftCredits, draftOf, operationsFor } from "../src/storyboard/draft";
import { storyboard } from "./fixtures";

describe("the storyboard draft", () => {
  it("has no operations until something changes", () => {
    const board = storyboard();
    expect(operationsFor(board, draftOf(board))).toEqual([]);
  });

  it("edits only the fields that changed, numbered from 1", () => {
    const board = storyboard();
    const draft = draftOf(board);
    draft.shots[1]!.narration = "A new line.";
    draft.shots[2]!.duration_s = 8;
    draft.shots[2]!.camera = "close-up";
    draft.shots[0]!.prompt = "prompt 0   "; // only trailing spaces: unchanged
    expect(operationsFor(board, draft)).toEqual([
      { op: "edit_shot", shot: 2, narration: "A new line." },
      { op: "edit_shot", shot: 3, camera: "close-up", duration_s: 8 },
    ]);
  });

  it("removes from the last shot down, after the edits, so numbers hold", () => {
    const board = storyboard();
    const draft = draftOf(board);
    draft.shots[0]!.removed = true;
    draft.shots[2]!.removed = true;
    draft.shots[1]!.narration = "kept";
    draft.shots[0]!.narration = "ignored: the shot goes";
    expect(operationsFor(board, draft)).toEqual([
      { op: "edit_shot", shot: 2, narration: "kept" },
      { op: "remove_shot", shot: 3 },
      { op: "remove_shot", shot: 1 },
    ]);
  });

  it("edits a character's description", () => {
    const board = storyboard();
    const draft = draftOf(board);
    draft.characters.Mina = "  a girl in a yellow raincoat ";
    expect(operationsFor(board, draft)).toEqual([
      { op: "edit_character", name: "Mina", description: "a girl in a yellow raincoat" },
    ]);
    draft.characters.Mina = "   ";
    expect(operationsFor(board, draft)).toEqual([]);
  });

  it("counts credits as the API does: one per started 8 seconds", () => {
    expect(creditsOf([4, 4])).toBe(1);
    expect(creditsOf([4, 4, 4])).toBe(2);
    expect(creditsOf([8, 8, 8, 8, 8, 8, 8, 8])).toBe(8);
    const draft = draftOf(storyboard());
    expect(draftCredits(draft)).toBe(2);
    draft.shots[2]!.removed = true;
    expect(draftCredits(draft)).toBe(1);
  });
});
