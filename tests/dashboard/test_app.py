"""The explorer on real logged runs: every page driven with Streamlit's own AppTest (filters
change the tables, figures match the logged tables, bad input is a message in the page), then
`custseg dashboard` started as a user starts it and read by a real headless chromium.

One store for the whole file: run A (demo, value stage, offers by expected value) and run B
(RFM features, rules switched off, four segments): B is both the run without rules and A's
comparison.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score
from streamlit.testing.v1 import AppTest

from custseg.dashboard.launch import APP, ENV
from custseg.tracking.explore import table as logged_table
from tests.conftest import clean_env, free_port, make_config, run_logged, wait_until_up

pytestmark = pytest.mark.slow
SMALL = "data.generator.n_rows=20000"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("dashboard")
    uri = f"sqlite:///{tmp / 'mlflow.db'}"
    a = run_logged(make_config(f"tracking.uri={uri}", SMALL, "value=bgnbd",
                               "recommend.rank_by=expected_value"), tmp / "a")  # fmt: skip
    b = run_logged(make_config(f"tracking.uri={uri}", SMALL, "rules=none", "recommend=none",
                               "features=rfm", "segment.n_clusters=4", "report=none"),
                   tmp / "b")  # fmt: skip
    return {"uri": uri, "a": a.run_id, "b": b.run_id}


@pytest.fixture
def app(store: dict[str, str], monkeypatch: pytest.MonkeyPatch):
    """AppTest over the store, opened on run A unless a test changes the address."""
    monkeypatch.setenv(ENV, store["uri"])
    monkeypatch.setenv("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

    def open_page(page: str = "segments", **params: str) -> AppTest:
        at = AppTest.from_file(str(APP), default_timeout=120)
        at.query_params.update({"run": store["a"], **params})
        at.run()
        if page != "segments":
            at.switch_page(f"screens/{page}.py").run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    return open_page


def _personas(store: dict[str, str], run: str = "a") -> pd.DataFrame:
    return logged_table(store["uri"], store[run], "personas")


def _text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [t.value.to_string() for t in at.table]
    parts += [h.value for h in at.header] + [s.value for s in at.subheader]
    return "\n".join(str(p) for p in parts)


def test_the_segments_page_shows_every_persona_with_its_size_share_and_actions(store, app):
    at = app()
    assert not at.error
    overview = at.table[0].value
    personas = _personas(store)
    assert overview["persona"].tolist() == personas["name"].tolist()
    summary = logged_table(store["uri"], store["a"], "profile_summary")
    assert [int(c) for c in overview["customers"]] == summary["customers"].iloc[:-1].tolist()
    assert {"future value share", "likely lapsed", "stability", "top offer", "actions"} <= set(
        overview.columns)  # fmt: skip
    assert [m.label for m in at.metric][:2] == ["customers", "segments"]
    first_action = str(personas["actions"].iloc[0]).split("; ")[0]
    assert first_action in _text(at)


def test_the_sidebar_filters_narrow_the_runs_to_pick_from(store, monkeypatch):
    monkeypatch.setenv(ENV, store["uri"])
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    runs = next(s for s in at.selectbox if s.label == "run")
    assert len(runs.options) == 2 and {store["a"][:8], store["b"][:8]} == {
        o.rsplit(" · ", 1)[1] for o in runs.options}  # fmt: skip
    features = next(s for s in at.selectbox if s.label == "features")
    assert set(features.options) == {"any", "rfm", "value_quantity"}
    features.set_value("rfm").run()
    runs = next(s for s in at.selectbox if s.label == "run")
    assert len(runs.options) == 1 and store["b"][:8] in runs.options[0]
    assert at.header[0].value == "Segments" and not at.exception


def test_the_chosen_run_stays_chosen_from_page_to_page_and_in_the_address(store, monkeypatch):
    monkeypatch.setenv(ENV, store["uri"])
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    next(s for s in at.selectbox if s.label == "run").set_value(store["b"]).run()
    assert at.query_params["run"] == [store["b"]] or at.query_params["run"] == store["b"]
    at.switch_page("screens/rules.py").run()  # B has no rules: the page says so
    assert "no association rules" in at.warning[0].value
    assert store["b"] in at.caption[0].value  # the heading's run line


def test_the_map_projects_every_customer_labelled_by_persona(store, app):
    at = app("map")
    assert not at.error and at.header[0].value == "Segment map"
    profile = at.table[0].value
    names = _personas(store)["name"].tolist()
    assert all(any(n in str(i) for i in profile.index) for n in names)


def test_rule_filters_change_the_table_and_segments_show_their_partners(store, app):
    at = app("rules")
    def counts() -> list[int]:  # the "N of M rules" caption
        said = next(c.value for c in at.caption if c.value.endswith(" rules"))
        return [int(w.replace(",", "")) for w in said.split()[:3:2]]

    every = counts()[1]
    shown = lambda: counts()[0]  # noqa: E731
    at.slider[0].set_value(1.0).run()  # lift at least 1
    lifted = shown()
    at.slider[0].set_value(3.0).run()
    assert shown() < lifted <= every
    rules = logged_table(store["uri"], store["a"], "rules_all")
    assert shown() == int(((rules["lift"] >= 3.0)).sum())
    item = str(rules.sort_values("lift").iloc[-1]["antecedent"][0])
    at.text_input(key="rules_item").set_value(item).run()
    assert 0 < shown() <= int((rules["lift"] >= 3.0).sum())
    products = logged_table(store["uri"], store["a"], "products")
    name = products.loc[products["product_id"].astype(str) == item, "product_name"].item()
    assert at.dataframe[0].value["antecedent"].str.contains(f"{name} ({item})", regex=False).any()
    at.text_input(key="partners_item").set_value(item).run()
    side = at.table[-1].value
    assert "all customers" in side.columns and side.shape[1] >= 2  # overall and a segment
    at.text_input(key="partners_item").set_value(name.lower()).run()  # by name, any case
    assert at.table[-1].value.equals(side)


def test_a_customer_lookup_shows_segment_persona_value_and_offers_with_reasons(store, app):
    recs = logged_table(store["uri"], store["a"], "recommendations")
    customer = str(recs["customer_id"].iloc[0])
    at = app("customer", customer=customer)
    assert not at.error and not at.warning
    segments = logged_table(store["uri"], store["a"], "segments")
    seg = int(segments.loc[segments.index.astype(str) == customer, "segment"].iloc[0])
    personas = _personas(store)
    persona = personas["name"][personas.index.astype(str) == str(seg)].item()
    assert persona in at.subheader[0].value
    history, offers = at.table[0].value, at.table[-1].value
    assert "p_alive" in history.index and "clv" in history.index
    mine = recs[recs["customer_id"].astype(str) == customer].sort_values("rank")
    assert offers["item"].tolist() == mine["item"].astype(str).tolist()
    assert offers["reason"].tolist() == mine["reason"].astype(str).tolist()
    products = logged_table(store["uri"], store["a"], "products").set_index("product_id")
    assert offers["product"].tolist() == products.loc[mine["item"].astype(str),
                                                      "product_name"].tolist()  # fmt: skip


def test_an_unknown_customer_is_said_in_the_page(app):
    at = app("customer", customer="no-such-customer")
    assert "No customer 'no-such-customer'" in at.warning[0].value


def test_the_download_is_the_segments_customers_with_their_offers(store, app):
    at = app("downloads")
    button = at.get("download_button")[0]
    assert button.proto.label.startswith("download segment 0")
    segments = logged_table(store["uri"], store["a"], "segments")
    listing = at.dataframe[0].value
    assert set(listing["customer_id"].astype(str)) <= set(
        segments.index[segments["segment"] == 0].astype(str))  # fmt: skip
    said = [c.value for c in at.caption if "customers in" in c.value]
    assert said and said[0].startswith(f"{(segments['segment'] == 0).sum():,} customers")


def test_compare_aligns_two_runs_with_the_ari_of_their_logged_segments(store, app):
    at = app("compare", runs=f"{store['a']},{store['b']}")
    assert not at.error
    a = logged_table(store["uri"], store["a"], "segments")["segment"]
    b = logged_table(store["uri"], store["b"], "segments")["segment"]
    ari = adjusted_rand_score(a.sort_index(), b.reindex(a.sort_index().index))
    said = [m.value for m in at.markdown if "adjusted Rand index" in m.value]
    assert said and f"{ari:.3f}" in said[0]
    became = at.table[1].value
    assert len(became) == a.nunique()


def test_a_run_without_rules_says_so(store, app):
    at = app("rules", run=store["b"])
    assert "no association rules" in at.warning[0].value


def test_a_run_id_that_does_not_exist_is_a_message_not_a_traceback(app):
    at = app("segments", run="0123456789abcdef")
    assert "no run '0123456789abcdef'" in at.error[0].value
    assert not at.exception


def test_a_store_that_is_not_there_is_a_message_and_is_not_created(tmp_path, monkeypatch):
    missing = tmp_path / "nowhere" / "mlflow.db"
    monkeypatch.setenv(ENV, f"sqlite:///{missing}")
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception
    assert "no MLflow store at" in at.error[0].value and not missing.exists()


# -- the real thing: `custseg dashboard` in a real browser ------------------------------------
SHOTS = os.environ.get("CUSTSEG_SCREENSHOTS")  # CI keeps the screenshots; the README shows them


def _browser():
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true: Debian's chromium and chromium-driver must be installed")
        pytest.skip("Debian's chromium and chromium-driver are not installed")
    options = Options()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1100"):
        options.add_argument(flag)
    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager never downloads anything
    return webdriver.Chrome(service=Service(driver), options=options)


def _read(browser, url: str, expect: list[str], timeout: float = 90) -> str:
    """The page's visible text once every expected string is in it and the app is idle."""
    browser.get(url)
    deadline, text = time.time() + timeout, ""
    while time.time() < deadline:
        text = browser.find_element("tag name", "body").text
        running = browser.find_elements("css selector", '[data-testid="stStatusWidget"]')
        if all(e in text for e in expect) and not running:
            return text
        time.sleep(0.5)
    raise AssertionError(f"{url}: {[e for e in expect if e not in text]} not shown in "
                         f"{timeout} s; the page said: {text[:1500]}")  # fmt: skip


