-- A dispute closed in our favour gives back what it took.
--
-- When a charge is disputed, billing.apply_payment_event takes back the share of its invoice's
-- credits ('revoke', never below a zero balance; the rest is `credits_lost`). When the dispute
-- is then closed in our favour (Stripe's `won`, or `warning_closed`: an inquiry that never
-- became a chargeback), the payment stands and the credits come back: exactly what the
-- dispute's withdrawal lines took from the balance, never what was lost (spent already).
--
-- The billing rules (shared/domain/billing.py) keep each dispute in the account's billing state
-- with the object ids of its withdrawal lines, and send the closing line (`dispute_won`) with
-- them as `restore`. This function, in the same transaction as everything else the event does,
-- sums the credits those lines of the account took and writes them back as a 'reinstate'
-- entry of the credit ledger. The closing line's object id is unique, so a redelivered or
-- repeated close gives nothing more.
--
-- Privileges are unchanged: the function stays SECURITY DEFINER with an empty search_path,
-- executable by service_role only (its public wrapper too); the tables' row-level security is
-- untouched.

-- Credit ledger: one more kind of entry, for an invoice --------------------------------------

alter table public.credit_ledger drop constraint credit_ledger_kind_check;
alter table public.credit_ledger add constraint credit_ledger_kind_check check (
  kind in ('grant', 'paid', 'revoke', 'reinstate', 'reserve', 'reserve_more', 'settle', 'refund')
);

alter table public.credit_ledger drop constraint credit_ledger_amount_sign;
alter table public.credit_ledger add constraint credit_ledger_amount_sign check (
  (kind = 'grant' and amount >= 0)
  or (kind = 'paid' and amount > 0)
  or (kind = 'revoke' and amount < 0)
  or (kind = 'reinstate' and amount > 0)
  or (kind = 'reserve' and amount < 0)
  or (kind = 'reserve_more' and amount <= 0)
  or (kind = 'settle' and amount >= 0)
  or (kind = 'refund' and amount > 0)
);

alter table public.credit_ledger drop constraint credit_ledger_grant_has_period;
alter table public.credit_ledger add constraint credit_ledger_grant_has_period check (
  case
    when kind = 'grant' then
      tale_id is null and period is not null and period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'
      and invoice_id is null
    when kind in ('paid', 'revoke', 'reinstate') then
      tale_id is null and period is null and invoice_id is not null and invoice_id <> ''
    else tale_id is not null and tale_id <> '' and period is null and invoice_id is null
  end
);

-- Apply one decided event: 'applied', 'duplicate' or 'conflict' (20261222000000_payments.sql).
-- p_records: [{kind, object_id, amount, currency, invoice_id, plan, grant, withdraw, restore}],
-- `restore` an array of object ids of the account's withdrawal lines.
create or replace function billing.apply_payment_event(
  p_event text,
  p_type text,
  p_user uuid,
  p_version integer,
  p_state jsonb,
  p_plan text,
  p_subscribed boolean,
  p_records jsonb,
  p_notices jsonb
)
returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  r record;
  v_version integer;
  v_taken integer;
  v_restored integer;
  v_credits integer;
  v_lost integer;
begin
  if p_plan is null or p_plan not in ('free', 'pro', 'business') then
    raise exception 'unknown plan %', p_plan using errcode = 'invalid_parameter_value';
  end if;
  -- Sums below must see what other money movements committed while this one waited.
  if current_setting('transaction_isolation') <> 'read committed' then
    raise exception 'apply_payment_event needs READ COMMITTED, not %',
      current_setting('transaction_isolation')
      using errcode = 'invalid_transaction_state';
  end if;
  perform 1 from public.profiles p where p.id = p_user for update;
  if not found then
    raise exception 'no profile for %', p_user using errcode = 'no_data_found';
  end if;
  if p_event is not null
     and exists (select 1 from public.billing_events e where e.event_id = p_event) then
    return 'duplicate';
  end if;
  insert into public.billing_accounts (user_id) values (p_user) on conflict do nothing;
  select a.version into v_version from public.billing_accounts a where a.user_id = p_user;
  if v_version <> p_version then
    return 'conflict';
  end if;
  if p_event is not null then
    insert into public.billing_events (event_id, user_id, type, notices)
    values (p_event, p_user, p_type, coalesce(p_notices, '[]'::jsonb));
  end if;
  update public.billing_accounts
     set state = coalesce(p_state, '{}'::jsonb), version = version + 1
   where user_id = p_user;
  update public.profiles
     set plan = p_plan, subscribed = p_subscribed
   where id = p_user and (plan is distinct from p_plan or subscribed is distinct from p_subscribed);
  for r in
    select * from jsonb_to_recordset(coalesce(p_records, '[]'::jsonb)) as x(
      kind text, object_id text, amount bigint, currency text, invoice_id text, plan text,
      "grant" integer, withdraw integer, "restore" jsonb)
  loop
    continue when exists (select 1 from public.payments m where m.object_id = r.object_id);
    v_credits := coalesce(r."grant", 0);
    v_lost := 0;
    if coalesce(r."grant", 0) > 0 then
      insert into public.credit_ledger (user_id, kind, amount, invoice_id)
      values (p_user, 'paid', r."grant", r.invoice_id);
    end if;
    if jsonb_typeof(r."restore") = 'array' and jsonb_array_length(r."restore") > 0 then
      -- What the named withdrawal lines of this account took from the balance (their credits
      -- are negative; what they could not take is in credits_lost and is not given back).
      select greatest(coalesce(-sum(m.credits), 0), 0) into v_restored
        from public.payments m
       where m.user_id = p_user
         and m.kind = 'withdrawal'
         and m.object_id in (select jsonb_array_elements_text(r."restore"));
      v_credits := v_credits + v_restored;
      if v_restored > 0 then
        insert into public.credit_ledger (user_id, kind, amount, invoice_id)
        values (p_user, 'reinstate', v_restored, r.invoice_id);
      end if;
    end if;
    if coalesce(r.withdraw, 0) > 0 then
      v_taken := least(r.withdraw, greatest(billing.balance(p_user), 0));
      v_credits := -v_taken;
      v_lost := r.withdraw - v_taken;
      if v_taken > 0 then
        insert into public.credit_ledger (user_id, kind, amount, invoice_id)
        values (p_user, 'revoke', -v_taken, r.invoice_id);
      end if;
    end if;
    insert into public.payments
      (user_id, kind, object_id, invoice_id, amount, currency, plan, credits, credits_lost,
       period)
    values (p_user, r.kind, r.object_id, r.invoice_id, r.amount, r.currency, r.plan,
            v_credits, v_lost, to_char(now() at time zone 'utc', 'YYYY-MM'));
  end loop;
  insert into public.audit_log (actor, action, subject, detail)
  values (p_user, 'billing.event', coalesce(p_event, 'refresh'),
          jsonb_build_object('type', p_type, 'plan', p_plan, 'subscribed', p_subscribed,
                             'balance', billing.balance(p_user)));
  return 'applied';
end;
$$;

-- `create or replace` keeps the function's privileges; stated again so that this file alone
-- says who may call it.
revoke all on function billing.apply_payment_event(
  text, text, uuid, integer, jsonb, text, boolean, jsonb, jsonb
) from public, anon, authenticated;
grant execute on function billing.apply_payment_event(
  text, text, uuid, integer, jsonb, text, boolean, jsonb, jsonb
) to service_role;

notify pgrst, 'reload schema';
