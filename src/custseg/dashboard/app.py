"""The segment explorer (`custseg dashboard`): the entry Streamlit runs on every interaction.

It reads the MLflow store (`CUSTSEG_TRACKING_URI`); each page (a script in `screens/`) lets the
reader pick a run by data, feature set, algorithm and date in the sidebar (`shell`) and lays it
out (`views`). The run and the page live in the address (`/customer?run=ID&customer=C`), so a
view can be bookmarked and shared.
"""

from __future__ import annotations

import streamlit as st

SCREENS = [  # script, title, url path: the first is the landing page
    ("screens/segments.py", "Segments", "segments"),
    ("screens/map.py", "Segment map", "map"),
    ("screens/rules.py", "Rules", "rules"),
    ("screens/customer.py", "Customer lookup", "customer"),
    ("screens/downloads.py", "Downloads", "downloads"),
    ("screens/compare.py", "Compare runs", "compare"),
]


def main() -> None:
    st.set_page_config(page_title="custseg explorer", layout="wide")
    pages = [st.Page(script, title=title, url_path=path, default=i == 0)
             for i, (script, title, path) in enumerate(SCREENS)]  # fmt: skip
    st.navigation(pages).run()


if __name__ == "__main__":  # how Streamlit runs this file
    main()
