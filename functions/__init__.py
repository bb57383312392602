"""Cloud Function entry points: one thin module per function, delegating to ``shared``."""
