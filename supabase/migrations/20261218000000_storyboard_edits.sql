-- Storyboard edits before approval (PATCH /v1/tales/{id}/storyboard): an edit that needs more
-- credits than its tale holds reserves the difference on the same tale
-- (billing.reserve_more_credits); a settlement keeps what the finished storyboard costs and
-- returns the rest (billing.settle_credits with p_cost).
--
-- A tale's reservation only grows until it is closed: an edit that needs fewer credits
-- returns nothing at once, the settlement does. That keeps every money movement of a tale
-- safe to repeat and to lose halfway — the tale store and the ledger are two databases, and
-- an edit reserves before it replaces the storyboard, so an edit that reserved and then lost
-- its race (the storyboard changed, the tale was approved or cancelled, the process died)
-- leaves the tale holding too much, never too little; the settlement returns the excess and a
-- refund returns everything. Each tale's credits still move exactly once, by its one
-- settlement or refund.
--
-- reserve_more_credits is idempotent by what it reserves: it adds only what the tale lacks
-- for the storyboard it is given (credits beyond the reservation and earlier additions, the
-- estimate beyond what the tale committed), so the same call again — a retry after a lost
-- answer — adds nothing. It checks the month's spending cap against the added estimate and
-- the balance against the added credits, under the profile's lock like admit_tale, and
-- refuses with the same SQLSTATEs:
--   TA002 spending_cap_exceeded   {"estimate_micro_usd" (the increase), "committed_micro_usd",
--                                  "cap_micro_usd", "period"}
--   TA003 insufficient_credits    {"needed" (the difference), "balance"}
-- The plan version the edit creates is kept with the entry. No running-tale limit applies:
-- the tale runs already.
--
-- The committed spend of a month now counts these additions too (admit_tale is replaced with
-- that one change).

alter table public.credit_ledger drop constraint credit_ledger_kind_check;
alter table public.credit_ledger add constraint credit_ledger_kind_check
  check (kind in ('grant', 'reserve', 'reserve_more', 'settle', 'refund'));

-- Signed amounts: grants and refunds add, reservations subtract (an addition may be zero when
-- only the estimate grew), a settlement returns what the finished storyboard did not need.
alter table public.credit_ledger drop constraint credit_ledger_amount_sign;
alter table public.credit_ledger add constraint credit_ledger_amount_sign check (
  (kind = 'grant' and amount >= 0)
  or (kind = 'reserve' and amount < 0)
  or (kind = 'reserve_more' and amount <= 0)
  or (kind = 'settle' and amount >= 0)
  or (kind = 'refund' and amount > 0)
);

alter table public.credit_ledger add column if not exists plan_version integer;

comment on column public.credit_ledger.plan_version is
  'A reservation made by billing.reserve_more_credits: the storyboard version of the edit.';

alter table public.credit_ledger drop constraint credit_ledger_admission_on_reserve;
alter table public.credit_ledger add constraint credit_ledger_admission_on_reserve check (
  (estimate_micro_usd is null and spend_period is null)
  or (
    kind in ('reserve', 'reserve_more')
    and estimate_micro_usd >= 0
    and spend_period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'
  )
);

alter table public.credit_ledger add constraint credit_ledger_reserve_more_has_version check (
  case
    when kind = 'reserve_more' then
      plan_version is not null and plan_version >= 1
      and estimate_micro_usd is not null and spend_period is not null
    else plan_version is null
  end
);

drop index if exists public.credit_ledger_reserve_per_period;
create index if not exists credit_ledger_spend_per_period
  on public.credit_ledger (user_id, spend_period) where spend_period is not null;
create index if not exists credit_ledger_more_per_tale
  on public.credit_ledger (tale_id) where kind = 'reserve_more';

-- Admission: unchanged but for the committed spend, which counts what edits added --------

-- The month's committed spend: the estimates admitted in it and what edits added in it.
create function billing.committed_spend(p_user uuid, p_period text) returns bigint
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(sum(l.estimate_micro_usd), 0)::bigint
  from public.credit_ledger l
  where l.user_id = p_user and l.spend_period = p_period
$$;

