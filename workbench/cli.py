"""The ``workbench`` command line: one subcommand per stage action.

User errors (:class:`~workbench.errors.WorkbenchError`) become one line on stderr and exit code 2;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.db import scrub
from workbench.errors import WorkbenchError

if TYPE_CHECKING:  # the commands import what they use when they run: a quick --help
    from workbench.design.model import Design
    from workbench.engagement import Engagement
    from workbench.schema import Schema
    from workbench.workload.model import Workload

Handler = Callable[[argparse.Namespace], int | None]


def _sample_scale(text: str) -> float:
    """argparse type for ``--scale``: a volume multiplier in (0, 100]."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value <= 100:
        raise argparse.ArgumentTypeError(f"scale must be in (0, 100], got {text}")
    return value


def _cmd_sample_build(args: argparse.Namespace) -> None:
    from workbench.sample import build

    path = build(args.out, scale=args.scale, seed=args.seed)
    print(f"sample database written to {path}")


def _cmd_sample_load(args: argparse.Namespace) -> None:
    from workbench.db import mask_url
    from workbench.sample import load

    counts = load(args.url, scale=args.scale, seed=args.seed)
    print(f"loaded {len(counts)} tables, {sum(counts.values()):,} rows into {mask_url(args.url)}")


def _cmd_introspect(args: argparse.Namespace) -> None:
    from workbench import serde
    from workbench.introspect import introspect

    schema = introspect(args.url, schemas=args.schema or None, exact_counts=args.exact_counts)
    if args.out:
        serde.save(schema, args.out)
        print(f"{len(schema.base_tables)} tables, {len(schema.views)} views -> {args.out}")
    else:
        sys.stdout.write(serde.dumps(schema))


def _load_schema(source: str) -> Schema:
    """A schema from a schema.json path or, for a URL, by introspecting it."""
    from workbench import serde
    from workbench.schema import Schema

    if "://" in source:
        from workbench.introspect import introspect

        return introspect(source)
    return serde.load(Schema, source)


def _cmd_lint(args: argparse.Namespace) -> int:
    from workbench.assess.lint import lint

    findings = lint(_load_schema(args.source))
    if args.json:
        from workbench.serde import to_dict

        print(json.dumps(to_dict(findings), indent=2))
    else:
        for f in findings:
            print(f"{f.severity:<7} {f.rule:<28} {f.table:<32} {f.message}")
        print(f"{len(findings)} findings")
    return 1 if args.fail_on and any(f.severity == args.fail_on for f in findings) else 0


def _cmd_profile(args: argparse.Namespace) -> None:
    from workbench.assess.profile import profile_tables

    frame = profile_tables(_load_schema(args.source))
    print(frame.to_string(index=False))


def _report_engagement(args: argparse.Namespace) -> Engagement:
    """The engagement of ``workbench report``: --config, else --db, else the copy a render left in --out; flags
    override."""
    import yaml

    from workbench import engagement as eng

    out = Path(args.out)
    if args.config:
        e = eng.load_engagement(args.config)
    elif args.db:
        e = eng.Engagement()
    elif (out / eng.FILE).exists():
        e = eng.load_engagement(out / eng.FILE)  # rerun stages with the settings of the last render
    else:
        raise WorkbenchError("give --config engagement.yaml or --db URL (or --out a folder rendered before)")
    if args.db:
        e.database.url = args.db  # may hold a literal password: moved to the kernels' environment, never written
    e.client = args.client or e.client
    e.engagement = args.engagement or e.engagement
    e.date = eng.check_date(args.date, "--date") if args.date else e.date
    e.database.schemas = args.schema or e.database.schemas
    e.database.exclude_schemas = args.exclude_schema or e.database.exclude_schemas
    e.workload.logs = (
        [str(Path(p).resolve()) if "://" not in p else p for p in args.log] if args.log else e.workload.logs
    )
    e.workload.format = args.log_format or e.workload.format
    e.decomposition.method = args.method or e.decomposition.method
    e.decomposition.services = args.services or e.decomposition.services
    e.target_dialect = args.dialect or e.target_dialect
    for name, value in _pairs(args.param, "-p").items():
        e.parameters[name] = yaml.safe_load(value)
    return e


