"""How fast the explorer opens a run, in a real browser:
`python bench/bench_dashboard.py --store URI --run ID [--run ID ...] [--no-write]`.

Starts `custseg dashboard` over the store (as a user does), then for each run opens every page
in headless Debian chromium (Selenium with chromium-driver) and times from the request to the
page showing its content with the app idle: first the cold open (the run's tables fetched from
the artifact store and parsed), then the same page again (cached per run). The server's very
first page (Python importing Streamlit, MLflow and custseg in the fresh process) is timed
apart, before any run is opened. Appends to bench/RESULTS.md.
"""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import date

from results import parser, publish  # bench/results.py, beside this script
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

from custseg.tracking.explore import run_info, table

PAGES = {  # page (its address; the landing page is /) -> what it shows once it is done
    "": "Personas and what to do",
    "map": "Feature profiles",
    "rules": "Segments buy differently",
    "customer": "Recommendations",
    "downloads": "as CSV",
}


def browser() -> webdriver.Chrome:
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1100"):
        options.add_argument(flag)
    os.environ.setdefault("SE_OFFLINE", "true")
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def opened(b: webdriver.Chrome, url: str, expect: str, timeout: float = 300) -> float:
    """Seconds from asking for `url` to `expect` shown with the app idle."""
    t0 = time.perf_counter()
    b.get(url)
    while time.perf_counter() - t0 < timeout:
        text = b.find_element("tag name", "body").text
        busy = b.find_elements("css selector", '[data-testid="stStatusWidget"]')
        if expect in text and not busy:
            return time.perf_counter() - t0
        time.sleep(0.1)
    raise TimeoutError(f"{url}: {expect!r} not shown in {timeout} s")


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument("--store", required=True, help="tracking URI of the runs")
    ap.add_argument("--run", action="append", required=True, help="run id (repeat for more)")
    args = ap.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "custseg", "dashboard", "--tracking-uri",
                               args.store, "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{base}/_stcore/health", timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    lines = [
        f"\n## Dashboard, {date.today()} (`python bench/bench_dashboard.py`)\n",
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        "headless chromium via Selenium; seconds from the request to the page's content with "
        "the app idle. Cold: the first open after the server started (tables fetched and "
        "parsed); warm: the same page again (cached per run).\n",
        "| run | customers | page | cold s | warm s |",
        "| --- | ---: | --- | ---: | ---: |",
    ]
    b = browser()
    try:
        first = opened(b, f"{base}/?run=none", "no run 'none'")
        lines.insert(2, f"The server's first page (imports in a fresh process): {first:.2f} s.\n")
        print(lines[2], flush=True)
        for run_id in args.run:
            info = run_info(args.store, run_id)
            customers = int(info.metrics.get("n_customers", 0))
            who = str(table(args.store, run_id, "recommendations", ["customer_id"])
                      ["customer_id"].iloc[0])  # fmt: skip
            for page, expect in PAGES.items():
                extra = f"&customer={who}" if page == "customer" else ""
                url = f"{base}/{page}?run={run_id}{extra}"
                cold, warm = opened(b, url, expect), opened(b, url, expect)
                lines.append(f"| {info.run_name} | {customers:,} | {page or 'segments'} | "
                             f"{cold:.2f} | {warm:.2f} |")  # fmt: skip
                print(lines[-1], flush=True)
    finally:
        b.quit()
        server.terminate()
        server.wait(timeout=30)
    publish(lines, write=not args.no_write)


if __name__ == "__main__":
    main()
