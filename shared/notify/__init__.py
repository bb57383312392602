"""Notification content: Korean and English email templates."""
