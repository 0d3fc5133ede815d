"""Names that try to become code (issue 13 item 1): through each context a name reaches.

Service names are held to what a schema may be called, with a one-line error, when a
decomposition is loaded or used; a hand-edited ``design.json`` is checked the same way. Names
that still reach generated files (legacy table, column and constraint names may hold anything)
stay inside their string, comment, line, code span or element: each test tries an injection
through one context and shows it landed as text.
"""

from __future__ import annotations

import ast
import copy
import html
import json
import re
import sqlite3
from pathlib import Path

import pytest
from nbconvert.filters.markdown_mistune import markdown2html_mistune

from workbench import serde
from workbench.cli import main
from workbench.decompose.model import Decomposition, Service, load_decomposition
from workbench.decompose.naming import suggest_name
from workbench.design import design as make_design
from workbench.design import write_design
from workbench.design.ddl import script
from workbench.design.model import Design, load_design
from workbench.errors import ArtifactError, TargetError
from workbench.migrate import versions
from workbench.migrate.target import with_prefix
from workbench.names import check_service_name, md_code, md_fence, md_text, py_docstring
from workbench.plan import plan as make_plan
from workbench.plan.frames import summary
from workbench.schema import Column, ForeignKey, Index, Schema, Table

EVIL_SERVICE = 'evil""" + str(__import__("os").system("id > /tmp/wb_pwned")) + """'
PAYLOAD = '<script>alert("x")</script><img src=x onerror=alert(1)>'
# legacy names may hold anything: quotes, a line break that would end a comment, Markdown and HTML
HOSTILE_TABLE = "orders\n); DROP TABLE canary; -- `x` " + PAYLOAD
HOSTILE_COLUMN = "note'); DROP TABLE canary; --\n\"\"\" + __import__('os').getcwd() + \"\"\""
HOSTILE_COMMENT = "it's \\ a */ comment\n-- with lines %s %% ${X}"


def _schema() -> Schema:
    return Schema(dialect="sqlite", database="sqlite:///legacy.db", tables=[
        Table("customers", columns=[Column("id", "INTEGER", False), Column("name", "VARCHAR(40)")],
              primary_key=["id"]),
        Table(HOSTILE_TABLE, columns=[Column("id", "INTEGER", False), Column("customer_id", "INTEGER"),
                                      Column(HOSTILE_COLUMN, "VARCHAR(20)", comment=HOSTILE_COMMENT,
                                             default="'it''s \"new\"'")],
              primary_key=["id"], foreign_keys=[ForeignKey(["customer_id"], "customers", ["id"], name="fk\n--x")],
              indexes=[Index("ix '\"\n", [HOSTILE_COLUMN])], comment=HOSTILE_COMMENT),
    ])


def _design() -> Design:
    d = Decomposition(services={"crm": Service(["customers"]), "sales": Service([HOSTILE_TABLE])})
    return make_design(_schema(), d, findings=[])


# -- service names at the door ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", [EVIL_SERVICE, "two\nlines", "with space", "dash-ed", "9lives", "a" * 64,
                                  "ü" * 32, "", "semi;colon", "dot.ted", "per%cent"])
def test_bad_service_names_are_refused_in_one_line(name: str, tmp_path: Path) -> None:
    path = tmp_path / "decomposition.yaml"
    path.write_text(json.dumps({"services": {name: {"tables": ["customers"]}}}), encoding="utf-8")
    with pytest.raises(ArtifactError) as info:
        load_decomposition(path)
    message = str(info.value)
    assert "\n" not in message and "service name" in message and str(path) in message
    with pytest.raises(ArtifactError):  # used, not only loaded: design() checks a decomposition built in code
        make_design(_schema(), Decomposition(services={name: Service(["customers"])}), findings=[])


@pytest.mark.parametrize("name", ["ordering", "Order_Management", "_private", "bestellungen2", "ñandú", "a" * 63])
def test_schema_like_service_names_are_accepted(name: str) -> None:
    assert check_service_name(name) == name
    d = Decomposition(services={name: Service(["customers"])})
    assert d.rename(name, "renamed").rename("renamed", name).services.keys() == {name}


