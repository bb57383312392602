"""Email providers behind the ``Notifier`` port: SendGrid's v3 Mail Send API and SMTP.

``SendingNotifier`` (``sending.py``) sends each notification at most once per key and maps
the providers' failures onto ``TransientError`` (redelivered) and ``PermanentError``.
"""
