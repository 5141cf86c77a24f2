"""Only the project URLs are computed here; all other metadata is static, in pyproject.toml.

The address comes from _config.yml's `repository.url` (scripts/repo_address.py reads it), the one
place it is set. While it is a placeholder, the package metadata carries no URL at all.
"""

import importlib.util
from pathlib import Path

from setuptools import setup

HERE = Path(__file__).resolve().parent


def project_urls() -> dict[str, str]:
    path = HERE / "scripts" / "repo_address.py"
    if not path.is_file():  # e.g. a copy of the package without the book around it
        return {}
    spec = importlib.util.spec_from_file_location("_gru_lib_repo_address", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    url = module.repository_url(HERE / "_config.yml")
    if url is None:
        return {}
    return {"Source": url, "Issues": f"{url}/issues"}


setup(project_urls=project_urls())
