"""A `.sql` file is untrusted input: `validate` runs in CI on strangers' pull requests.

Each payload here was tried against featuresql as an attacker would (issue 14):
none may run a command, read a file or an environment variable, hang, or end in
a traceback. Everything goes through the real command line (`featuresql
validate` / `compile`), and each test checks what the payload would have
done (a file written, a secret printed), not only the exit code.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import featuresql.templating as templating
from featuresql.cli import main
from helpers import EVENTS_CATALOG, GOOD_FEATURE, write_project

SECRET = "s3cr3t-9f8e7d"


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def feature_with(description: str) -> str:
    """The good feature, with `description` as its header's description (where the issue put payloads)."""
    return GOOD_FEATURE.replace("windows (1h, lifetime)", f"windows (1h, lifetime),\n  description '{description}'")


def one_line_diagnostics(result: Result) -> list[str]:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert "Traceback" not in result.output, result.output
    assert all(line.startswith("sql/") or line.endswith("error(s)") for line in lines), result.output
    return lines


def validate_and_compile(root: Path) -> str:
    """Run validate and compile on the project; return everything they printed (each must exit 1)."""
    out = []
    for args in (["validate"], ["compile", "user_stats"], ["compile", "user_stats", "--target", "flink"], ["list"]):
        result = cli(*args, "--project", str(root))
        assert "Traceback" not in result.output, result.output
        out.append(result.output)
        if args[0] != "list":
            assert result.exit_code == 1, (args, result.output)
    return "\n".join(out)


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_SECRET", SECRET)


# ---------------------------------------------------------------------------------------
# Code execution, files and the environment
# ---------------------------------------------------------------------------------------

_ESCAPES = [
    # the issue's own payloads
    "rc={{{{ cycler.__init__.__globals__.os.system(\"id > {marker}\") }}}}",
    "{{{{ lipsum.__globals__[\"os\"].popen(\"id > {marker}\").read() }}}}",
    "{{{{ joiner.__init__.__globals__.os.system(\"id > {marker}\") }}}}",
    # the classic ways out of a Jinja environment
    "{{{{ \"\".__class__.__mro__[1].__subclasses__() }}}}",
    "{{{{ ().__class__.__bases__[0].__subclasses__() }}}}",
    "{{{{ self.__init__.__globals__.__builtins__.__import__(\"os\").system(\"id > {marker}\") }}}}",
    "{{{{ self._TemplateReference__context.cycler.__init__.__globals__.os.system(\"id > {marker}\") }}}}",
    "{{{{ namespace.__init__.__globals__.os.system(\"id > {marker}\") }}}}",
    "{{{{ range.__self__.__import__(\"os\").system(\"id > {marker}\") }}}}",
    "{{{{ dict.__base__.__subclasses__() }}}}",
    "{{{{ \"\"|attr(\"__class__\") }}}}",
    "{{{{ \"{{0.__class__.__mro__}}\".format(\"\") }}}}",
    "{{{{ __builtins__[\"open\"](\"/etc/hostname\").read() }}}}",
    "{{% set x = cycler %}}{{{{ x.__init__.__globals__.os.system(\"id > {marker}\") }}}}",
    "{{% for c in [].__class__.__base__.__subclasses__() %}}{{{{ c }}}}{{% endfor %}}",
]


@pytest.mark.parametrize("payload", _ESCAPES)
def test_template_cannot_run_code_or_reach_python(tmp_path: Path, payload: str, secret_env: None) -> None:
    marker = tmp_path / "ran"
    text = feature_with(payload.format(marker=marker))
    root = write_project(tmp_path / "p", {"events": EVENTS_CATALOG}, {"f": text})
    result = cli("validate", "--project", str(root))
    assert result.exit_code == 1, result.output
    lines = one_line_diagnostics(result)
    assert any(" FS004 " in line or " FS002 " in line for line in lines), result.output
    validate_and_compile(root)
    assert not marker.exists(), "the template ran a command"


def test_template_cannot_read_environment_or_files(tmp_path: Path, secret_env: None) -> None:
    hostname = Path("/etc/hostname").read_text().strip() if Path("/etc/hostname").exists() else "no-hostname-file"
    payloads = [
        "{{ cycler.__init__.__globals__.os.environ.get(\"FAKE_SECRET\") }}",
        "{{ lipsum.__globals__[\"os\"].popen(\"cat /etc/hostname\").read() }}",
        "{{ lipsum.__globals__.os.environ }}",
        "{{ environ }}{{ env }}",
    ]
    for index, payload in enumerate(payloads):
        root = write_project(tmp_path / f"p{index}", {"events": EVENTS_CATALOG}, {"f": feature_with(payload)})
        printed = validate_and_compile(root)
        assert SECRET not in printed
        assert hostname not in printed


def test_include_serves_only_macro_files(tmp_path: Path) -> None:
    outside = tmp_path / "secret.sql"
    outside.write_text(f"-- {SECRET}\n")
    root = write_project(tmp_path / "p", {"events": EVENTS_CATALOG}, macros={"m": "{% macro one() %}1{% endmacro %}\n"})
    (root / "sql" / "macros" / "link.sql").symlink_to(outside)  # a committed symlink out of the project
    for include in ("../../../secret.sql", str(outside), "link.sql", "../features/f.sql", ".hidden.sql"):
        text = GOOD_FEATURE.replace("COUNT(*) AS events", f"COUNT(*) AS events -- {{% include '{include}' %}}")
        write_project(root, features={"f": text})
        result = cli("validate", "--project", str(root))
        assert result.exit_code == 1, (include, result.output)
        one_line_diagnostics(result)
        assert SECRET not in result.output
        assert "FS002" in result.output and "no macro file" in result.output