def test_rename_and_the_cli_refuse_a_bad_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ArtifactError, match="service name"):
        Decomposition(services={"a": Service(["customers"])}).rename("a", "b c")
    path = tmp_path / "decomposition.yaml"
    path.write_text(f"services:\n  {json.dumps(EVIL_SERVICE)}: [customers]\n", encoding="utf-8")
    schema = tmp_path / "schema.json"
    serde.save(_schema(), schema)
    code = main(["design", str(path), "--schema", str(schema), "--out", str(tmp_path / "design")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "service name" in err
    assert not (tmp_path / "design").exists()


def test_suggested_names_are_valid_whatever_the_tables_are_called() -> None:
    import networkx as nx

    assert suggest_name(nx.Graph(), ["💥"]) == "service"
    assert suggest_name(nx.Graph(), ["orders", "order_lines"]) == "order"


def test_hand_edited_design_json_is_checked(tmp_path: Path) -> None:
    folder = tmp_path / "design"
    write_design(_design(), folder, ["sqlite"])
    data = json.loads((folder / "design.json").read_text(encoding="utf-8"))
    for field, value in (("name", EVIL_SERVICE), ("namespace", "../../etc"), ("namespace", 'x"; DROP SCHEMA y; --')):
        edited = copy.deepcopy(data)
        edited["services"]["sales"][field] = value
        (folder / "design.json").write_text(json.dumps(edited), encoding="utf-8")
        with pytest.raises(ArtifactError, match="not allowed"):
            load_design(folder)
    with pytest.raises(TargetError, match="prefix"):
        with_prefix(_design(), "x; DROP")


# -- generated Python (Alembic env.py and baseline) --------------------------------------------------------------------

def _shape(source: str) -> str:
    """The module's syntax tree with every string constant blanked: equal shapes differ only in text."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            node.value = "S"
    return ast.dump(tree)


def _strings(source: str) -> set[str]:
    return {n.value for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Constant) and isinstance(n.value, str)}


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql", "mysql"])
def test_names_cannot_become_python_in_alembic_files(dialect: str, tmp_path: Path) -> None:
    """A service name written past the checks (design objects built in code) and hostile legacy
    names give env.py and a baseline whose syntax tree is that of plain names: the names are data."""
    hostile = _design()
    hostile.services[EVIL_SERVICE] = hostile.services.pop("sales")
    hostile.services[EVIL_SERVICE].name = EVIL_SERVICE
    plain = _design()
    target = "postgresql://app@db/erp" if dialect != "sqlite" else f"sqlite:///{tmp_path / 'x.sqlite'}"
    evil_dir = versions.write_environment(hostile, EVIL_SERVICE, tmp_path / "evil", dialect, target)
    plain_dir = versions.write_environment(plain, "sales", tmp_path / "plain", dialect, target)
    for name in ("env.py", f"versions/{versions.BASELINE}.py"):
        evil, ok = (evil_dir / name).read_text(), (plain_dir / name).read_text()
        assert _shape(evil) == _shape(ok.replace("sales", "x")), name
    assert EVIL_SERVICE in _strings((evil_dir / "env.py").read_text())  # SERVICE = the name, intact
    baseline = _strings((evil_dir / "versions" / f"{versions.BASELINE}.py").read_text())
    assert {HOSTILE_TABLE, HOSTILE_COLUMN} <= baseline
    assert not Path("/tmp/wb_pwned").exists()


def test_docstring_text_cannot_end_the_docstring() -> None:
    for text in [EVIL_SERVICE, 'a\\"""b', "x\\", "\\N{BULLET}", "line\nbreak\r\u2028", '"' * 7]:
        source = f'"""Service {py_docstring(repr(text))}."""\nSTOP = 1\n'
        tree = ast.parse(source)
        assert len(tree.body) == 2 and ast.get_docstring(tree) == f"Service {text!r}."


def test_alembic_ini_takes_no_line_from_a_name(tmp_path: Path) -> None:
    d = _design()
    bad = "sales\n[alembic]\nscript_location = /tmp/elsewhere"
    d.services[bad] = d.services.pop("sales")
    d.services[bad].name = bad
    with pytest.raises(ArtifactError, match="line break"):
        versions.write_environment(d, bad, tmp_path, "postgresql", "postgresql://app@db/erp")
    with pytest.raises(ArtifactError, match="line break"):
        versions.write_environment(_design(), "sales", tmp_path, "postgresql",
                                   "postgresql://app@db/erp\n[alembic]\nscript_location = /tmp/elsewhere")
    url = "postgresql://app@db/erp%2Dx"  # '%' must survive configparser's interpolation
    folder = versions.write_environment(_design(), "sales", tmp_path, "postgresql", url)
    assert versions.config(folder).get_main_option("sqlalchemy.url") == url


# -- SQL scripts ----------------------------------------------------------------------------------------------------

def test_names_cannot_end_a_sql_comment(tmp_path: Path) -> None:
    """The SQLite DDL of the service with hostile names runs as a script next to a canary table:
    the canary survives, and the tables created are exactly the design's, names intact."""
    d = _design()
    d.services["sales"].references[0].referred_table = "customers\nDROP TABLE canary; --"
    text = script(d, "sales", "sqlite")
    header = text.split("\n\n")[0].splitlines()
    assert all(line.startswith("--") for line in header) and "DROP TABLE canary" in header[2]
    conn = sqlite3.connect(tmp_path / "sales.sqlite")
    conn.execute("CREATE TABLE canary (x)")
    conn.executescript(text)
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert names == {"canary", HOSTILE_TABLE} | {t.table.name for t in d.services["sales"].tables}
    columns = {r[1] for r in conn.execute(f"PRAGMA table_info(\"{HOSTILE_TABLE.replace(chr(34), chr(34) * 2)}\")")}
    assert HOSTILE_COLUMN in columns
    conn.close()


# -- Markdown and HTML ----------------------------------------------------------------------------------------------

def _rendered(markdown: str) -> str:
    """Markdown as the report pages render it (nbconvert's mistune, raw HTML passed through)."""
    return markdown2html_mistune(markdown)


def _assert_inert(markdown: str) -> None:
    page = _rendered(markdown)
    assert "<script" not in page and "<img" not in page and "onerror=" not in page.replace("onerror=alert", "")


def test_design_and_plan_markdown_show_names_as_text(tmp_path: Path) -> None:
    d = _design()
    d.notes.append(f"view {HOSTILE_TABLE} reads only sales")
    folder = tmp_path / "design"
    write_design(d, folder, ["postgresql"])
    for name in ("README.md", "catalog.md", "sagas.md"):
        _assert_inert((folder / name).read_text(encoding="utf-8"))
    readme = html.unescape(re.sub(r"<[^>]+>", "", _rendered((folder / "README.md").read_text(encoding="utf-8"))))
    assert PAYLOAD in readme  # shown, as text
    plan = make_plan(d)
    plan.waves[0].steps.append(f"copy {HOSTILE_TABLE}")
    _assert_inert(summary(plan))


@pytest.mark.parametrize("text", [PAYLOAD, HOSTILE_TABLE, "``` \n<b>x</b>\n```", "[link](javascript:alert(1))",
                                  "a_b_*c*", "\\<script>"])
def test_markdown_helpers_keep_text_text(text: str) -> None:
    for md in (md_text(text), md_code(text), md_fence(text, "sql")):
        page = _rendered(md)
        assert "<script" not in page and "<img" not in page and "<b>" not in page and "<a " not in page, (md, page)
    shown = html.unescape(re.sub(r"<[^>]+>", "", _rendered(md_text(text)))).strip()
    assert shown == " ".join(text.split())


def test_notebooks_escape_what_they_show_as_markdown() -> None:
    """Every Markdown output of the stage notebooks that quotes names goes through the escapers."""
    root = Path(__file__).resolve().parent.parent / "notebooks"
    for path in sorted(root.glob("*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            source = "".join(cell["source"])
            if cell["cell_type"] != "code" or "Markdown(" not in source:
                continue
            for expr in re.findall(r"\{([^{}:!]+)(?:![rs])?\}", source):
                expr = expr.strip()
                plain = expr.startswith(("md_", "len(", "w.number", "w.points", "i", "versions.BASELINE", "rel",
                                         "readme", "links", "os.path.relpath", "d"))
                assert plain, (path.name, expr)


def test_report_page_shows_names_as_text() -> None:
    """A stage page (nbconvert, as the report exports it) with a name in a Markdown output, a table
    and a printed line: the payload is text on the page, never an element."""
    import nbformat
    import pandas as pd

    from workbench.reporting.notebooks import export_html

    frame = pd.DataFrame({"table": [HOSTILE_TABLE], "service": ["sales"]})
    cell = nbformat.v4.new_code_cell("x", outputs=[
        nbformat.v4.new_output("display_data", {
            "text/markdown": f"- **{md_text(HOSTILE_TABLE)}** ({md_code(PAYLOAD)})\n\n{md_fence(PAYLOAD, 'sql')}"}),
        nbformat.v4.new_output("execute_result", {"text/html": frame.to_html(), "text/plain": str(frame)},
                               execution_count=1),
        nbformat.v4.new_output("stream", name="stdout", text=PAYLOAD + "\n"),
    ])
    page = export_html(nbformat.v4.new_notebook(cells=[cell]), "stage")
    assert PAYLOAD not in page and "<img src=x" not in page and 'alert("x")</script>' not in page
    assert page.count("&lt;script&gt;alert(") >= 3
