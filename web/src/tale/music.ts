// A tale's background music, as the page decides about it (pure; unit-tested): when it may
// change, what a chosen file is sent as, whether it is too large, and its words.

import type { paths } from "../api/schema";

/** The largest upload the API takes (`MAX_MUSIC_BYTES`, 20 MiB); checked before uploading. */
export const MAX_MUSIC_BYTES = 20 * 1024 * 1024;

type MusicType = keyof paths["/v1/tales/{tale_id}/music"]["put"]["requestBody"]["content"];

/** Every type `PUT …/music` takes (the generated schema's list: a new one is a type error). */
const TYPES: Record<MusicType, true> = {
  "audio/aac": true,
  "audio/flac": true,
  "audio/mp3": true,
  "audio/mp4": true,
  "audio/mpeg": true,
  "audio/ogg": true,
  "audio/vnd.wave": true,
  "audio/wav": true,
  "audio/wave": true,
  "audio/webm": true,
  "audio/x-flac": true,
  "audio/x-m4a": true,
  "audio/x-wav": true,
};

/** What a file with one of these endings is sent as when the browser names no type it takes
 * (an empty type, `video/webm` for a WebM with only sound). */
const BY_ENDING: Record<string, MusicType> = {
  mp3: "audio/mpeg",
  m4a: "audio/mp4",
  mp4: "audio/mp4",
  aac: "audio/aac",
  wav: "audio/wav",
  ogg: "audio/ogg",
  oga: "audio/ogg",
  opus: "audio/ogg",
  flac: "audio/flac",
  webm: "audio/webm",
};

/** The file picker's `accept`: the types, and the endings for systems that go by them. */
export const MUSIC_ACCEPT = [...Object.keys(TYPES), ...Object.keys(BY_ENDING).map((e) => `.${e}`)].join(",");

/** What to send a chosen file as: its own type when the API takes it, else the one its ending
 * names, else its own (the API says in its words why it refuses it). */
export function musicContentType(file: { name: string; type: string }): string {
  const type = file.type.toLowerCase();
  if (Object.hasOwn(TYPES, type)) return type;
  const ending = file.name.includes(".") ? file.name.slice(file.name.lastIndexOf(".") + 1).toLowerCase() : "";
  if (Object.hasOwn(BY_ENDING, ending)) return BY_ENDING[ending]!;
  return type || "application/octet-stream";
}

/**
 * Whether a tale's music may be set or removed now — the API's rule (`music_may_change`):
 * before its cut is stitched, or once it has a finished video (for its next revision); not
 * while stitching, nor after it failed or was cancelled without a video.
 */
export function musicMayChange(status: string, hasVideo: boolean): boolean {
  if (["submitted", "planning", "awaiting_approval", "rendering"].includes(status)) return true;
  return ["completed", "failed", "cancelled"].includes(status) && hasVideo;
}

/** A duration as m:ss (a track lasts from 1 s to 10 min). */
export function clock(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}

/** A size in KB or MB (of 1024), rounded up to a tenth of a MB or a whole KB, so that a file
 * over the limit never reads as the limit. */
export function size(bytes: number, number: (value: number, options?: Intl.NumberFormatOptions) => string): string {
  if (bytes < 1024 * 1024) {
    return number(Math.max(1, Math.ceil(bytes / 1024)), { style: "unit", unit: "kilobyte", maximumFractionDigits: 0 });
  }
  return number(Math.ceil((bytes / (1024 * 1024)) * 10) / 10, { style: "unit", unit: "megabyte", maximumFractionDigits: 1 });
}

/** The format a track was read as, by name (`audio/mpeg` → MP3). */
export function formatName(contentType: string): string {
  const names: Record<string, string> = {
    "audio/mpeg": "MP3",
    "audio/aac": "AAC",
    "audio/mp4": "M4A",
    "audio/wav": "WAV",
    "audio/ogg": "Ogg",
    "audio/flac": "FLAC",
    "audio/webm": "WebM",
  };
  return names[contentType] ?? contentType;
}
