"""Stripe: Checkout, the customer portal and webhooks through the ``stripe`` library."""
