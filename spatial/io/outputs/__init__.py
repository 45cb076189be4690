"""Output folders: files written whole (a temporary file renamed into place), a command's
folder staged and swapped, and the tables of each command's folder written and read back.

- :mod:`spatial.io.outputs.write` CSV (Chinese headers, formula-safe), GeoPackage, text
- :mod:`spatial.io.outputs.runfolder` one run, one set of outputs; folders as inputs
- :mod:`spatial.io.outputs.results` the gaps, bundles and plan tables
"""

__all__: list[str] = []
