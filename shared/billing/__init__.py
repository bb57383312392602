"""Paid plans: checkout, the portal, and what the payment provider's webhooks change."""
