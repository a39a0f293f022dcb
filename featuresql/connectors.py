"""Flink connector and format jars: pinned, checksummed, fetched once into a cache.

The PyPI wheel of apache-flink ships the filesystem connector but no formats:
Parquet needs `flink-sql-parquet` plus Hadoop's client classes (shaded jars,
no Hadoop install). Each jar is pinned by version and SHA-256; a download that
does not match is discarded.

Where jars come from, in order: `FEATURESQL_MAVEN_REPO` (a mirror), the
mirrors in the machine's Maven settings (`~/.m2/settings.xml`), Maven Central.
Where they go: `FEATURESQL_JAR_CACHE`, else `~/.cache/featuresql/jars`.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import urllib.request
import uuid
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

from featuresql.diagnostics import FeaturesqlError

MAVEN_CENTRAL = "https://repo1.maven.org/maven2"


@dataclass(frozen=True)
class Jar:
    """One pinned Maven artifact."""

    group: str
    artifact: str
    version: str
    sha256: str
    purpose: str

    @property
    def filename(self) -> str:
        return f"{self.artifact}-{self.version}.jar"

    @property
    def repository_path(self) -> str:
        return f"{self.group.replace('.', '/')}/{self.artifact}/{self.version}/{self.filename}"

    @property
    def coordinates(self) -> str:
        return f"{self.group}:{self.artifact}:{self.version}"


#: Every jar a generated Flink job may need, by the name catalogs and engines use.
JARS: dict[str, tuple[Jar, ...]] = {
    "parquet": (
        Jar("org.apache.flink", "flink-sql-parquet", "2.3.0",
            "f30617f4a5a6d437750f155ff72178ab34439aec91df64d96621c260559ba5fd", "Parquet format for Flink SQL"),
        # flink-sql-parquet needs org.apache.hadoop.conf.Configuration at plan time.
        Jar("org.apache.hadoop", "hadoop-client-api", "3.3.6",
            "f3d2347a6e1c6885d5bcfd4f60c3ac3810ec11068fc161e04329baabf412d963", "Hadoop classes for Parquet (shaded API)"),
        Jar("org.apache.hadoop", "hadoop-client-runtime", "3.3.6",
            "15f01bc804294df06d2effc87de363a83cf589f50558bdbf48f72541ad8de854", "Hadoop classes for Parquet (shaded runtime)"),
    ),
    "kafka": (
        # Built for Flink 2.2, the newest Flink with a released Kafka connector; it runs on
        # Flink 2.3.0 (tests/test_kafka.py). It shades kafka-clients 4.2.0. 10,666,527 bytes.
        Jar("org.apache.flink", "flink-sql-connector-kafka", "5.0.0-2.2",
            "5605c691d11a501382c383fecba37a7a552467da5ab7ba904ef5d6f3d62c5616", "Kafka source and sinks for Flink SQL"),
    ),
}


def cache_dir() -> Path:
    configured = os.environ.get("FEATURESQL_JAR_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "featuresql" / "jars"


def repositories() -> list[str]:
    """Repositories to try, mirrors first."""
    found: list[str] = []
    if os.environ.get("FEATURESQL_MAVEN_REPO"):
        found.append(os.environ["FEATURESQL_MAVEN_REPO"].rstrip("/"))
    settings = Path.home() / ".m2" / "settings.xml"
    if settings.is_file():
        try:
            root = ElementTree.parse(settings).getroot()
        except ElementTree.ParseError:
            root = None
        if root is not None:
            for element in root.iter():
                if element.tag.endswith("mirror"):
                    url = next((c.text for c in element if c.tag.endswith("url") and c.text), None)
                    if url:
                        found.append(url.strip().rstrip("/"))
    found.append(MAVEN_CENTRAL)
    return list(dict.fromkeys(found))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def is_cached(jar: Jar) -> bool:
    path = cache_dir() / jar.filename
    return path.is_file() and _sha256(path) == jar.sha256


def ensure(jar: Jar) -> Path:
    """The jar's path in the cache, downloading and verifying it first if needed."""
    target = cache_dir() / jar.filename
    if target.is_file() and _sha256(target) == jar.sha256:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    errors = []
    for repository in repositories():
        url = f"{repository}/{jar.repository_path}"
        partial = target.with_name(f".{jar.filename}.{uuid.uuid4().hex}.part")
        try:
            with urllib.request.urlopen(url, timeout=60) as response, partial.open("wb") as out:
                while block := response.read(1 << 20):
                    out.write(block)
            actual = _sha256(partial)
            if actual != jar.sha256:
                errors.append(f"{url}: checksum {actual} is not the pinned {jar.sha256}")
                continue
            partial.replace(target)  # atomic: the cache never holds half a jar
            return target
        except (OSError, ValueError, http.client.HTTPException) as err:  # ValueError: a mirror URL without a scheme
            errors.append(f"{url}: {err}")
        finally:
            partial.unlink(missing_ok=True)
    raise FeaturesqlError(
        f"missing jar {jar.coordinates} ({jar.purpose}) and it could not be fetched:\n  "
        + "\n  ".join(errors)
        + f"\nDownload it to {target}, or set FEATURESQL_MAVEN_REPO to a Maven mirror."
    )


def jars_for(*features: str) -> list[Path]:
    """Every jar that the named capabilities need, fetched if missing."""
    return [ensure(jar) for feature in features for jar in JARS[feature]]