revoke all on function billing.committed_spend(uuid, text) from public, anon, authenticated;
grant execute on function billing.committed_spend(uuid, text) to service_role;

create or replace function billing.admit_tale(
  p_user uuid,
  p_tale text,
  p_credits integer,
  p_estimate_micro_usd bigint,
  p_period text,
  p_cap_micro_usd bigint,
  p_max_running integer
)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_owner uuid;
  v_running integer;
  v_committed bigint;
  v_balance integer;
begin
  if p_tale is null or p_tale = '' then
    raise exception 'a tale id is required' using errcode = 'invalid_parameter_value';
  end if;
  if p_credits is null or p_credits <= 0 then
    raise exception 'a reservation must be positive (%)', p_credits
      using errcode = 'invalid_parameter_value';
  end if;
  if p_period is null or p_period !~ '^[0-9]{4}-(0[1-9]|1[0-2])$' then
    raise exception 'the period must be YYYY-MM, not %', coalesce(p_period, 'null')
      using errcode = 'invalid_parameter_value';
  end if;
  if p_estimate_micro_usd is null or p_estimate_micro_usd < 0
     or p_cap_micro_usd is null or p_cap_micro_usd < 0
     or p_max_running is null or p_max_running < 1 then
    raise exception 'an estimate and a cap are >= 0 and the running limit >= 1'
      using errcode = 'invalid_parameter_value';
  end if;
  if current_setting('transaction_isolation') <> 'read committed' then
    raise exception 'admit_tale needs READ COMMITTED, not %',
      current_setting('transaction_isolation')
      using errcode = 'invalid_transaction_state';
  end if;
  perform 1 from public.profiles p where p.id = p_user for update;
  select l.user_id into v_owner
  from public.credit_ledger l
  where l.tale_id = p_tale and l.kind = 'reserve';
  if found then
    if v_owner <> p_user then
      raise exception 'tale % is reserved by another account', p_tale
        using errcode = 'unique_violation';
    end if;
    return false;
  end if;
  select count(*) into v_running
  from public.credit_ledger r
  where r.user_id = p_user and r.kind = 'reserve'
    and not exists (select 1 from public.credit_ledger o
                    where o.tale_id = r.tale_id and o.kind in ('settle', 'refund'));
  if v_running >= p_max_running then
    raise exception 'you have % tales in progress; the limit is %', v_running, p_max_running
      using errcode = 'TA001', hint = 'too_many_running_tales',
            detail = jsonb_build_object('running', v_running, 'limit', p_max_running)::text;
  end if;
  v_committed := billing.committed_spend(p_user, p_period);
  if v_committed + p_estimate_micro_usd > p_cap_micro_usd then
    raise exception 'the tale''s estimate would take % over its spending cap', p_period
      using errcode = 'TA002', hint = 'spending_cap_exceeded',
            detail = jsonb_build_object(
              'estimate_micro_usd', p_estimate_micro_usd,
              'committed_micro_usd', v_committed,
              'cap_micro_usd', p_cap_micro_usd,
              'period', p_period)::text;
  end if;
  v_balance := billing.balance(p_user);
  if v_balance < p_credits then
    raise exception 'this tale needs % credits; the balance is %', p_credits, v_balance
      using errcode = 'TA003', hint = 'insufficient_credits',
            detail = jsonb_build_object('needed', p_credits, 'balance', v_balance)::text;
  end if;
  insert into public.credit_ledger
    (user_id, kind, amount, tale_id, estimate_micro_usd, spend_period)
  values (p_user, 'reserve', -p_credits, p_tale, p_estimate_micro_usd, p_period);
  insert into public.audit_log (actor, action, subject, detail)
  values (p_user, 'credits.reserved', p_tale,
          jsonb_build_object('amount', -p_credits, 'balance', v_balance - p_credits,
                             'estimate_micro_usd', p_estimate_micro_usd,
                             'period', p_period));
  return true;
end;
$$;

-- More credits for an edited storyboard ----------------------------------------------------

