"""Unit economics: what tales cost, priced from a versioned price table.

- ``prices``: the price table (``prices.json``) — prices with their sources, meters from usage
  units to prices, scenario engines, fixed monthly items, assumptions and plan revenue;
- ``model``: a tale's (or a month's) usage records priced by stage and provider, with the
  platform's overhead share and every unpriced unit;
- ``profile``: the work of an average video, observed or modelled;
- ``scenarios``: scenario A (external APIs) against B (self-hosted GPUs), break-even and the
  business plan's two decision signals;
- ``estimate``: a tale's cost before it is generated;
- ``chart``: monthly cost against volume, as a PNG;
- ``report``: all of it for ``tale costs``.

Nothing here is imported by the functions at start-up: the API imports ``estimate`` when it
needs one.
"""
