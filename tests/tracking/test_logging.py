"""What reaches MLflow and exported files: no passwords, no spreadsheet formulas."""

from __future__ import annotations

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from custseg.redact import redact
from custseg.tracking.run import csv_safe, flatten
from tests.conftest import make_config, run_logged


def test_redact_hides_passwords_in_uris_only():
    assert redact("http://ann:s3cret@host:5000/x") == "http://ann:***@host:5000/x"
    assert redact("postgresql+psycopg2://u:p@db/m") == "postgresql+psycopg2://u:***@db/m"
    assert redact("sqlite:///mlflow.db") == "sqlite:///mlflow.db"
    assert redact("a:b@c") == "a:b@c"  # not a URI
    assert redact("http://:token@host/x") == "http://:***@host/x"  # no user, a token
    assert redact("postgresql://u:p@ss@db/m") == "postgresql://u:***@db/m"  # '@' in a password
    flat = flatten({"tracking": {"uri": "https://me:pw@mlflow.example:443"}})
    assert flat["tracking.uri"] == "https://me:***@mlflow.example:443"


def test_csv_export_neutralises_formulas_but_keeps_numbers_and_labels():
    df = pd.DataFrame({"name": ["=HYPERLINK(\"x\")", "+1+1", "@SUM(A1)", "-2+3", "ok", None],
                       "label": ["-1", "0", "1", "2", "3", "4"],
                       "value": [-1.0, 2.0, 3.0, 4.0, 5.0, 6.0]})  # fmt: skip
    safe = csv_safe(df)
    assert safe["name"].tolist()[:5] == ['\'=HYPERLINK("x")', "'+1+1", "'@SUM(A1)", "'-2+3", "ok"]
    assert safe["label"].tolist() == df["label"].tolist()
    assert safe["value"].tolist() == df["value"].tolist()
    assert df["name"][0].startswith("=")  # the caller's frame is untouched


@pytest.mark.slow
def test_credentials_in_config_never_reach_params_tags_or_config_artifact(tracking_uri, tmp_path):
    secret = "http://analyst:hunter2@warehouse.example/export"
    cfg = make_config(f"tracking.uri={tracking_uri}", "data.generator.n_rows=20000",
                      f"run_name='from {secret}'", "report=none", "rules=none")  # fmt: skip
    result = run_logged(cfg, tmp_path)
    r = MlflowClient(tracking_uri).get_run(result.run_id)
    assert r.data.params["run_name"] == "from http://analyst:***@warehouse.example/export"
    assert r.info.run_name == r.data.params["run_name"]
    assert not any("hunter2" in v for v in [*r.data.params.values(), *r.data.tags.values()])
    assert "hunter2" not in (tmp_path / "config.yaml").read_text()
