"""The pieces of the consultant report that :mod:`workbench.report` puts together.

- :mod:`~workbench.reporting.notebooks`: executed notebooks made deterministic and secret-free,
  exported as offline HTML pages without code, and their declared papermill parameters;
- :mod:`~workbench.reporting.manifest`: the per-stage status kept in ``report.json``, so a stage
  rerun alone still shows the whole report on the title page;
- :mod:`~workbench.reporting.checks`: each stage's own checks, printed on its page and recorded,
  so the report calls a stage ok only when what it produced is ok;
- :mod:`~workbench.reporting.title`: the title page (client, date, masked database, summary
  figures read from the stage artifacts, charts embedded as data URIs);
- :mod:`~workbench.reporting.browser`: a headless Chromium check of the pages (console errors,
  DOM facts, screenshot) over the DevTools pipe, stdlib only.
"""