def _cmd_report(args: argparse.Namespace) -> int:
    from workbench.engagement import ask_password
    from workbench.report import StageRun, available_stages, render_engagement, write_params

    engagement = _report_engagement(args)
    if args.write_params:
        for path in write_params(engagement, args.out, args.write_params, args.stage or None, args.start):
            print(path)
        return 0

    def progress(run: StageRun) -> None:
        print(f"stage {run.stage}: {run.status} ({run.seconds:.1f} s)", file=sys.stderr, flush=True)

    env = ask_password(engagement.database.url, engagement.database.prompt)
    result = render_engagement(engagement, args.out, args.stage or None, args.start, env=env, on_stage=progress)
    for setting in result.ignored:
        print(f"note: {setting} is not a parameter of any stage notebook ({', '.join(available_stages())}): ignored",
              file=sys.stderr)
    print(f"report written to {result.index}")
    if args.check:
        from workbench.reporting.browser import check_pages

        pages = [result.index, *sorted(result.index.parent.glob("[0-9]*.html"))]
        errors = {page: found for page, found in check_pages(pages).items() if found}
        for page, found in sorted(errors.items()):
            for error in found:
                print(f"{page}: {error}", file=sys.stderr)
        print(f"{len(pages)} pages opened in headless Chromium: {sum(map(len, errors.values()))} console errors")
        return 1 if errors else 0
    return 0


def _pairs(values: list[str] | None, what: str) -> dict[str, str]:
    """``name=value`` arguments as a dict; a malformed one is an error naming it."""
    out = {}
    for item in values or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise WorkbenchError(f"{what} must look like name=value, got {item!r}")
        out[name.strip()] = value.strip()
    return out


def _load_workload(path: str | None) -> Workload | None:
    from workbench import serde
    from workbench.workload.model import Workload

    return serde.load(Workload, path) if path else None


def _cmd_decompose(args: argparse.Namespace) -> None:
    from workbench.decompose import decompose, save_decomposition
    from workbench.decompose.options import DecomposeOptions

    if bool(args.url) == bool(args.schema):
        raise WorkbenchError("give either a database URL or --schema schema.json (not both)")
    weights = {}
    for name, value in _pairs(args.weight, "--weight").items():
        try:
            weights[name] = float(value)
        except ValueError:
            raise WorkbenchError(f"--weight {name} needs a number, got {value!r}") from None
    options = DecomposeOptions(
        method=args.method, resolution=args.resolution, services=args.services, weights=weights,
        pins=_pairs(args.pin, "--pin"), together=[g.split(",") for g in args.together or []],
        apart=[g.split(",") for g in args.apart or []], exclude=args.exclude or [], min_size=args.min_size,
        max_size=args.max_size, seed=args.seed, stability=args.stability, roles=not args.no_roles,
        reference=args.reference)
    decomposition = decompose(_load_schema(args.url or args.schema), _load_workload(args.workload), options)
    save_decomposition(decomposition, args.out)
    sizes = sorted((len(s.tables) for s in decomposition.services.values()), reverse=True)
    contexts = len({s.context for s in decomposition.services.values() if s.context})
    print(f"{len(decomposition.services)} services in {contexts} contexts (sizes {', '.join(map(str, sizes))}), "
          f"{len(decomposition.ambiguous)} ambiguous, {len(decomposition.unassigned)} unassigned -> {args.out}")
    if decomposition.parameters.get("services_note"):
        print(decomposition.parameters["services_note"])


def _cmd_score(args: argparse.Namespace) -> None:
    from workbench import serde
    from workbench.decompose import load_decomposition, score
    from workbench.decompose.metrics import load_truth
    from workbench.schema import Schema

    result = score(load_decomposition(args.decomposition), serde.load(Schema, args.schema),
                   _load_workload(args.workload), truth=load_truth(args.truth) if args.truth else None)
    print(json.dumps(result, indent=2))


def _cmd_workload(args: argparse.Namespace) -> None:
    from workbench import serde

    if args.sources[0] == "simulate":
        from workbench.workload.simlog import FILES, write_logs

        if len(args.sources) > 1 or not args.out:
            raise WorkbenchError("usage: workbench workload simulate --out DIR [--statements N] [--seed S]")
        paths = write_logs(args.out, statements=args.statements, seed=args.seed, formats=args.log or list(FILES))
        for fmt, path in sorted(paths.items()):
            print(f"{fmt:<20} {path}")
        return
    from workbench.schema import Schema
    from workbench.workload import ingest

    if not args.format or not args.out:
        raise WorkbenchError("give --format and --out (see 'workbench workload --help')")
    schema = serde.load(Schema, args.schema) if args.schema else None
    workload = ingest(args.sources, args.format, schema=schema, dialect=args.dialect)
    serde.save(workload, args.out)
    unknown = sorted({n for t in workload.templates for n in t.unknown_tables})
    print(f"{workload.statements:,} statements, {len(workload.templates):,} templates, "
          f"{sum(t.count for t in workload.transactions):,} transactions -> {args.out}")
    for issue in workload.issues:
        print(f"  {issue.kind}: {issue.count:,} (e.g. {issue.samples[0] if issue.samples else '-'})")
    if unknown:
        print(f"  not in the schema: {', '.join(unknown[:10])}{' ...' if len(unknown) > 10 else ''}")


