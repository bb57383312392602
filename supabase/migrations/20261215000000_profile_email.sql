-- A profile created without an email address takes the address when one becomes known.
--
-- The API creates a profile from the access token when the sign-up webhook has not arrived
-- yet, and either may lack the address (a token without the `email` claim, a webhook body
-- without it). The owner's notifications go to the profile's address, so an empty one is
-- filled by the next `ensure_profile` that knows it; an address already recorded is never
-- replaced here. Privileges and the `public` wrapper are unchanged (`create or replace`
-- keeps the function's grants).

create or replace function billing.ensure_profile(
  p_user uuid, p_email text, p_plan text default 'free'
)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.profiles (id, email, plan)
  values (p_user, p_email, coalesce(p_plan, 'free'))
  on conflict (id) do nothing;
  if found then
    insert into public.audit_log (actor, action, subject, detail)
    values (p_user, 'profile.created', p_user::text,
            jsonb_build_object('plan', coalesce(p_plan, 'free')));
    return true;
  end if;
  update public.profiles
     set email = p_email
   where id = p_user
     and coalesce(email, '') = ''
     and coalesce(p_email, '') <> '';
  if found then
    insert into public.audit_log (actor, action, subject, detail)
    values (p_user, 'profile.email_added', p_user::text, '{}'::jsonb);
  end if;
  return false;
end;
$$;

comment on function billing.ensure_profile(uuid, text, text) is
  'Creates the profile if missing (true when this call created it); fills an empty email.';
