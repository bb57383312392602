// Where a tale is, as steps a person recognises (pure; unit-tested).

import type { Schemas } from "../api/client";

export type StepName = "plan" | "characters" | "shots" | "voices" | "stitch" | "done";
export type StepState = "done" | "current" | "waiting" | "todo" | "failed";
export const STEPS: StepName[] = ["plan", "characters", "shots", "voices", "stitch", "done"];

export type Progress = Pick<
  Schemas["TaleProgress"],
  "status" | "stage" | "progress" | "shot_count" | "shots_rendered" | "shots_voiced" | "error_stage"
>;

const STAGE_STEP: Record<string, StepName> = {
  submitted: "plan",
  planning: "plan",
  plan: "plan",
  "awaiting approval": "plan",
  characters: "characters",
  shots: "shots",
  shot: "shots",
  narration: "voices",
  voices: "voices",
  stitching: "stitch",
  stitch: "stitch",
  completed: "done",
};

/** The step a status and stage stand at. */
export function currentStep(p: Progress): StepName {
  if (p.status === "completed") return "done";
  if (p.status === "stitching") return "stitch";
  if (p.status === "submitted" || p.status === "planning" || p.status === "awaiting_approval") return "plan";
  const stage = (p.status === "failed" && p.error_stage) || p.stage;
  return STAGE_STEP[stage] ?? (p.status === "rendering" ? "shots" : "plan");
}

export function stepStates(p: Progress): Record<StepName, StepState> {
  const at = STEPS.indexOf(currentStep(p));
  const out = {} as Record<StepName, StepState>;
  STEPS.forEach((step, i) => {
    out[step] = i < at ? "done" : i > at ? "todo" : "current";
  });
  if (p.status === "completed") out.done = "done";
  if (p.status === "awaiting_approval") out.plan = "waiting";
  // Shots and voices run side by side: voices are current while shots render.
  if (p.status === "rendering" && at === STEPS.indexOf("shots")) {
    out.voices = p.shot_count && p.shots_voiced >= p.shot_count ? "done" : "current";
  }
  if (p.shot_count && p.shots_rendered >= p.shot_count && out.shots === "current") out.shots = "done";
  if (p.status === "failed" || p.status === "cancelled") {
    const failed = STEPS[at];
    if (failed && p.status === "failed") out[failed] = "failed";
    for (const step of STEPS) if (out[step] === "current") out[step] = "todo";
  }
  return out;
}

export const ACTIVE = new Set(["submitted", "planning", "awaiting_approval", "rendering", "stitching"]);
export const TERMINAL = new Set(["completed", "failed", "cancelled"]);
