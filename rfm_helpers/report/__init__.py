"""Where pages are drawn: narrative sentences, tables, charts, colours, units, the manifest and
index, and the HTML export.
"""
