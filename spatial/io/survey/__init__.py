"""Survey tables as planners keep them (台账): Excel/CSV/DBF with Chinese headers, the
canonical schema and its aliases, values as clerks write them, names, households
estimated from buildings, matching a clerk's table to footprints, geocoding.

- :mod:`spatial.io.survey.tables` reading tables (repeated headers, header rows)
- :mod:`spatial.io.survey.schema` the canonical columns and their Chinese aliases
- :mod:`spatial.io.survey.conform`, :mod:`spatial.io.survey.values` columns and values
- :mod:`spatial.io.survey.names` compound names; :mod:`spatial.io.survey.match` matching
- :mod:`spatial.io.survey.estimate` households from buildings (OSM has no survey)
- :mod:`spatial.io.survey.dbf`, :mod:`spatial.io.survey.geocode` DBF files, addresses
"""

__all__: list[str] = []
