"""The Assess stage: profile a legacy schema and lint it for decomposition risks.

- measure: :mod:`.profile` (tables by size, keys, index coverage, headline figures), :mod:`.graph`
  (the FK graph: hubs, components, communities, cycles, reference data);
- judge: :mod:`.lint` (one module per rule, findings sorted by severity);
- present: :mod:`.plots` (matplotlib figures), :mod:`.narrative` (pros and cons as Markdown);
- run: :mod:`.stage` (introspect, assess, write ``schema.json``/``profile.csv``/``lint.json``),
  which the notebook ``notebooks/01_assess.ipynb`` calls;
- helpers: :mod:`.coltypes` (types via sqlglot), :mod:`.naming` (snake_case, plurals),
  :mod:`.indexes` (access paths), :mod:`.implied` (undeclared references by naming).
"""