create function billing.reserve_more_credits(
  p_user uuid,
  p_tale text,
  p_version integer,
  p_credits integer,
  p_estimate_micro_usd bigint,
  p_period text,
  p_cap_micro_usd bigint
)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_owner uuid;
  v_held integer;
  v_held_micro bigint;
  v_more integer;
  v_more_micro bigint;
  v_committed bigint;
  v_balance integer;
begin
  if p_tale is null or p_tale = '' then
    raise exception 'a tale id is required' using errcode = 'invalid_parameter_value';
  end if;
  if p_version is null or p_version < 1 or p_credits is null or p_credits < 1 then
    raise exception 'a plan version and a storyboard''s credits are >= 1'
      using errcode = 'invalid_parameter_value';
  end if;
  if p_period is null or p_period !~ '^[0-9]{4}-(0[1-9]|1[0-2])$' then
    raise exception 'the period must be YYYY-MM, not %', coalesce(p_period, 'null')
      using errcode = 'invalid_parameter_value';
  end if;
  if p_estimate_micro_usd is null or p_estimate_micro_usd < 0
     or p_cap_micro_usd is null or p_cap_micro_usd < 0 then
    raise exception 'an estimate and a cap are >= 0' using errcode = 'invalid_parameter_value';
  end if;
  -- The sums below must see what other changes of the account committed while this one
  -- waited for the lock; only READ COMMITTED does that.
  if current_setting('transaction_isolation') <> 'read committed' then
    raise exception 'reserve_more_credits needs READ COMMITTED, not %',
      current_setting('transaction_isolation')
      using errcode = 'invalid_transaction_state';
  end if;
  perform 1 from public.profiles p where p.id = p_user for update;
  select l.user_id into v_owner
  from public.credit_ledger l
  where l.tale_id = p_tale and l.kind = 'reserve';
  if not found then
    return false;  -- never reserved (an operator's tale is not charged)
  end if;
  if v_owner <> p_user then
    raise exception 'tale % is reserved by another account', p_tale
      using errcode = 'unique_violation';
  end if;
  if exists (select 1 from public.credit_ledger l
             where l.tale_id = p_tale and l.kind in ('settle', 'refund')) then
    return false;  -- settled or refunded: nothing more is reserved for it
  end if;
  select -coalesce(sum(l.amount), 0), coalesce(sum(l.estimate_micro_usd), 0)
    into v_held, v_held_micro
  from public.credit_ledger l
  where l.tale_id = p_tale and l.kind in ('reserve', 'reserve_more');
  v_more := greatest(p_credits - v_held, 0);
  v_more_micro := greatest(p_estimate_micro_usd - v_held_micro, 0);
  if v_more = 0 and v_more_micro = 0 then
    return false;  -- the tale holds enough (a repeated call lands here)
  end if;
  v_committed := billing.committed_spend(p_user, p_period);
  if v_more_micro > 0 and v_committed + v_more_micro > p_cap_micro_usd then
    raise exception 'the edit''s estimate would take % over its spending cap', p_period
      using errcode = 'TA002', hint = 'spending_cap_exceeded',
            detail = jsonb_build_object(
              'estimate_micro_usd', v_more_micro,
              'committed_micro_usd', v_committed,
              'cap_micro_usd', p_cap_micro_usd,
              'period', p_period)::text;
  end if;
  v_balance := billing.balance(p_user);
  if v_balance < v_more then
    raise exception 'this tale needs % credits; the balance is %', v_more, v_balance
      using errcode = 'TA003', hint = 'insufficient_credits',
            detail = jsonb_build_object('needed', v_more, 'balance', v_balance)::text;
  end if;
  insert into public.credit_ledger
    (user_id, kind, amount, tale_id, estimate_micro_usd, spend_period, plan_version)
  values (p_user, 'reserve_more', -v_more, p_tale, v_more_micro, p_period, p_version);
  insert into public.audit_log (actor, action, subject, detail)
  values (p_user, 'credits.reserved_more', p_tale,
          jsonb_build_object('amount', -v_more, 'balance', v_balance - v_more,
                             'reserved', v_held + v_more, 'plan_version', p_version,
                             'estimate_micro_usd', v_more_micro, 'period', p_period));
  return true;
end;
$$;

comment on function billing.reserve_more_credits(
  uuid, text, integer, integer, bigint, text, bigint
) is
  'Reserves on a tale what its edited storyboard needs beyond what it holds (spending cap and '
  'balance checked under the profile''s lock); false when it holds enough or is not reserved.';

revoke all on function billing.reserve_more_credits(
  uuid, text, integer, integer, bigint, text, bigint
) from public, anon, authenticated;
grant execute on function billing.reserve_more_credits(
  uuid, text, integer, integer, bigint, text, bigint
) to service_role;

create function public.reserve_more_credits(
  p_user uuid,
  p_tale text,
  p_version integer,
  p_credits integer,
  p_estimate_micro_usd bigint,
  p_period text,
  p_cap_micro_usd bigint
)
returns boolean
language sql security invoker set search_path = ''
as $$
  select billing.reserve_more_credits(
    p_user, p_tale, p_version, p_credits, p_estimate_micro_usd, p_period, p_cap_micro_usd
  )
$$;

revoke all on function public.reserve_more_credits(
  uuid, text, integer, integer, bigint, text, bigint
) from public, anon, authenticated;
grant execute on function public.reserve_more_credits(
  uuid, text, integer, integer, bigint, text, bigint
) to service_role;

-- Settle or refund everything a tale holds; a settlement keeps only what it cost -----------

drop function public.settle_credits(text);
drop function billing.settle_credits(text);

create or replace function billing.close_reservation(p_tale text, p_kind text, p_cost integer)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user uuid;
  v_held integer;
  v_amount integer;
begin
  if p_kind not in ('settle', 'refund') then
    raise exception 'unknown outcome %', p_kind using errcode = 'invalid_parameter_value';
  end if;
  if p_cost is not null and (p_kind <> 'settle' or p_cost < 0) then
    raise exception 'a settlement''s cost is >= 0 (%)', p_cost
      using errcode = 'invalid_parameter_value';
  end if;
  select l.user_id into v_user
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
  select -coalesce(sum(l.amount), 0) into v_held
  from public.credit_ledger l
  where l.tale_id = p_tale and l.kind in ('reserve', 'reserve_more');
  v_amount := case
    when p_kind = 'refund' then v_held
    when p_cost is null then 0
    else greatest(v_held - p_cost, 0)
  end;
  insert into public.credit_ledger (user_id, kind, amount, tale_id)
  values (v_user, p_kind, v_amount, p_tale);
  insert into public.audit_log (actor, action, subject, detail)
  values (v_user, case p_kind when 'settle' then 'credits.settled' else 'credits.refunded' end,
          p_tale,
          jsonb_build_object('amount', v_amount, 'reserved', v_held,
                             'balance', billing.balance(v_user))
          || case when p_cost is null then '{}'::jsonb
                  else jsonb_build_object('cost', p_cost) end);
  return true;
end;
$$;

create or replace function billing.refund_credits(p_tale text) returns boolean
language sql
security definer
set search_path = ''
as $$
  select billing.close_reservation(p_tale, 'refund', null)
$$;

drop function billing.close_reservation(text, text);

create function billing.settle_credits(p_tale text, p_cost integer default null)
returns boolean
language sql
security definer
set search_path = ''
as $$
  select billing.close_reservation(p_tale, 'settle', p_cost)
$$;

comment on function billing.settle_credits(text, integer) is
  'The reservation becomes final; with p_cost only that much is kept and the rest returned. '
  'At most once, never after a refund.';

create function public.settle_credits(p_tale text, p_cost integer default null)
returns boolean
language sql security invoker set search_path = ''
as $$ select billing.settle_credits(p_tale, p_cost) $$;

revoke all on function billing.close_reservation(text, text, integer)
  from public, anon, authenticated;
revoke all on function billing.settle_credits(text, integer) from public, anon, authenticated;
revoke all on function public.settle_credits(text, integer) from public, anon, authenticated;
grant execute on function billing.settle_credits(text, integer) to service_role;
grant execute on function public.settle_credits(text, integer) to service_role;

notify pgrst, 'reload schema';
