"""Paid plans: what a payment provider's events do to an account — pure rules, no I/O.

The provider's webhooks are the source of truth. Each event is translated by its adapter into
one of the events of ``events`` (``PaymentEvent``) and decided by ``rules.decide`` against the
account's billing state (``account.Account``: every subscription and invoice of the account
the provider told us of), giving the new state and the money and credit movements
(``changes.Changes``). The billing book stores them atomically with the event id, so an event
is applied exactly once.

- ``account``: the billing state (subscriptions, invoices, disputes) and the plans' order.
- ``events``: what the provider's events say.
- ``changes``: what a decision changes (accounting lines, notices).
- ``rules``: the plan, the order of events, the credits of paid invoices; ``decide``.
- ``withdrawals``: what refunds and disputes take back of an invoice's credits.
- ``disputes``: each dispute's opening and close, and what a close in our favour gives back.

None of the modules is imported here: each one imports the package first, so importing one
here would close a cycle (``tests/unit/test_import_cycles.py``).
"""
