"""The template studio's editing model: a version's files as forms marketing can edit.

Pure functions over a version's files (`dict[path, bytes]`, the layout of `app.templates`):
`forms.read_form` turns them into a JSON-able form (theme with contrast verdicts, assets, every
string by key and locale, the scenes in order with their conditions and layers), and
`edits.apply_edits` writes a list of small edits back into the files, keeping the comments and
formatting of every file it touches. No I/O, no database: the dashboard saves what comes out.
"""
