-- Admission of a new tale: the running-tale limit, the monthly spending cap and the balance,
-- checked and the credits reserved in one transaction (billing.admit_tale).
--
-- Before, the API counted the owner's unfinished tales and the month's committed spend in the
-- tale store and then reserved the credits: parallel requests all read the same count and all
-- passed (50 at once against a limit of 3 created 10 to 16 tales). Now the count, the sum and
-- the reservation happen under the lock of the owner's profile row, so every admission of an
-- account waits for the one before it.
--
-- A reservation made by admit_tale keeps the tale's estimate (whole micro-dollars, so sums
-- are exact) and the month it counts in. Running tales are the account's reservations with
-- neither a settlement nor a refund; the committed spend of a month is the sum of the
-- estimates admitted in it, whatever became of the tales (a failed or cancelled tale may
-- have been paid for in part). Reservations made before this migration carry no estimate and
-- count as nothing against a cap.
--
-- Refusals are raised with their own SQLSTATEs (class TA, "tale admission"), a hint naming
-- them and the figures as a JSON object in the detail; PostgREST answers them as HTTP 400
-- with code, message, details and hint, which the adapter maps to the domain's errors:
--   TA001 too_many_running_tales  {"running", "limit"}
--   TA002 spending_cap_exceeded   {"estimate_micro_usd", "committed_micro_usd",
--                                  "cap_micro_usd", "period"}
--   TA003 insufficient_credits    {"needed", "balance"}

alter table public.credit_ledger
  add column if not exists estimate_micro_usd bigint,
  add column if not exists spend_period text;

alter table public.credit_ledger add constraint credit_ledger_admission_on_reserve check (
  (estimate_micro_usd is null and spend_period is null)
  or (
    kind = 'reserve'
    and estimate_micro_usd >= 0
    and spend_period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'
  )
);

comment on column public.credit_ledger.estimate_micro_usd is
  'A reservation made by billing.admit_tale: the tale''s estimate in micro-dollars.';
comment on column public.credit_ledger.spend_period is
  'A reservation made by billing.admit_tale: the month (YYYY-MM) its estimate counts in.';

create index if not exists credit_ledger_reserve_per_period
  on public.credit_ledger (user_id, spend_period) where kind = 'reserve';

create function billing.admit_tale(
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
  -- The counts below must see what other admissions committed while this one waited for
  -- the lock; only READ COMMITTED (PostgREST's and PostgreSQL's default) does that.
  if current_setting('transaction_isolation') <> 'read committed' then
    raise exception 'admit_tale needs READ COMMITTED, not %',
      current_setting('transaction_isolation')
      using errcode = 'invalid_transaction_state';
  end if;
  -- No profile: no reservations, no spend, no credits (refused below, nothing is locked).
  perform 1 from public.profiles p where p.id = p_user for update;
  select l.user_id into v_owner
  from public.credit_ledger l
  where l.tale_id = p_tale and l.kind = 'reserve';
  if found then
    if v_owner <> p_user then
      raise exception 'tale % is reserved by another account', p_tale
        using errcode = 'unique_violation';
    end if;
    return false;  -- admitted before: idempotent, no limit is checked again
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
  select coalesce(sum(l.estimate_micro_usd), 0) into v_committed
  from public.credit_ledger l
  where l.user_id = p_user and l.kind = 'reserve' and l.spend_period = p_period;
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

comment on function billing.admit_tale(uuid, text, integer, bigint, text, bigint, integer) is
  'Admits a new tale (running limit, spending cap, balance) and reserves its credits, under '
  'the profile''s lock; true when this call admitted it, false when it was admitted before.';

revoke all on function billing.admit_tale(uuid, text, integer, bigint, text, bigint, integer)
  from public, anon, authenticated;
grant execute on function billing.admit_tale(uuid, text, integer, bigint, text, bigint, integer)
  to service_role;

-- The PostgREST face, for the service role only.
create function public.admit_tale(
  p_user uuid,
  p_tale text,
  p_credits integer,
  p_estimate_micro_usd bigint,
  p_period text,
  p_cap_micro_usd bigint,
  p_max_running integer
)
returns boolean
language sql security invoker set search_path = ''
as $$
  select billing.admit_tale(
    p_user, p_tale, p_credits, p_estimate_micro_usd, p_period, p_cap_micro_usd, p_max_running
  )
$$;

revoke all on function public.admit_tale(uuid, text, integer, bigint, text, bigint, integer)
  from public, anon, authenticated;
grant execute on function public.admit_tale(uuid, text, integer, bigint, text, bigint, integer)
  to service_role;

notify pgrst, 'reload schema';
