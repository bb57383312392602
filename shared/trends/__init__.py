"""The trend scout: what is rising on YouTube Shorts, explained, as seeds for new tales.

Cloud Scheduler → ``trends.collect`` → ``collect_trends`` → ``trends.collected`` →
``analyze_trends`` → digest emails; ``GET /v1/trends`` and ``POST /v1/trends/{id}/tales``
in the API; ``tale trends …`` on the command line. The modules, in the order data flows:

- ``youtube``: the YouTube Data API v3 over httpx (``videos.list`` charts and ids,
  ``search.list``, ``channels.list``, ``playlistItems.list``) and what its errors mean;
  ``standin``: the same API's documented semantics behind ``httpx.MockTransport`` (the sample
  replay and the tests).
- ``quota``: the two buckets Google documents today (100 ``search.list`` calls; 10,000 units
  for the rest), the Pacific-time quota day, a spend recorded before every call.
- ``regions``: region names and languages, and which niche queries a region searches.
- ``parse``: API resources into videos and snapshots (what a Short is), counting what is
  skipped.
- ``collect``: one collection of a region (charts, niche searches, re-measuring from
  ``remeasure``, channels and ``baselines``, retention).
- ``keywords``, ``scoring``, ``grouping``, ``build``: growth against the expected decay,
  the channel outlier, the hashtag rise, de-duplication, ranked trends.
- ``explain``: the write-up port, the offline summariser (its words in four languages in
  ``offline_text``) and the prompt (YouTube strings only inside the data markers).
- ``readers``: which languages a trend is written in (Korean and English always, Japanese and
  Chinese where read) and which trends a follower follows.
- ``analyze``: one analysis, each write-up stored as produced; ``digest``, ``digest_text``
  and ``unsubscribe``: the daily or weekly emails, in the follower's language, with one-click
  unsubscribe.
- ``apikeys``: business API keys (a customer's, metered, expiring, rotating).
- ``sample``, ``replay`` and ``chart``: the shipped sample data set, its offline replay, and
  the velocity chart (PNG).

Nothing here imports a cloud SDK or a media library at import time.
"""
