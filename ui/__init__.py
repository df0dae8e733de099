"""The Streamlit app (``streamlit run ui/app.py``). Business logic lives in ``markbook``."""