def _cmd_design(args: argparse.Namespace) -> None:
    from workbench.decompose import load_decomposition
    from workbench.design import DIALECTS, design, write_design
    from workbench.design.schemas import check_dialect

    rules: dict[str, float] = {}
    for name, value in _pairs(args.rule, "--rule").items():
        try:
            rules[name] = float(value) if "." in value or "e" in value.lower() else int(value)
        except ValueError:
            raise WorkbenchError(f"--rule {name} needs a number, got {value!r}") from None
    dialects = list(DIALECTS) if "all" in (args.dialect or []) else [check_dialect(d) for d in args.dialect or
                                                                     ["postgresql"]]
    result = design(_load_schema(args.schema), load_decomposition(args.decomposition), _load_workload(args.workload),
                    rules=rules, prefix=args.prefix, polling=args.polling)
    paths = write_design(result, args.out, dialects)
    kinds: dict[str, int] = {}
    for d in result.dependencies:
        kinds[d.mechanism] = kinds.get(d.mechanism, 0) + 1
    print(f"{len(result.services)} services, {len(result.dependencies)} cross-boundary dependencies, "
          f"{len(result.events)} events, {len(result.projections)} read models, {len(result.sagas)} sagas "
          f"-> {paths['readme'].parent}")
    for mechanism, n in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {mechanism:<27} {n}")


def _cmd_plan(args: argparse.Namespace) -> None:
    from workbench.design import load_design
    from workbench.plan import plan, write_plan

    result = plan(load_design(args.design), max_per_wave=args.max_per_wave)
    paths = write_plan(result, args.out)
    for w in result.waves:
        print(f"wave {w.number}: {', '.join(w.services)} ({w.points:g} points, {len(w.prerequisites)} prerequisites)")
    print(f"{len(result.risks)} risks -> {paths['plan']} and {paths['summary']}")


def _design_arg(path: str, prefix: str) -> tuple[Design, Path]:
    """The design of ``--design`` (folder or design.json) with ``--prefix`` applied, and its folder."""
    from workbench.design import load_design
    from workbench.migrate.target import with_prefix

    folder = Path(path)
    return with_prefix(load_design(folder), prefix), folder if folder.is_dir() else folder.parent


def _cmd_migrate(args: argparse.Namespace) -> int:
    import time

    from workbench import serde
    from workbench.errors import MigrationError
    from workbench.migrate import migrate

    design, folder = _design_arg(args.design, args.prefix)
    start = time.perf_counter()
    try:
        result = migrate(args.source, args.target, design, services=args.service or None, chunk_size=args.chunk_size,
                         design_dir=folder, alembic=not args.no_alembic)
    except MigrationError as exc:
        if exc.result is not None and args.out:
            serde.save(exc.result, args.out)
        raise
    seconds = time.perf_counter() - start
    for s in result.services:
        tables = [t for t in result.tables if t.service == s.service]
        print(f"{s.service:<24} {sum(t.rows for t in tables):>11,} rows in {len(tables)} tables -> {s.where}"
              f"{' (created)' if s.created else ''}")
    print(f"{result.copied:,} rows copied now ({result.rows:,} in all) in {seconds:.1f} s"
          + (f", {result.copied / seconds:,.0f} rows/s" if result.copied and seconds > 0 else ""))
    if args.out:
        serde.save(result, args.out)
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    from workbench import serde
    from workbench.migrate.verify import verify

    design, _ = _design_arg(args.design, args.prefix)
    report = verify(args.source, args.target, design, services=args.service or None)
    if args.out:
        serde.save(report, args.out)
    else:
        sys.stdout.write(serde.dumps(report))
    equal = sum(t.status == "equal" for t in report.tables)
    print(f"{equal}/{len(report.tables)} tables equal, {sum(f.violations for f in report.foreign_keys)} foreign key "
          f"violations, {sum(r.dangling for r in report.references)} dangling references "
          f"({sum(r.new for r in report.references)} new)", file=sys.stderr)
    for line in report.problems():
        print(f"  {line}", file=sys.stderr)
    return 0 if report.ok else 1


def _cmd_drift(args: argparse.Namespace) -> int:
    from workbench import serde
    from workbench.operate import drift

    design, _ = _design_arg(args.design, args.prefix)
    report = drift(args.target, design, services=args.service or None)
    if args.json:
        sys.stdout.write(serde.dumps(report))
    else:
        for name in report.missing:
            print(f"{name:<24} not on the target")
        for d in report.drifts:
            print(f"{d.service:<24} {d.kind:<20} {d.table}{'.' + d.name if d.name else ''}  {d.detail}")
        print(f"{len(report.drifts)} differences, {len(report.missing)} services missing")
    return 0 if report.ok else 1


