import { describe, expect, it } from "vitest";
import { currentStep, stepStates } from "../src/tale/stages";

const p = (status: string, stage: string, more = {}) => ({
  status,
  stage,
  progress: 0,
  shot_count: 2,
  shots_rendered: 0,
  shots_voiced: 0,
  error_stage: null,
  ...more,
});

describe("steps", () => {
  it("follows a tale from planning to done", () => {
    expect(currentStep(p("planning", "planning"))).toBe("plan");
    expect(stepStates(p("awaiting_approval", "awaiting approval")).plan).toBe("waiting");
    expect(currentStep(p("rendering", "characters"))).toBe("characters");
    const shots = stepStates(p("rendering", "shots", { shots_rendered: 1, shots_voiced: 2 }));
    expect(shots).toMatchObject({ plan: "done", characters: "done", shots: "current", voices: "done", stitch: "todo" });
    expect(stepStates(p("stitching", "stitching")).stitch).toBe("current");
    expect(Object.values(stepStates(p("completed", "completed")))).toEqual(Array(6).fill("done"));
  });

  it("marks the step a tale failed at", () => {
    const failed = stepStates(p("failed", "failed", { error_stage: "shots" }));
    expect(failed).toMatchObject({ plan: "done", characters: "done", shots: "failed", stitch: "todo" });
  });

  it("shows an unknown stage of a rendering tale as the shots", () => {
    expect(currentStep(p("rendering", "something new"))).toBe("shots");
  });
});
