-- Paid plans: the billing side of the ledger database.
--
-- The payment provider's webhooks (Stripe) are the source of truth. Each event is decided by
-- the backend's billing rules (shared/domain/billing.py) against the account's billing state
-- and applied here by billing.apply_payment_event in ONE transaction, under the lock of the
-- account's profile row (the lock every money movement of an account takes):
--   * the event id is recorded (a replayed or redelivered event changes nothing: 'duplicate');
--   * the billing state is replaced, compare-and-set on its version (another event of the
--     same account applied meanwhile: 'conflict', and the backend decides again);
--   * the profile's plan and `subscribed` flag are set (plan changes are audited);
--   * the accounting lines are written (public.payments: payments, refunds, disputes), with
--     their credits: a paid invoice's credits ('paid', at most one per invoice), and credits
--     taken back after a refund or a dispute ('revoke'), never more than the balance — what
--     could not be taken back (spent already) is recorded as `credits_lost`.
-- Keeping processed event ids here, and not in the backend's claims store, is what makes
-- "exactly once" hold: the id, the credits and the accounting commit or roll back together.
--
-- Who may do what: `authenticated` reads its own billing account and accounting lines;
-- `service_role` reads the billing tables and writes them only through the functions below;
-- the accounting is append-only.

-- The profile knows whether its plan is paid through a subscription: such an account gets
-- its credits from each paid invoice, not from the monthly grant.
alter table public.profiles add column subscribed boolean not null default false;

-- Credit ledger: two more kinds of entry, for an invoice ---------------------------------

alter table public.credit_ledger add column invoice_id text;

alter table public.credit_ledger drop constraint credit_ledger_kind_check;
alter table public.credit_ledger add constraint credit_ledger_kind_check check (
  kind in ('grant', 'paid', 'revoke', 'reserve', 'reserve_more', 'settle', 'refund')
);

alter table public.credit_ledger drop constraint credit_ledger_amount_sign;
alter table public.credit_ledger add constraint credit_ledger_amount_sign check (
  (kind = 'grant' and amount >= 0)
  or (kind = 'paid' and amount > 0)
  or (kind = 'revoke' and amount < 0)
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
    when kind in ('paid', 'revoke') then
      tale_id is null and period is null and invoice_id is not null and invoice_id <> ''
    else tale_id is not null and tale_id <> '' and period is null and invoice_id is null
  end
);

create unique index credit_ledger_one_paid_per_invoice
  on public.credit_ledger (invoice_id) where kind = 'paid';

-- Tables -------------------------------------------------------------------------------------

create table public.billing_accounts (
  user_id uuid primary key references public.profiles (id) on delete cascade,
  customer_id text unique,
  language text,
  state jsonb not null default '{}'::jsonb,
  version integer not null default 0 check (version >= 0),
  updated_at timestamptz not null default now()
);

comment on table public.billing_accounts is
  'The profile''s billing side: the provider''s customer and the billing state (subscriptions '
  'and invoices) the rules decide on; written only by the billing functions.';

create table public.billing_events (
  event_id text primary key check (event_id <> ''),
  user_id uuid references public.profiles (id) on delete cascade,
  type text not null,
  notices jsonb not null default '[]'::jsonb,
  processed_at timestamptz not null default now()
);

comment on table public.billing_events is
  'Every payment event processed, once (with what its owner is to be told).';

