"""The trend scout: what is rising on YouTube Shorts, explained, as seeds for new tales.

Cloud Scheduler → ``trends.collect`` → ``collect_trends`` → ``trends.collected`` →
``analyze_trends`` → digest emails; ``GET /v1/trends`` and ``POST /v1/trends/{id}/tales``
in the API; ``tale trends …`` on the command line. The modules, in the order data flows:

- ``youtube``: the YouTube Data API v3 over httpx (``search.list``, ``videos.list``,
  ``channels.list``) and what its errors mean.
- ``quota``: the daily unit budget — documented unit costs, the Pacific-time quota day, a
  spend recorded before every call, and the stop when the quota is exhausted.
- ``parse``: API resources into videos and statistics snapshots, counting what is skipped.
- ``collect``: one collection of a region (search, re-measure, channel sizes, retention).
- ``keywords``, ``scoring``, ``grouping``: velocity, acceleration, outliers, keyword rise,
  de-duplication and trends.
- ``explain``: the trend write-up port, the offline summariser and the shared prompt.
- ``analyze``: scoring, explaining and storing one analysis; ``digest``: the emails.
- ``apikeys``: business API keys (``tsk_…``, hashed at rest).
- ``sample`` and ``chart``: the shipped sample data set and the velocity chart (PNG).

Nothing here imports a cloud SDK or a media library at import time.
"""