def test_macro_file_is_sandboxed_too(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    macro = f"{{{{ cycler.__init__.__globals__.os.system('id > {marker}') }}}}\n{{% macro m() %}}1{{% endmacro %}}\n"
    root = write_project(tmp_path / "p", {"events": EVENTS_CATALOG}, {"f": GOOD_FEATURE}, macros={"evil": macro})
    for command in ("validate", "list"):
        result = cli(command, "--project", str(root))
        assert "Traceback" not in result.output
    assert not marker.exists()
    result = cli("validate", "--project", str(root))
    assert result.exit_code == 1 and "sql/macros/evil.sql:1:1: FS004 template not allowed" in result.output


# ---------------------------------------------------------------------------------------
# --var values never reach SQL unquoted
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("spelling", [
    "{{ v.raw }}", "{{ v[1:-1] }}", "{{ v.raw[0:] }}", "{{ (v ~ '')[1:-1] }}", "{{ (v.raw ~ '')[1:-1] }}",
    "{{ (v | string)[1:-1] }}", "{{ (v | pprint)[12:-2] }}", "{{ v.sql[1:-1] }}", "{{ v._sql[1:-1] }}",
    "{{ ('%s' % v)[1:-1] }}", "{{ '{}'.format(v)[1:-1] }}", "{{ [v] | join('') }}", "{{ v | trim }}",
    "{{ v.raw | replace('x', 'x') }}", "{{ v | safe }}", "{{ v | e }}", "{{ v.raw | list | join('') }}",
])
def test_var_text_never_unquoted(tmp_path: Path, spelling: str) -> None:
    text = GOOD_FEATURE.replace("FROM events", f"FROM events WHERE action = {spelling}")
    root = write_project(tmp_path / "p", {"events": EVENTS_CATALOG}, {"f": text})
    result = cli("compile", "user_stats", "--project", str(root), "--var", "v=x' OR 1=1 --")
    assert "Traceback" not in result.output
    assert result.exit_code == 1, result.output
    assert "OR 1=1" not in result.output.replace("'x'' OR 1=1 --'", "")


def test_var_raw_in_logic_still_works(tmp_path: Path) -> None:
    text = GOOD_FEATURE.replace(
        "FROM events", "FROM events {% if mode.raw == 'clicks' %}WHERE action = 'click'{% endif %}"
    )
    root = write_project(tmp_path / "p", {"events": EVENTS_CATALOG}, {"f": text})
    clicks = cli("compile", "user_stats", "--project", str(root), "--var", "mode=clicks")
    other = cli("compile", "user_stats", "--project", str(root), "--var", "mode=all")
    assert clicks.exit_code == 0 and other.exit_code == 0, clicks.output + other.output
    assert "'click'" in clicks.output and "'click'" not in other.output


# ---------------------------------------------------------------------------------------
# Resource exhaustion: every budget ends in FS004, fast
# ---------------------------------------------------------------------------------------

_EXHAUSTION = [
    "{{ 'a' * 100000000 }}",
    "{{ [1] * 100000000 }}",
    "{{ 2 ** 100000000 }}",
    "{{ '{:>999999999}'.format(1) }}",
    "{{ '%999999999d' % 1 }}",
    "{{ 'a'.ljust(999999999) }}",
    "{{ 'a' | center(999999999) }}",
    "{{ 'a' | indent(999999999) }}",
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}",
]


@pytest.mark.parametrize("payload", _EXHAUSTION)
def test_template_budgets(tmp_path: Path, payload: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(templating, "RENDER_SECONDS", 1.0)
    root = write_project(tmp_path / "p", {"events": EVENTS_CATALOG}, {"f": feature_with(payload)})
    started = time.monotonic()
    result = cli("validate", "--project", str(root))
    assert time.monotonic() - started < 10
    assert result.exit_code == 1, result.output
    lines = one_line_diagnostics(result)
    assert any(" FS004 template not allowed" in line for line in lines), result.output


def test_recursive_macro_is_a_diagnostic(tmp_path: Path) -> None:
    text = feature_with("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}")
    root = write_project(tmp_path / "p", {"events": EVENTS_CATALOG}, {"f": text})
    result = cli("validate", "--project", str(root))
    assert result.exit_code == 1
    assert "FS002 template failed: macros call each other without end" in result.output
    one_line_diagnostics(result)


def test_budget_timer_is_restored(tmp_path: Path) -> None:
    """The render deadline uses SIGALRM: it must leave no timer or handler behind."""
    import signal

    before = signal.getsignal(signal.SIGALRM)
    root = write_project(tmp_path / "p", {"events": EVENTS_CATALOG}, {"f": feature_with("{{ 1 + 1 }}")})
    assert cli("validate", "--project", str(root)).exit_code == 0
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) is before
    assert os.environ.get("FEATURESQL_DEBUG") is None