create table public.payments (
  id bigint generated always as identity primary key,
  user_id uuid not null references public.profiles (id) on delete cascade,
  kind text not null check (
    kind in ('payment', 'refund', 'dispute', 'dispute_won', 'withdrawal')
  ),
  object_id text not null unique,
  invoice_id text,
  amount bigint not null,
  currency text not null,
  plan text,
  credits integer not null default 0,
  credits_lost integer not null default 0 check (credits_lost >= 0),
  period text not null check (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
  created_at timestamptz not null default now()
);

comment on table public.payments is
  'Append-only accounting beside the credit ledger: payments (positive, minor units), refunds '
  'and disputes (negative), credits granted or taken back, credits lost (spent before a '
  'refund or dispute).';

create index payments_user_id_id on public.payments (user_id, id);
create index payments_period on public.payments (period);

create trigger payments_append_only before update or delete on public.payments
  for each row execute function private.append_only();
create trigger payments_no_truncate before truncate on public.payments
  for each statement execute function private.append_only();
create trigger billing_accounts_touch_updated_at before update on public.billing_accounts
  for each row execute function private.touch_updated_at();

-- Privileges and row-level security ----------------------------------------------------------

revoke all on table public.billing_accounts, public.billing_events, public.payments
  from public, anon, authenticated, service_role;
revoke all on sequence public.payments_id_seq from public, anon, authenticated, service_role;

grant select on table public.billing_accounts, public.payments to authenticated;
grant select on table public.billing_accounts, public.billing_events, public.payments
  to service_role;

alter table public.billing_accounts enable row level security;
alter table public.billing_events enable row level security;
alter table public.payments enable row level security;

create policy billing_accounts_select_own on public.billing_accounts
  for select to authenticated using (user_id = (select auth.uid()));
create policy payments_select_own on public.payments
  for select to authenticated using (user_id = (select auth.uid()));

-- Functions ----------------------------------------------------------------------------------

-- The account's billing row (made on first use) with its profile's plan.
create function billing.load_billing_account(p_user uuid) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_out jsonb;
begin
  perform 1 from public.profiles p where p.id = p_user;
  if not found then
    raise exception 'no profile for %', p_user using errcode = 'no_data_found';
  end if;
  insert into public.billing_accounts (user_id) values (p_user) on conflict do nothing;
  select jsonb_build_object(
           'state', a.state, 'version', a.version, 'language', a.language,
           'customer_id', a.customer_id, 'plan', p.plan, 'subscribed', p.subscribed)
    into v_out
  from public.billing_accounts a join public.profiles p on p.id = a.user_id
  where a.user_id = p_user;
  return v_out;
end;
$$;

-- Record the account's customer unless one is; the one recorded.
create function billing.link_customer(p_user uuid, p_customer text, p_language text)
returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_customer text;
begin
  if p_customer is null or p_customer = '' then
    raise exception 'a customer id is required' using errcode = 'invalid_parameter_value';
  end if;
  perform 1 from public.profiles p where p.id = p_user for update;
  if not found then
    raise exception 'no profile for %', p_user using errcode = 'no_data_found';
  end if;
  insert into public.billing_accounts (user_id) values (p_user) on conflict do nothing;
  update public.billing_accounts a
     set customer_id = coalesce(a.customer_id, p_customer),
         language = coalesce(nullif(p_language, ''), a.language)
   where a.user_id = p_user
  returning a.customer_id into v_customer;
  return v_customer;
end;
$$;

create function billing.mark_payment_event(p_event text, p_type text) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.billing_events (event_id, type) values (p_event, p_type)
  on conflict (event_id) do nothing;
  return found;
end;
$$;

-- Apply one decided event: 'applied', 'duplicate' or 'conflict' (see the top of this file).
-- p_records: [{kind, object_id, amount, currency, invoice_id, plan, grant, withdraw}].
create function billing.apply_payment_event(
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
      "grant" integer, withdraw integer)
  loop
    continue when exists (select 1 from public.payments m where m.object_id = r.object_id);
    v_credits := coalesce(r."grant", 0);
    v_lost := 0;
    if coalesce(r."grant", 0) > 0 then
      insert into public.credit_ledger (user_id, kind, amount, invoice_id)
      values (p_user, 'paid', r."grant", r.invoice_id);
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

revoke all on function billing.load_billing_account(uuid) from public, anon, authenticated;
revoke all on function billing.link_customer(uuid, text, text) from public, anon, authenticated;
revoke all on function billing.mark_payment_event(text, text) from public, anon, authenticated;
revoke all on function billing.apply_payment_event(
  text, text, uuid, integer, jsonb, text, boolean, jsonb, jsonb
) from public, anon, authenticated;
grant execute on function billing.load_billing_account(uuid) to service_role;
grant execute on function billing.link_customer(uuid, text, text) to service_role;
grant execute on function billing.mark_payment_event(text, text) to service_role;
grant execute on function billing.apply_payment_event(
  text, text, uuid, integer, jsonb, text, boolean, jsonb, jsonb
) to service_role;

-- The PostgREST face, for the service role only.
create function public.load_billing_account(p_user uuid) returns jsonb
language sql security invoker set search_path = ''
as $$ select billing.load_billing_account(p_user) $$;

create function public.link_customer(p_user uuid, p_customer text, p_language text)
returns text
language sql security invoker set search_path = ''
as $$ select billing.link_customer(p_user, p_customer, p_language) $$;

create function public.mark_payment_event(p_event text, p_type text) returns boolean
language sql security invoker set search_path = ''
as $$ select billing.mark_payment_event(p_event, p_type) $$;

create function public.apply_payment_event(
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
language sql security invoker set search_path = ''
as $$
  select billing.apply_payment_event(
    p_event, p_type, p_user, p_version, p_state, p_plan, p_subscribed, p_records, p_notices
  )
$$;

revoke all on function public.load_billing_account(uuid) from public, anon, authenticated;
revoke all on function public.link_customer(uuid, text, text) from public, anon, authenticated;
revoke all on function public.mark_payment_event(text, text) from public, anon, authenticated;
revoke all on function public.apply_payment_event(
  text, text, uuid, integer, jsonb, text, boolean, jsonb, jsonb
) from public, anon, authenticated;
grant execute on function public.load_billing_account(uuid) to service_role;
grant execute on function public.link_customer(uuid, text, text) to service_role;
grant execute on function public.mark_payment_event(text, text) to service_role;
grant execute on function public.apply_payment_event(
  text, text, uuid, integer, jsonb, text, boolean, jsonb, jsonb
) to service_role;

notify pgrst, 'reload schema';
