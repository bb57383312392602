-- Orphan reservations: credits reserved for a tale that was never created.
--
-- The API admits a tale (billing.admit_tale) and only then creates it in the tale store
-- (Firestore); a process that dies between the two leaves a reservation that holds the
-- account's credits and one of its running-tale slots with no tale to settle or refund it.
-- The sweep (the `sweep_stuck` function, every 5 minutes) lists the open reservations older
-- than its grace period (billing.open_reservations), refunds those whose tale does not exist
-- (billing.refund_credits: at most once, audited as ever) — see
-- shared/usecases/return_orphans.py.
--
-- A request retried under the same Idempotency-Key names the same tale. While the reservation
-- is open the retry reuses it (admit_tale answers false, as before); once it was refunded the
-- retry must neither create the tale without a reservation nor reserve again, so admit_tale
-- now refuses a tale whose reservation is closed (settled or refunded):
--   TA004 submission_expired  {"tale", "outcome"}   (outcome: 'settle' or 'refund')
-- and writes nothing. The refusals TA001-TA003 and everything else are unchanged.

-- Admission: a closed reservation is not admitted again -------------------------------------

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
  v_outcome text;
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
    -- Under the profile's lock: a refund or settlement of this tale (which takes the same
    -- lock) either committed before this read or waits until this admission has answered.
    select o.kind into v_outcome
    from public.credit_ledger o
    where o.tale_id = p_tale and o.kind in ('settle', 'refund');
    if found then
      raise exception 'the reservation of % is closed (%)', p_tale, v_outcome
        using errcode = 'TA004', hint = 'submission_expired',
              detail = jsonb_build_object('tale', p_tale, 'outcome', v_outcome)::text;
    end if;
    return false;  -- admitted before and still open: idempotent, no limit is checked again
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

comment on function billing.admit_tale(uuid, text, integer, bigint, text, bigint, integer) is
  'Admits a new tale (running limit, spending cap, balance) and reserves its credits, under '
  'the profile''s lock; true when this call admitted it, false when it was admitted before '
  'and is still open; TA004 when its reservation was settled or refunded.';

-- The open reservations, for the sweep -----------------------------------------------------

-- Every account's reservations that are neither settled nor refunded and were made before
-- p_before, a page at a time in tale-id order (from the first tale id after p_after). Both
-- lookups use the partial unique indexes on tale_id (one reservation, one outcome per tale).
create function billing.open_reservations(
  p_before timestamptz,
  p_after text default '',
  p_limit integer default 500
)
returns table (tale_id text, user_id uuid, credits integer, opened_at timestamptz)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if p_before is null or p_after is null or p_limit is null or p_limit < 1 then
    raise exception 'a moment, a tale id to start after and a page of at least 1 are required'
      using errcode = 'invalid_parameter_value';
  end if;
  return query
    select r.tale_id, r.user_id, -r.amount, r.created_at
    from public.credit_ledger r
    where r.kind = 'reserve' and r.created_at < p_before and r.tale_id > p_after
      and not exists (select 1 from public.credit_ledger o
                      where o.tale_id = r.tale_id and o.kind in ('settle', 'refund'))
    order by r.tale_id
    limit p_limit;
end;
$$;

comment on function billing.open_reservations(timestamptz, text, integer) is
  'Reservations neither settled nor refunded, made before p_before: a page in tale-id order '
  'after p_after (the sweep returns those whose tale was never created).';

revoke all on function billing.open_reservations(timestamptz, text, integer)
  from public, anon, authenticated;
grant execute on function billing.open_reservations(timestamptz, text, integer)
  to service_role;

-- The PostgREST face, for the service role only.
create function public.open_reservations(
  p_before timestamptz,
  p_after text default '',
  p_limit integer default 500
)
returns table (tale_id text, user_id uuid, credits integer, opened_at timestamptz)
language sql stable security invoker set search_path = ''
as $$
  select o.tale_id, o.user_id, o.credits, o.opened_at
  from billing.open_reservations(p_before, p_after, p_limit) o
$$;

revoke all on function public.open_reservations(timestamptz, text, integer)
  from public, anon, authenticated;
grant execute on function public.open_reservations(timestamptz, text, integer)
  to service_role;

notify pgrst, 'reload schema';
