"""Policy profiles per jurisdiction (TOML), read by :mod:`spatial.policy`."""

__all__: list[str] = []
