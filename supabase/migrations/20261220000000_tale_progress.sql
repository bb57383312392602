-- The user-facing tale record carries what a page shows of a tale's progress, the same tale
-- fields as the API's server-sent events (GET /v1/tales/{id}/events): the stage that failed,
-- how many shots the tale has, and how many of them are rendered and voiced. A frontend on
-- Supabase follows a tale through Realtime changes of this row; without Supabase, through
-- the event stream. Per-shot detail stays with the API (GET /v1/tales/{id}).
--
-- New columns only: row-level security, the grants (table-wide) and the Realtime publication
-- (every column) cover them as they are. Existing rows start at 0 and are brought up to date
-- by the backend's next write of the tale.

alter table public.tales
  add column error_stage text,
  add column shot_count integer not null default 0 check (shot_count between 0 and 64),
  add column shots_rendered integer not null default 0 check (shots_rendered >= 0),
  add column shots_voiced integer not null default 0 check (shots_voiced >= 0);

comment on column public.tales.shots_rendered is
  'Shots of the current cut whose picture is rendered (the API''s shots_rendered).';
comment on column public.tales.shots_voiced is
  'Shots whose narration is voiced, or that have nothing to say (the API''s shots_voiced).';
