"""The domain: tale state machine, records and meaningful errors. No I/O here."""
