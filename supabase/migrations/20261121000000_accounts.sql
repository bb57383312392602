-- Tale accounts: profiles, the append-only credit ledger, the user-facing tale records and
-- the audit log, with row-level security, and the credit functions.
--
-- Plain PostgreSQL 16. On Supabase it runs as the `postgres` role (not a superuser; it has
-- BYPASSRLS), with the roles `anon`, `authenticated` and `service_role`, the schema `auth`
-- and the publication `supabase_realtime` already in place.
--
-- Who may do what:
--   * `anon` gets nothing.
--   * `authenticated` may SELECT its own rows (profile, ledger, tales, audit entries) and
--     nothing else; the frontend reads, the backend writes.
--   * `service_role` (the backend; it bypasses RLS) reads everything, writes profiles and
--     tales, appends to the audit log, and moves credits only through the functions below:
--     it cannot write the ledger directly, so every money movement keeps the functions'
--     locking and idempotency rules.
--   * Credit functions live in `billing`, a schema PostgREST does not expose; the thin
--     `public` wrappers (what supabase-py's `rpc` calls) are executable by `service_role`
--     only. Trigger functions live in `private`, which nobody but the owner can use.

-- Schemas ------------------------------------------------------------------------------------

create schema if not exists billing;
create schema if not exists private;

revoke all on schema billing from public;
revoke all on schema private from public;
grant usage on schema billing to service_role;

alter default privileges in schema billing revoke execute on functions from public;
alter default privileges in schema private revoke execute on functions from public;

-- Tables -------------------------------------------------------------------------------------

create table public.profiles (
  id uuid primary key references auth.users (id) on delete cascade,
  email text,
  plan text not null default 'free' check (plan in ('free', 'pro', 'business')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

comment on table public.profiles is
  'One per account. Plan changes are audited; credits are the sum of credit_ledger.';

create table public.credit_ledger (
  id bigint generated always as identity primary key,
  user_id uuid not null references public.profiles (id) on delete cascade,
  kind text not null check (kind in ('grant', 'reserve', 'settle', 'refund')),
  amount integer not null,
  tale_id text,
  period text,
  created_at timestamptz not null default now(),
  -- Signed amounts: grants and refunds add, reservations subtract, settlements are zero.
  constraint credit_ledger_amount_sign check (
    (kind = 'grant' and amount >= 0)
    or (kind = 'reserve' and amount < 0)
    or (kind = 'settle' and amount = 0)
    or (kind = 'refund' and amount > 0)
  ),
  -- Grants carry a period (YYYY-MM) and no tale; everything else carries a tale and no period.
  constraint credit_ledger_grant_has_period check (
    case
      when kind = 'grant' then
        tale_id is null and period is not null and period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'
      else tale_id is not null and tale_id <> '' and period is null
    end
  )
);

comment on table public.credit_ledger is
  'Append-only. Balance = sum(amount). Written only by the billing functions.';

-- Idempotency: one grant per user and period, one reservation per tale, and one outcome per
-- tale (a settlement or a refund, never both and never twice).
create unique index credit_ledger_one_grant_per_period
  on public.credit_ledger (user_id, period) where kind = 'grant';
create unique index credit_ledger_one_reserve_per_tale
  on public.credit_ledger (tale_id) where kind = 'reserve';
create unique index credit_ledger_one_outcome_per_tale
  on public.credit_ledger (tale_id) where kind in ('settle', 'refund');
create index credit_ledger_user_id_id on public.credit_ledger (user_id, id);

create table public.tales (
  id text primary key,
  owner uuid not null references public.profiles (id) on delete cascade,
  title text,
  status text not null default 'submitted' check (
    status in (
      'submitted', 'planning', 'awaiting_approval', 'rendering', 'stitching',
      'completed', 'failed', 'cancelled'
    )
  ),
  stage text,
  progress integer not null default 0 check (progress between 0 and 100),
  poster_path text,
  video_path text,
  error_reason text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

comment on table public.tales is
  'What the owner sees of a tale (Realtime pushes changes); written by the backend only.';

create index tales_owner_created_at on public.tales (owner, created_at desc);

create table public.audit_log (
  id bigint generated always as identity primary key,
  actor uuid,
  action text not null,
  subject text,
  detail jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now()
);

comment on table public.audit_log is
  'Append-only. actor: the account concerned (null for system actions).';

create index audit_log_actor_created_at on public.audit_log (actor, created_at desc);

-- Triggers -----------------------------------------------------------------------------------

create function private.touch_updated_at() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end;
$$;

create trigger profiles_touch_updated_at before update on public.profiles
  for each row execute function private.touch_updated_at();
create trigger tales_touch_updated_at before update on public.tales
  for each row execute function private.touch_updated_at();

-- Append-only, whoever asks (the service role and the owner included). The one exception:
-- erasing an account (auth.users -> profiles -> credit_ledger, on delete cascade) removes its
-- ledger rows, which is recognised by the profile being gone already.
create function private.append_only() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if tg_op = 'DELETE' and tg_table_name = 'credit_ledger' then
    -- (nested: old.user_id exists on the ledger only)
    if not exists (select 1 from public.profiles p where p.id = old.user_id) then
      return old;
    end if;
  end if;
  raise exception '%.% is append-only: % is not allowed', tg_table_schema, tg_table_name, tg_op
    using errcode = 'restrict_violation';
end;
$$;

create trigger credit_ledger_append_only before update or delete on public.credit_ledger
  for each row execute function private.append_only();
create trigger credit_ledger_no_truncate before truncate on public.credit_ledger
  for each statement execute function private.append_only();
create trigger audit_log_append_only before update or delete on public.audit_log
  for each row execute function private.append_only();
create trigger audit_log_no_truncate before truncate on public.audit_log
  for each statement execute function private.append_only();

create function private.audit_plan_change() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.audit_log (actor, action, subject, detail)
  values (new.id, 'profile.plan_changed', new.id::text,
          jsonb_build_object('from', old.plan, 'to', new.plan));
  return null;
end;
$$;

create trigger profiles_audit_plan_change after update of plan on public.profiles
  for each row when (old.plan is distinct from new.plan)
  execute function private.audit_plan_change();

revoke all on function private.touch_updated_at() from public;
revoke all on function private.append_only() from public;
revoke all on function private.audit_plan_change() from public;

-- Privileges and row-level security ----------------------------------------------------------
-- Supabase's default privileges grant everything in `public` to anon, authenticated and
-- service_role; take that back and grant what each role needs.

revoke all on table public.profiles, public.credit_ledger, public.tales, public.audit_log
  from public, anon, authenticated, service_role;
revoke all on sequence public.credit_ledger_id_seq, public.audit_log_id_seq
  from public, anon, authenticated, service_role;

grant select on table public.profiles, public.credit_ledger, public.tales, public.audit_log
  to authenticated;
grant all on table public.profiles, public.tales to service_role;
grant select on table public.credit_ledger to service_role;
grant select, insert on table public.audit_log to service_role;

alter table public.profiles enable row level security;
alter table public.credit_ledger enable row level security;
alter table public.tales enable row level security;
alter table public.audit_log enable row level security;
-- Forced where the table owner has no business reading rows. Not on the tables that the
-- security-definer functions (owned by the table owner) read and write: there the owner's
-- access is the design, and forcing would make it hinge on the owner holding BYPASSRLS.
alter table public.tales force row level security;

create policy profiles_select_own on public.profiles
  for select to authenticated using (id = (select auth.uid()));
create policy credit_ledger_select_own on public.credit_ledger
  for select to authenticated using (user_id = (select auth.uid()));
create policy tales_select_own on public.tales
  for select to authenticated using (owner = (select auth.uid()));
create policy audit_log_select_own on public.audit_log
  for select to authenticated using (actor = (select auth.uid()));

-- Realtime: the owner's client subscribes to changes of its tales (RLS applies).
do $$
begin
  if not exists (select 1 from pg_catalog.pg_publication where pubname = 'supabase_realtime') then
    create publication supabase_realtime;
  end if;
  if not (select puballtables from pg_catalog.pg_publication
          where pubname = 'supabase_realtime')
     and not exists (select 1 from pg_catalog.pg_publication_tables
                     where pubname = 'supabase_realtime'
                       and schemaname = 'public' and tablename = 'tales') then
    alter publication supabase_realtime add table public.tales;
  end if;
end;
$$;

-- Credit functions ---------------------------------------------------------------------------
-- security definer, empty search_path, fully-qualified names. Every money movement of an
-- account takes the lock on its profile row first, so they are serialised per account;
-- the partial unique indexes above back the idempotency up.

create function billing.balance(p_user uuid) returns integer
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(sum(l.amount), 0)::integer
  from public.credit_ledger l
  where l.user_id = p_user
$$;

comment on function billing.balance(uuid) is 'The sum of the account''s ledger.';

create function billing.ensure_profile(p_user uuid, p_email text, p_plan text default 'free')
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.profiles (id, email, plan)
  values (p_user, p_email, coalesce(p_plan, 'free'))
  on conflict (id) do nothing;
  if not found then
    return false;
  end if;
  insert into public.audit_log (actor, action, subject, detail)
  values (p_user, 'profile.created', p_user::text,
          jsonb_build_object('plan', coalesce(p_plan, 'free')));
  return true;
end;
$$;

comment on function billing.ensure_profile(uuid, text, text) is
  'Creates the profile if missing; true when this call created it.';

create function billing.grant_monthly(p_user uuid, p_period text, p_amount integer)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
  if p_period is null or p_period !~ '^[0-9]{4}-(0[1-9]|1[0-2])$' then
    raise exception 'the period must be YYYY-MM, not %', coalesce(p_period, 'null')
      using errcode = 'invalid_parameter_value';
  end if;
  if p_amount is null or p_amount < 0 then
    raise exception 'a grant cannot be negative (%)', p_amount
      using errcode = 'invalid_parameter_value';
  end if;
  perform 1 from public.profiles p where p.id = p_user for update;
  if not found then
    raise exception 'no profile for %', p_user using errcode = 'no_data_found';
  end if;
  insert into public.credit_ledger (user_id, kind, amount, period)
  values (p_user, 'grant', p_amount, p_period)
  on conflict (user_id, period) where kind = 'grant' do nothing;
  if not found then
    return false;
  end if;
  insert into public.audit_log (actor, action, subject, detail)
  values (p_user, 'credits.granted', p_period,
          jsonb_build_object('amount', p_amount, 'balance', billing.balance(p_user)));
  return true;
end;
$$;

comment on function billing.grant_monthly(uuid, text, integer) is
  'The plan''s credits for a period, at most once per account and period.';

create function billing.reserve_credits(p_user uuid, p_tale text, p_amount integer)
returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_owner uuid;
  v_balance integer;
begin
  if p_tale is null or p_tale = '' then
    raise exception 'a tale id is required' using errcode = 'invalid_parameter_value';
  end if;
  if p_amount is null or p_amount <= 0 then
    raise exception 'a reservation must be positive (%)', p_amount
      using errcode = 'invalid_parameter_value';
  end if;
  -- The balance check below reads what other transactions committed while this one waited
  -- for the lock; only READ COMMITTED (PostgREST's and PostgreSQL's default) does that.
  if current_setting('transaction_isolation') <> 'read committed' then
    raise exception 'reserve_credits needs READ COMMITTED, not %',
      current_setting('transaction_isolation')
      using errcode = 'invalid_transaction_state';
  end if;
  perform 1 from public.profiles p where p.id = p_user for update;
  if not found then
    return 'insufficient';  -- no account, no credits
  end if;
  select l.user_id into v_owner
  from public.credit_ledger l
  where l.tale_id = p_tale and l.kind = 'reserve';
  if found then
    if v_owner <> p_user then
      raise exception 'tale % is reserved by another account', p_tale
        using errcode = 'unique_violation';
    end if;
    return 'already_reserved';
  end if;
  v_balance := billing.balance(p_user);
  if v_balance < p_amount then
    return 'insufficient';
  end if;
  insert into public.credit_ledger (user_id, kind, amount, tale_id)
  values (p_user, 'reserve', -p_amount, p_tale);
  insert into public.audit_log (actor, action, subject, detail)
  values (p_user, 'credits.reserved', p_tale,
          jsonb_build_object('amount', -p_amount, 'balance', v_balance - p_amount));
  return 'reserved';
end;
$$;

comment on function billing.reserve_credits(uuid, text, integer) is
  'reserved | already_reserved | insufficient; never lets the balance go below zero.';

-- Settle or refund: the tale's one outcome.
create function billing.close_reservation(p_tale text, p_kind text) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user uuid;
  v_reserved integer;
  v_amount integer;
begin
  if p_kind not in ('settle', 'refund') then
    raise exception 'unknown outcome %', p_kind using errcode = 'invalid_parameter_value';
  end if;
  select l.user_id, l.amount into v_user, v_reserved
  from public.credit_ledger l
  where l.tale_id = p_tale and l.kind = 'reserve';
  if not found then
    return false;
  end if;
  perform 1 from public.profiles p where p.id = v_user for update;
  if exists (select 1 from public.credit_ledger l
             where l.tale_id = p_tale and l.kind in ('settle', 'refund')) then
    return false;
  end if;
  v_amount := case p_kind when 'settle' then 0 else -v_reserved end;
  insert into public.credit_ledger (user_id, kind, amount, tale_id)
  values (v_user, p_kind, v_amount, p_tale);
  insert into public.audit_log (actor, action, subject, detail)
  values (v_user, case p_kind when 'settle' then 'credits.settled' else 'credits.refunded' end,
          p_tale,
          jsonb_build_object('amount', v_amount, 'reserved', -v_reserved,
                             'balance', billing.balance(v_user)));
  return true;
end;
$$;

create function billing.settle_credits(p_tale text) returns boolean
language sql
security definer
set search_path = ''
as $$
  select billing.close_reservation(p_tale, 'settle')
$$;

comment on function billing.settle_credits(text) is
  'The reservation becomes final; at most once, never after a refund.';

create function billing.refund_credits(p_tale text) returns boolean
language sql
security definer
set search_path = ''
as $$
  select billing.close_reservation(p_tale, 'refund')
$$;

comment on function billing.refund_credits(text) is
  'The reservation is returned; at most once, never after a settlement.';

revoke all on function billing.balance(uuid) from public, anon, authenticated;
revoke all on function billing.ensure_profile(uuid, text, text) from public, anon, authenticated;
revoke all on function billing.grant_monthly(uuid, text, integer)
  from public, anon, authenticated;
revoke all on function billing.reserve_credits(uuid, text, integer)
  from public, anon, authenticated;
revoke all on function billing.close_reservation(text, text) from public, anon, authenticated;
revoke all on function billing.settle_credits(text) from public, anon, authenticated;
revoke all on function billing.refund_credits(text) from public, anon, authenticated;

grant execute on function billing.balance(uuid) to service_role;
grant execute on function billing.ensure_profile(uuid, text, text) to service_role;
grant execute on function billing.grant_monthly(uuid, text, integer) to service_role;
grant execute on function billing.reserve_credits(uuid, text, integer) to service_role;
grant execute on function billing.settle_credits(text) to service_role;
grant execute on function billing.refund_credits(text) to service_role;

-- The PostgREST face: `public` wrappers, security invoker, for the service role only --------

create function public.balance(p_user uuid) returns integer
language sql stable security invoker set search_path = ''
as $$ select billing.balance(p_user) $$;

create function public.ensure_profile(p_user uuid, p_email text, p_plan text default 'free')
returns boolean
language sql security invoker set search_path = ''
as $$ select billing.ensure_profile(p_user, p_email, p_plan) $$;

create function public.grant_monthly(p_user uuid, p_period text, p_amount integer)
returns boolean
language sql security invoker set search_path = ''
as $$ select billing.grant_monthly(p_user, p_period, p_amount) $$;

create function public.reserve_credits(p_user uuid, p_tale text, p_amount integer)
returns text
language sql security invoker set search_path = ''
as $$ select billing.reserve_credits(p_user, p_tale, p_amount) $$;

create function public.settle_credits(p_tale text) returns boolean
language sql security invoker set search_path = ''
as $$ select billing.settle_credits(p_tale) $$;

create function public.refund_credits(p_tale text) returns boolean
language sql security invoker set search_path = ''
as $$ select billing.refund_credits(p_tale) $$;

revoke all on function public.balance(uuid) from public, anon, authenticated;
revoke all on function public.ensure_profile(uuid, text, text) from public, anon, authenticated;
revoke all on function public.grant_monthly(uuid, text, integer)
  from public, anon, authenticated;
revoke all on function public.reserve_credits(uuid, text, integer)
  from public, anon, authenticated;
revoke all on function public.settle_credits(text) from public, anon, authenticated;
revoke all on function public.refund_credits(text) from public, anon, authenticated;

grant execute on function public.balance(uuid) to service_role;
grant execute on function public.ensure_profile(uuid, text, text) to service_role;
grant execute on function public.grant_monthly(uuid, text, integer) to service_role;
grant execute on function public.reserve_credits(uuid, text, integer) to service_role;
grant execute on function public.settle_credits(text) to service_role;
grant execute on function public.refund_credits(text) to service_role;

-- PostgREST picks the new functions up (Supabase also does this on its own, via an event
-- trigger; without a listener this does nothing).
notify pgrst, 'reload schema';
