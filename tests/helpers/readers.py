"""Helpers for the ``imports`` tests: sample paths, a small camt builder, the FinTS fake bank.

The FinTS fake bank is python-fints' own test server. It ships only in the package's *source*
distribution (LGPL), so it is downloaded at test time with pip, cached under
``~/.cache/valitystili-tests/``, and its ``tests/conftest.py`` is loaded from there, never copied
into this repository. When it cannot be had, the tests that need it skip with the reason -- or
fail, on CI (``CI=true``), where a silent skip would hide a missing end-to-end test.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import subprocess
import sys
import tarfile
import tempfile
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples" / "bank"
SAMPLE_053 = SAMPLES / "finance-finland-content_053.xml"
SAMPLE_054 = SAMPLES / "finance-finland-content_054.xml"

NS053 = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"
NS054 = "urn:iso:std:iso:20022:tech:xsd:camt.054.001.02"
IBAN = "FI7433010001222090"


def sample(path: Path) -> Path:
    """A shared sample file; missing samples skip locally and fail on CI."""
    if not path.exists():
        message = f"sample {path} is missing (shared/ should sit beside the repository)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return path


# --- a small camt.053 builder ------------------------------------------------------------------


def ntry(
    amount: str = "10.00",
    *,
    indicator: str = "CRDT",
    status: str = "BOOK",
    archive_id: str | None = "ARCH1",
    booked: str = "2026-11-23",
    currency: str = "EUR",
    details: str = "",
) -> str:
    """One ``Ntry`` element as text."""
    archive = f"<AcctSvcrRef>{archive_id}</AcctSvcrRef>" if archive_id is not None else ""
    return (
        f'<Ntry><Amt Ccy="{currency}">{amount}</Amt><CdtDbtInd>{indicator}</CdtDbtInd>'
        f"<Sts>{status}</Sts><BookgDt><Dt>{booked}</Dt></BookgDt><ValDt><Dt>{booked}</Dt></ValDt>"
        f"{archive}{details}</Ntry>"
    )


def reference_details(amount: str, reference: str, archive_id: str, payer: str) -> str:
    """An ``NtryDtls`` with one Finnish-reference credit, as banks send on camt.054."""
    return (
        "<NtryDtls><TxDtls>"
        f"<Refs><AcctSvcrRef>{archive_id}</AcctSvcrRef></Refs>"
        f'<AmtDtls><TxAmt><Amt Ccy="EUR">{amount}</Amt></TxAmt></AmtDtls>'
        f"<RltdPties><Dbtr><Nm>{payer}</Nm></Dbtr></RltdPties>"
        "<RmtInf><Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp>"
        f"<Ref>{reference}</Ref></CdtrRefInf></Strd></RmtInf>"
        "</TxDtls></NtryDtls>"
    )


def camt053(
    entries: str,
    *,
    namespace: str = NS053,
    statement_id: str = "STMT1",
    opening: str = "0.00",
    closing: str = "0.00",
    prolog: str = '<?xml version="1.0" encoding="UTF-8"?>\n',
) -> str:
    """A camt.053 document with one statement around the given ``Ntry`` texts."""
    return (
        f'{prolog}<Document xmlns="{namespace}"><BkToCstmrStmt>'
        "<GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-11-23T06:00:00+02:00</CreDtTm></GrpHdr>"
        f"<Stmt><Id>{statement_id}</Id><CreDtTm>2026-11-23T06:00:00+02:00</CreDtTm>"
        f"<Acct><Id><IBAN>{IBAN}</IBAN></Id><Ccy>EUR</Ccy></Acct>"
        f"{balance('OPBD', opening)}{balance('CLBD', closing)}"
        f"{entries}</Stmt></BkToCstmrStmt></Document>\n"
    )


def balance(code: str, amount: str, indicator: str = "CRDT", on: str = "2026-11-23") -> str:
    return (
        f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>"
        f'<Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>{indicator}</CdtDbtInd><Dt><Dt>{on}</Dt></Dt></Bal>'
    )


def write(tmp_path: Path, filename: str, text: str | bytes) -> Path:
    path = tmp_path / filename
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


# --- the FinTS fake bank -----------------------------------------------------------------------

CACHE = Path.home() / ".cache" / "valitystili-tests"


class FakeBankUnavailable(Exception):
    """The python-fints source distribution could not be downloaded or read."""


def fints_version() -> str:
    return importlib.metadata.version("fints")


def fake_bank_conftest() -> Path:
    """Path of python-fints' ``tests/conftest.py`` for the installed version, downloading once."""
    version = fints_version()
    target = CACHE / f"fints-{version}" / "conftest.py"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        command = [
            sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
            "--disable-pip-version-check", "--quiet", "-d", scratch, f"fints=={version}",
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise FakeBankUnavailable(f"pip download of fints=={version} failed: {exc}") from exc
        if done.returncode != 0:
            tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise FakeBankUnavailable(f"pip download of fints=={version} failed: {tail}")
        archives = sorted(Path(scratch).glob("fints-*.tar.gz"))
        if not archives:
            raise FakeBankUnavailable(f"pip download of fints=={version} gave no source archive")
        content = _conftest_from_sdist(archives[0])
        staged = Path(scratch) / "conftest.py"
        staged.write_bytes(content)
        # Atomic, so parallel or interrupted runs never see half a file.
        os.replace(staged, target)
    return target


def _conftest_from_sdist(archive: Path) -> bytes:
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar.getmembers():
                parts = member.name.split("/")
                # Read the one member by name; nothing is extracted to disk by tarfile.
                if member.isfile() and parts[1:] == ["tests", "conftest.py"]:
                    extracted = tar.extractfile(member)
                    if extracted is not None:
                        return extracted.read()
    except (OSError, tarfile.TarError) as exc:
        raise FakeBankUnavailable(f"cannot read {archive.name}: {exc}") from exc
    raise FakeBankUnavailable(f"{archive.name} has no tests/conftest.py")


def load_fake_bank() -> ModuleType:
    """python-fints' test conftest as a module (it defines the ``fints_server`` fixture)."""
    path = fake_bank_conftest()
    spec = importlib.util.spec_from_file_location("fints_sdist_conftest", path)
    if spec is None or spec.loader is None:
        raise FakeBankUnavailable(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    with warnings.catch_warnings():
        # Its source has an invalid escape sequence in a bytes literal; not ours to fix.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", SyntaxWarning)
        spec.loader.exec_module(module)
    return module


def fints_server_fixture() -> Any:
    """The fake bank's session fixture, or a stand-in that skips (fails on CI) with the reason."""
    try:
        return load_fake_bank().fints_server
    except FakeBankUnavailable as exc:
        reason = f"FinTS fake bank unavailable: {exc}"

    @pytest.fixture(scope="session")
    def fints_server() -> str:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)

    return fints_server
