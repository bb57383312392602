"""Notification content: email templates in Korean, English, Japanese and Chinese."""
