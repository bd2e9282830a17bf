"""The segment explorer for the marketing team (`custseg dashboard`): a Streamlit app over the
MLflow store. `tables` builds what the pages show, `data` reads and caches runs, `views` lays
out each page and `app` is the entry Streamlit runs."""