def test_custseg_dashboard_serves_every_page_to_a_real_browser(store, tmp_path):
    browser = _browser()
    port = free_port()
    log = tmp_path / "dashboard.log"
    with open(log, "w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "custseg", "dashboard", "--tracking-uri", store["uri"],
             "--port", str(port)], env=clean_env(), stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    shots = Path(SHOTS) if SHOTS else tmp_path / "shots"
    shots.mkdir(parents=True, exist_ok=True)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/_stcore/health", server, log=log)
        base, run = f"http://127.0.0.1:{port}", store["a"]
        names = _personas(store)["name"].tolist()
        recs = logged_table(store["uri"], run, "recommendations")
        customer = str(recs["customer_id"].iloc[0])
        first = recs[recs["customer_id"].astype(str) == customer].sort_values("rank")
        pages = {
            "segments": (f"/?run={run}", ["Personas and what to do", *names]),
            "map": (f"/map?run={run}", ["Feature profiles", names[0]]),
            "rules": (f"/rules?run={run}", ["Segments buy differently", "rules"]),
            "customer": (f"/customer?run={run}&customer={customer}",
                         ["Recommendations", str(first["item"].iloc[0]),
                          str(first["reason"].iloc[0])]),
            "downloads": (f"/downloads?run={run}", ["download segment 0 as CSV"]),
            "compare": (f"/compare?runs={run},{store['b']}", ["adjusted Rand index"]),
        }  # fmt: skip
        for name, (path, expect) in pages.items():
            text = _read(browser, base + path, expect)
            assert "Traceback" not in text and "Page not found" not in text, name
            browser.save_screenshot(str(shots / f"dashboard_{name}.png"))
        bad = _read(browser, f"{base}/?run=0123456789abcdef", ["no run"])
        assert "Traceback" not in bad
        assert all((shots / f"dashboard_{n}.png").stat().st_size > 10_000 for n in pages)
    finally:
        browser.quit()
        server.terminate()
        server.wait(timeout=30)
    assert server.returncode == 0, log.read_text()[-2000:]


def test_the_command_refuses_a_tracking_uri_mlflow_cannot_open(tmp_path):
    done = subprocess.run([sys.executable, "-m", "custseg", "dashboard", "--port",
                           str(free_port()), "--tracking-uri", "mlflow.db"], env=clean_env(),
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "--tracking-uri mlflow.db" in done.stderr and "sqlite:///" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "mlruns").exists()


def test_the_command_refuses_a_port_in_use_naming_it(store):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "custseg", "dashboard", "--port", str(port),
                               "--tracking-uri", store["uri"]], env=clean_env(),
                              capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 2
    assert f"--port {port}" in done.stderr and "Traceback" not in done.stderr
