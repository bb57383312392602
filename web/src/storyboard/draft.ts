// The storyboard editor's model: a draft of the shots and characters the owner changes, and
// the PATCH operations that turn the stored storyboard into the draft (pure; unit-tested).

import type { Schemas } from "../api/client";

type Storyboard = Schemas["StoryboardView"];
type Operation = Schemas["StoryboardEdit"]["operations"][number];
export type Camera = Schemas["Camera"];
export type Duration = 4 | 6 | 8;

export interface ShotDraft {
  index: number;
  narration: string;
  prompt: string;
  camera: Camera;
  duration_s: Duration;
  removed: boolean;
}

export interface Draft {
  shots: ShotDraft[];
  characters: Record<string, string>;
}

export function draftOf(storyboard: Storyboard): Draft {
  return {
    shots: storyboard.shots.map((s) => ({
      index: s.index,
      narration: s.narration,
      prompt: s.prompt,
      camera: s.camera as Camera,
      duration_s: s.duration_s as Duration,
      removed: false,
    })),
    characters: Object.fromEntries(storyboard.characters.map((c) => [c.name, c.description])),
  };
}

/**
 * The operations from `storyboard` to `draft`, in an order the API applies them in: edits
 * first (shot numbers as stored, from 1), then removals from the last shot down, so no
 * operation's number is shifted by an earlier one.
 */
export function operationsFor(storyboard: Storyboard, draft: Draft): Operation[] {
  const ops: Operation[] = [];
  for (const character of storyboard.characters) {
    const description = draft.characters[character.name]?.trim();
    if (description && description !== character.description) {
      ops.push({ op: "edit_character", name: character.name, description });
    }
  }
  const stored = new Map(storyboard.shots.map((s) => [s.index, s]));
  for (const shot of draft.shots) {
    const before = stored.get(shot.index);
    if (!before || shot.removed) continue;
    const edit: Extract<Operation, { op: "edit_shot" }> = { op: "edit_shot", shot: shot.index + 1 };
    let changed = false;
    if (shot.narration !== before.narration) ((edit.narration = shot.narration), (changed = true));
    if (shot.prompt.trim() !== before.prompt) ((edit.prompt = shot.prompt.trim()), (changed = true));
    if (shot.camera !== before.camera) ((edit.camera = shot.camera), (changed = true));
    if (shot.duration_s !== before.duration_s) ((edit.duration_s = shot.duration_s), (changed = true));
    if (changed) ops.push(edit);
  }
  const removed = draft.shots.filter((s) => s.removed).map((s) => s.index);
  for (const index of removed.sort((a, b) => b - a)) ops.push({ op: "remove_shot", shot: index + 1 });
  return ops;
}

/** Credits a storyboard costs: one per started 8 seconds of its shots (the API's rule). */
export function creditsOf(durations: number[]): number {
  return Math.ceil(durations.reduce((a, b) => a + b, 0) / 8);
}

export function draftCredits(draft: Draft): number {
  return creditsOf(draft.shots.filter((s) => !s.removed).map((s) => s.duration_s));
}
