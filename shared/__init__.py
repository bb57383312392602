"""Tale's library: domain, stages, ports, adapters, providers, media, runtime and bootstrap."""