def _cmd_advise(args: argparse.Namespace) -> None:
    from workbench import serde
    from workbench.operate import advise

    design, _ = _design_arg(args.design, args.prefix)
    found = advise(design, _load_workload(args.workload), dialect=args.dialect, services=args.service or None,
                   min_calls=args.min_calls)
    if args.json:
        print(json.dumps(serde.to_dict(found), indent=2))
        return
    for a in found:
        print(f"-- {a.service}.{a.table}: {a.kind}: {a.reason}\n{a.sql};")
    print(f"-- {len(found)} pieces of advice")


def _cmd_monitor(args: argparse.Namespace) -> None:
    from workbench.operate.monitor import queries, script

    design, _ = _design_arg(args.design, args.prefix)
    text = script(queries(design, args.dialect, services=args.service or None), args.dialect)
    if args.out:
        from workbench import serde

        serde.write_text(args.out, text)
        print(f"monitoring queries -> {args.out}")
    else:
        sys.stdout.write(text)


def _sync_state(args: argparse.Namespace, folder: Path) -> Path:
    from workbench.sync.state import default_folder

    return Path(args.state) if args.state else default_folder(folder)


def _cmd_sync_setup(args: argparse.Namespace) -> None:
    from workbench.sync import setup

    design, folder = _design_arg(args.design, "")
    spec = setup(args.source, design, name=args.name, state_dir=_sync_state(args, folder),
                 services=args.service or None)
    print(f"capture {spec.name} on {spec.source} ({spec.backend}), starting at {spec.start or '(the beginning)'}:")
    print("  this command (and teardown) are the only ones that write to the source, and only to its catalog")
    for action in spec.actions:
        print(f"  - {action.what}{'' if action.done_now else ' [nothing done now]'}")
        if action.sql:
            print(f"      {action.sql}")
    print(f"  {len(spec.tables)} tables captured; privileges the login needs:")
    for line in spec.privileges:
        print(f"  - {line}")
    for note in spec.notes:
        print(f"  note: {note}")
    print(f"capture recorded in {_sync_state(args, folder) / 'capture.json'}")


def _cmd_sync_run(args: argparse.Namespace) -> int:
    from workbench.sync import FollowOptions, follow

    design, folder = _design_arg(args.design, args.prefix)
    options = FollowOptions(until_caught_up=args.until_caught_up, duration=args.duration,
                            batch_changes=args.batch, progress=False if args.no_progress else None)
    result = follow(args.source, args.target, design, state_dir=_sync_state(args, folder),
                    services=args.service or None, options=options)
    print(f"{result.events:,} row changes applied from {result.transactions:,} source transactions in "
          f"{result.seconds:.1f} s" + (", caught up" if result.caught_up else "")
          + (f"; {result.retries} reconnects" if result.retries else ""))
    for service, rows in sorted(result.reconciled.items()):
        print(f"  {service}: levelled with the source snapshot ({rows:,} rows written)")
    if args.verify:
        from workbench import serde
        from workbench.migrate.verify import verify
        from workbench.sync.model import VERIFY_FILE

        report = verify(args.source, args.target, design, services=args.service or None)
        serde.save(report, _sync_state(args, folder) / VERIFY_FILE)
        equal = sum(t.status == "equal" for t in report.tables)
        print(f"verify: {equal}/{len(report.tables)} tables equal -> {_sync_state(args, folder) / VERIFY_FILE}")
        for line in report.problems():
            print(f"  {line}")
        return 0 if report.ok else 1
    return 0


def _cmd_sync_status(args: argparse.Namespace) -> int:
    from workbench import serde
    from workbench.sync import status

    design, folder = _design_arg(args.design, args.prefix)
    out = status(args.source, args.target, design, state_dir=_sync_state(args, folder),
                 services=args.service or None, count=not args.no_count)
    if args.json:
        sys.stdout.write(serde.dumps(out))
    else:
        print(f"capture {out.capture or '-'} ({out.backend}): {out.state}; source head {out.head or '-'}")
        print(f"{'service':<24} {'position':<22} {'lag events':>11} {'lag s':>8} {'events/s':>9} {'applied':>10}")
        for s in out.services:
            lag_events = "-" if s.lag_events is None else f"{s.lag_events:,}"
            lag_seconds = "-" if s.lag_seconds is None else f"{s.lag_seconds:.1f}"
            print(f"{s.service:<24} {s.position or '-':<22} {lag_events:>11} {lag_seconds:>8} "
                  f"{s.events_per_second:>9.1f} {s.events:>10,}")
        if out.health.message:
            print(f"capture: {out.health.message}")
        for note in out.notes:
            print(f"note: {note}")
    return 1 if out.state in ("not set up", "torn down") or (out.health.left_behind and out.state != "following") \
        else 0


