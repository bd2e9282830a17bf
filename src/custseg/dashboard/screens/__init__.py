"""The explorer's page scripts (Streamlit runs each as a file; `app.SCREENS` lists them)."""