def _cmd_sync_teardown(args: argparse.Namespace) -> None:
    from workbench.sync import teardown

    folder = Path(args.design) if args.design else None
    state_dir = Path(args.state) if args.state else None
    if state_dir is None and folder is None:
        raise WorkbenchError("give --design (its sync/ folder holds the capture) or --state")
    done = teardown(args.source, folder, state_dir=state_dir)
    print("capture removed from the source" + (":" if done else " (nothing was created there)"))
    for sql in done:
        print(f"  {sql}")


def _cmd_sync_rehearse(args: argparse.Namespace) -> int:
    from workbench import serde
    from workbench.sync.rehearse import rehearse

    result = rehearse(args.server, scale=args.scale, rate=args.rate, duration=args.duration, kills=args.kills,
                      drops=args.drops, seed=args.seed, work_dir=args.work_dir, keep=args.keep,
                      log=lambda text: print(text, file=sys.stderr))
    if args.out:
        serde.save(result, args.out)
    r = result.replay
    print(f"{result.backend}: {r.transactions:,} transactions replayed ({r.rows:,} rows changed, {r.refused:,} "
          f"statements refused by the legacy constraints) at {r.rate:g}/s; follower killed {result.kills}x, "
          f"{result.dropped_connections} target connections dropped; lag 0 after {result.catch_up_seconds:.1f} s; "
          f"{result.events:,} row changes applied")
    print(f"verify: {'every table equal' if result.ok else 'DIFFERENCES'} ({result.tables} tables, "
          f"{result.rows:,} rows)")
    for line in result.problems:
        print(f"  {line}")
    return 0 if result.ok else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="workbench", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sample = sub.add_parser("sample", help="the sample legacy database").add_subparsers(dest="action", required=True)
    p = sample.add_parser("build", help="generate the sample database as a SQLite file")
    p.add_argument("--out", default="sample_db/retail.sqlite")
    p.add_argument(
        "--scale", type=_sample_scale, default=1.0, help="volume multiplier (1.0: largest tables >= 100,000 rows)"
    )
    p.add_argument("--seed", type=int, default=20260101)
    p.set_defaults(func=_cmd_sample_build)
    p = sample.add_parser("load", help="load the sample schema and data into a server (PostgreSQL, MariaDB)")
    p.add_argument("url")
    p.add_argument("--scale", type=_sample_scale, default=1.0)
    p.add_argument("--seed", type=int, default=20260101)
    p.set_defaults(func=_cmd_sample_load)

    p = sub.add_parser("introspect", help="read a database's schema (read-only) into schema.json")
    p.add_argument("url", help="SQLAlchemy URL; password via ${VAR} or WORKBENCH_DB_PASSWORD")
    p.add_argument("--out", help="schema.json path (default: print)")
    p.add_argument("--schema", action="append", help="schema to include (repeatable; default: all)")
    p.add_argument("--exact-counts", action="store_true", help="count rows instead of catalog estimates")
    p.set_defaults(func=_cmd_introspect)

    p = sub.add_parser("profile", help="tables by size, keys and index coverage")
    p.add_argument("source", help="schema.json or database URL")
    p.set_defaults(func=_cmd_profile)

    p = sub.add_parser("lint", help="schema findings that matter for decomposition")
    p.add_argument("source", help="schema.json or database URL")
    p.add_argument("--json", action="store_true")
    p.add_argument("--fail-on", choices=["error", "warning", "info"], help="exit 1 if a finding has this severity")
    p.set_defaults(func=_cmd_lint)

    p = sub.add_parser("decompose", help="candidate service boundaries -> decomposition.yaml")
    p.add_argument("url", nargs="?", help="database URL to introspect (read-only); or use --schema")
    p.add_argument("--schema", help="schema.json written by 'workbench introspect'")
    p.add_argument("--workload", help="workload.json written by the workload stage")
    from workbench.decompose.cluster import METHODS as _METHODS

    p.add_argument("--method", default="leiden", choices=list(_METHODS))
    size = p.add_mutually_exclusive_group()
    size.add_argument(
        "--resolution",
        type=float,
        help="granularity: higher gives more, smaller services (default: the most stable across seeds)",
    )
    size.add_argument("--services", type=int,
                      help="exactly this many services (a reference-data and a platform service for shared tables "
                           "come on top, and the output says so)")
    p.add_argument("--pin", action="append", metavar="TABLE=SERVICE", help="pin a table to a service (repeatable)")
    p.add_argument("--together", action="append", metavar="T1,T2[,...]", help="tables to keep in one service")
    p.add_argument("--apart", action="append", metavar="T1,T2", help="two tables to keep in different services")
    p.add_argument("--exclude", action="append", metavar="TABLE", help="leave a table out (repeatable)")
    p.add_argument("--min-size", type=int, help="smallest service, in tables")
    p.add_argument("--max-size", type=int, help="largest service, in tables")
    p.add_argument("--weight", action="append", metavar="SIGNAL=W", help="signal weight, e.g. cowrite=4 (repeatable)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--stability", type=int, default=8, help="extra runs measuring confidence (0: skip)")
    p.add_argument("--reference", choices=["service", "owner"], default="service",
                   help="shared reference data: one replicated reference-data service, or owned by the service "
                        "most tied to each lookup")
    p.add_argument("--no-roles", action="store_true",
                   help="cluster every table alike (no reference-data, platform or hub treatment)")
    p.add_argument("--out", required=True, help="decomposition.yaml to write")
    p.set_defaults(func=_cmd_decompose)

    p = sub.add_parser("score", help="metrics of a decomposition (hand-edited or not) as JSON")
    p.add_argument("decomposition", help="decomposition.yaml")
    p.add_argument("--schema", required=True, help="schema.json")
    p.add_argument("--workload", help="workload.json")
    p.add_argument("--truth", help="answer key CSV with columns table,domain")
    p.set_defaults(func=_cmd_score)

    from workbench.workload.sources import FORMATS as _LOG_FORMATS

    p = sub.add_parser("workload", help="query/transaction logs -> workload.json; or 'workload simulate --out DIR'",
                       description="workbench workload SOURCE... --format F --schema schema.json --out workload.json | "
                                   "workbench workload simulate --out DIR [--statements N] [--seed S]")
    p.add_argument("sources", nargs="+", metavar="SOURCE", help="log files or URLs (live formats); or 'simulate'")
    p.add_argument("--format", choices=sorted(_LOG_FORMATS), help="log format of the sources")
    p.add_argument("--schema", help="schema.json to resolve table names against (names it lacks are reported)")
    p.add_argument("--dialect", help="sqlglot dialect of the SQL (default: the format's, else the schema's)")
    p.add_argument("--out", help="workload.json to write (simulate: folder for the logs)")
    p.add_argument("--statements", type=int, default=100_000, help="simulate: statements to generate")
    p.add_argument("--seed", type=int, default=7, help="simulate: random seed")
    p.add_argument("--log", action="append", help="simulate: only this log format (repeatable)")
    p.set_defaults(func=_cmd_workload)

    p = sub.add_parser(
        "design",
        help="per-service schemas, DDL and a mechanism per cross-boundary dependency -> design/",
        description="workbench design decomposition.yaml --schema schema.json [--workload workload.json] "
        "--dialect D --out design/",
    )
    p.add_argument("decomposition", help="decomposition.yaml (hand-edited or not)")
    p.add_argument("--schema", required=True, help="schema.json (or a database URL to introspect, read-only)")
    p.add_argument("--workload", help="workload.json: call counts, joins and transactions as evidence")
    p.add_argument(
        "--dialect",
        action="append",
        metavar="D",
        help="DDL dialect: postgresql, mysql, sqlite, mssql, oracle, or all (repeatable; default postgresql)",
    )
    p.add_argument("--out", required=True, help="design folder to write (design.json, ddl/, catalog, sagas, ...)")
    p.add_argument("--prefix", default="", help="prefix of every service's schema/database/file name")
    p.add_argument("--rule", action="append", metavar="NAME=VALUE",
                   help="decision threshold, e.g. hot_read_share=0.05 (repeatable; see workbench.design.Rules)")
    p.add_argument("--polling", action="store_true", help="outbox with a 'published' flag for a polling relay")
    p.set_defaults(func=_cmd_design)

    p = sub.add_parser("plan", help="migration waves, effort, risks and prerequisites -> plan.json (+ plan.md)",
                       description="workbench plan --design design/ --out plan.json")
    p.add_argument("--design", required=True, help="design folder (or its design.json) written by 'workbench design'")
    p.add_argument("--out", required=True, help="plan.json to write; plan.md is written beside it")
    p.add_argument("--max-per-wave", type=int, help="at most this many services per wave")
    p.set_defaults(func=_cmd_plan)

    p = sub.add_parser("migrate", help="create each service's schema on a target and copy the legacy rows (resumable)",
                       description="workbench migrate --source URL --target URL|FOLDER --design design/")
    p.add_argument("--source", required=True, help="legacy database URL (opened read-only)")
    p.add_argument(
        "--target", required=True, help="PostgreSQL or MariaDB URL, or a folder (one SQLite file per service)"
    )
    p.add_argument("--design", required=True, help="design folder written by 'workbench design' (receives alembic/)")
    p.add_argument("--service", action="append", help="only this service (repeatable; default: all)")
    p.add_argument("--chunk-size", type=int, default=20_000, help="rows per chunk: one transaction and checkpoint each")
    p.add_argument("--prefix", default="", help="prepended to every namespace on the target (e.g. a rehearsal)")
    p.add_argument("--no-alembic", action="store_true", help="do not write and stamp the Alembic environments")
    p.add_argument("--out", help="migration.json to write")
    p.set_defaults(func=_cmd_migrate)

    p = sub.add_parser(
        "verify",
        help="compare the target with the legacy rows: counts, checksums, keys, references",
        description="workbench verify --source URL --target URL|FOLDER --design design/ [--out verify.json]",
    )
    p.add_argument("--source", required=True, help="legacy database URL (opened read-only)")
    p.add_argument("--target", required=True, help="the migration's target")
    p.add_argument("--design", required=True, help="design folder (or its design.json)")
    p.add_argument("--service", action="append", help="only this service (repeatable; default: all)")
    p.add_argument("--prefix", default="", help="the namespace prefix the migration used")
    p.add_argument("--out", help="verify.json to write (default: print it); exit code 1 on any difference")
    p.set_defaults(func=_cmd_verify)

    p = sub.add_parser("drift", help="live per-service schemas against the design (exit 1 on drift)",
                       description="workbench drift --target URL|FOLDER --design design/")
    p.add_argument("--target", required=True, help="the services' database (server URL or SQLite folder)")
    p.add_argument("--design", required=True, help="design folder (or its design.json)")
    p.add_argument("--service", action="append", help="only this service (repeatable; default: all)")
    p.add_argument("--prefix", default="", help="the namespace prefix the migration used")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_drift)

    p = sub.add_parser("advise", help="index advice per service from the schema and the workload (SQL)",
                       description="workbench advise --design design/ [--workload workload.json] [--dialect D]")
    p.add_argument("--design", required=True, help="design folder (or its design.json)")
    p.add_argument("--workload", help="workload.json: the statements that use the indexes")
    p.add_argument("--dialect", default="postgresql", help="dialect of the SQL written (default postgresql)")
    p.add_argument("--service", action="append", help="only this service (repeatable; default: all)")
    p.add_argument("--min-calls", type=int, default=10, help="calls a predicate needs before an index is advised")
    p.add_argument("--prefix", default="", help="the namespace prefix the migration used")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_advise)

    p = sub.add_parser(
        "monitor",
        help="the SQL each service's operators should watch (PostgreSQL, MariaDB)",
        description="workbench monitor --design design/ [--dialect postgresql|mysql] [--out monitor.sql]",
    )
    p.add_argument("--design", required=True, help="design folder (or its design.json)")
    p.add_argument("--dialect", default="postgresql", help="postgresql or mysql/mariadb (default postgresql)")
    p.add_argument("--service", action="append", help="only this service (repeatable; default: all)")
    p.add_argument("--prefix", default="", help="the namespace prefix the migration used")
    p.add_argument("--out", help="SQL file to write (default: print)")
    p.set_defaults(func=_cmd_monitor)

    sync = sub.add_parser("sync", help="follow the legacy database's change log into the services while it writes",
                          description="workbench sync setup | run | status | teardown | rehearse")
    sync_sub = sync.add_subparsers(dest="action", required=True)
    p = sync_sub.add_parser("setup", help="prepare change capture on the source (prints what it creates)")
    p.add_argument("--source", required=True, help="legacy database URL")
    p.add_argument("--design", required=True, help="design folder (the capture is recorded in its sync/ folder)")
    p.add_argument("--name", help="capture name: PostgreSQL slot and publication (default wb_sync_<database>)")
    p.add_argument("--state", help="folder for capture.json and the follower's status (default: <design>/sync)")
    p.add_argument("--service", action="append", help="only this service's tables (repeatable; default: all)")
    p.set_defaults(func=_cmd_sync_setup)
    p = sync_sub.add_parser("run", help="follow the capture into the target (Ctrl-C to stop; resumes where it stopped)")
    p.add_argument("--source", required=True, help="legacy database URL (read-only here)")
    p.add_argument("--target", required=True, help="the migration's target")
    p.add_argument("--design", required=True, help="design folder (or its design.json)")
    p.add_argument("--state", help="the capture's folder (default: <design>/sync)")
    p.add_argument("--prefix", default="", help="the namespace prefix the migration used")
    p.add_argument("--service", action="append", help="only this service (repeatable; default: all)")
    p.add_argument("--until-caught-up", action="store_true", help="stop once lag is 0")
    p.add_argument("--duration", type=float, help="stop after this many seconds")
    p.add_argument("--batch", type=int, default=10_000, help="row changes per target transaction at most")
    p.add_argument("--verify", action="store_true", help="then verify every table (exit 1 on a difference); "
                                                          "saved as <state>/verify.json for the report")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_sync_run)
    p = sync_sub.add_parser("status", help="per service: position, lag (events, seconds), events/s; capture health")
    p.add_argument("--source", required=True, help="legacy database URL (read-only)")
    p.add_argument("--target", required=True, help="the migration's target")
    p.add_argument("--design", required=True, help="design folder (or its design.json)")
    p.add_argument("--state", help="the capture's folder (default: <design>/sync)")
    p.add_argument("--prefix", default="", help="the namespace prefix the migration used")
    p.add_argument("--service", action="append", help="only this service (repeatable; default: all)")
    p.add_argument("--json", action="store_true", help="print the status as JSON")
    p.add_argument("--no-count", action="store_true", help="do not read the log to count waiting changes")
    p.set_defaults(func=_cmd_sync_status)
    p = sync_sub.add_parser("teardown", help="remove what setup created on the source (slot, publication, ...)")
    p.add_argument("--source", required=True, help="legacy database URL")
    p.add_argument("--design", help="design folder whose sync/ folder holds the capture")
    p.add_argument("--state", help="the capture's folder")
    p.set_defaults(func=_cmd_sync_teardown)
    p = sync_sub.add_parser("rehearse", help="load, migrate, follow under a replayed workload with kills; verify",
                            description="workbench sync rehearse --server postgresql://postgres@127.0.0.1/postgres")
    p.add_argument("--server", required=True, help="admin URL of a PostgreSQL or MariaDB server (databases are "
                                                   "created and dropped there)")
    p.add_argument("--scale", type=_sample_scale, default=0.1, help="sample volume (default 0.1)")
    p.add_argument("--rate", type=float, default=50.0, help="replayed write transactions per second")
    p.add_argument("--duration", type=float, default=60.0, help="seconds of replay")
    p.add_argument("--kills", type=int, default=3, help="follower SIGKILLs during the replay")
    p.add_argument("--drops", type=int, default=2, help="target connection drops during the replay")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--work-dir", help="folder for the design, the capture state and the follower's log")
    p.add_argument("--keep", action="store_true", help="keep the databases (and capture) for a look")
    p.add_argument("--out", help="write the result as JSON")
    p.set_defaults(func=_cmd_sync_rehearse)

    from workbench.events.commands import add_parser as _add_events

    _add_events(sub)

    p = sub.add_parser("report", help="render the stage notebooks with papermill into a report folder",
                       description="workbench report --config engagement.yaml --out reports/<client>/ | "
                                   "workbench report --db URL --out DIR [flags] | "
                                   "workbench report --out DIR --from design (rerun after a hand edit)")
    p.add_argument("--config", help="engagement.yaml (see engagement.example.yaml); flags below override it")
    p.add_argument(
        "--db", help="database URL of the legacy database (password: ${VAR}, WORKBENCH_DB_PASSWORD or prompt)"
    )
    p.add_argument("--out", required=True, help="output folder, e.g. reports/<client>")
    p.add_argument("--stage", action="append", help="stage to render (repeatable; default: all available)")
    p.add_argument("--from", dest="start", metavar="STAGE", help="render this stage and every later one")
    p.add_argument("--client", help="client name on the title page")
    p.add_argument("--engagement", help="engagement name on the title page")
    p.add_argument("--date", help="title page date, YYYY-MM-DD (default: today)")
    p.add_argument("--schema", action="append", help="schema to read (repeatable; default: all)")
    p.add_argument("--exclude-schema", action="append", help="schema to leave out (repeatable)")
    p.add_argument("--log", action="append", help="query log file or URL for the workload (repeatable)")
    p.add_argument("--log-format", help="format of the --log sources (see 'workbench workload --help')")
    p.add_argument("--method", help="decomposition method")
    p.add_argument("--services", type=int, help="target number of services")
    p.add_argument("--dialect", help="target SQL dialect of the design, e.g. postgresql")
    p.add_argument(
        "-p", "--param", action="append", metavar="NAME=VALUE", help="notebook parameter (YAML value; repeatable)"
    )
    p.add_argument(
        "--write-params", metavar="DIR", help="only write DIR/<stage>.yaml for plain 'papermill -f' and stop"
    )
    p.add_argument(
        "--check", action="store_true", help="then open every page in headless Chromium; exit 1 on console errors"
    )
    p.set_defaults(func=_cmd_report)
    return parser


def _one_line(message: str, limit: int = 2_000) -> str:
    """An error message as one line of bounded length, whatever input it quotes."""
    text = " ".join(message[: limit * 2].split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code = args.func(args)
        sys.stdout.flush()  # inside the try: a reader gone early shows here, not at interpreter exit
    except WorkbenchError as exc:
        print(f"workbench: error: {_one_line(scrub(str(exc)))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("workbench: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader stopped early (`workbench monitor | head`): not an error of ours
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # the interpreter's final flush must not fail again
        return 141  # 128 + SIGPIPE, as a program killed by the broken pipe reports it
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
